"""Swarm service checks on canned engine documents: what one machine cannot produce for real.

A node that is really down needs a second machine; a worker engine needs a second engine; a
service still converging and a rollback someone asked for are instants a test cannot hold.
The documents have the shapes the Engine API returns (tests/engine/test_swarm.py proves the
rest on a real swarm).
"""

from __future__ import annotations

from typing import Any

import pytest

from diagnose.collect.swarm import NewestLines, require_manager, service_suggestions, sort_tasks
from diagnose.evidence import layout
from diagnose.evidence.readings.start import essential_error
from diagnose.evidence.readings.swarm import constraint_holds, task_kind
from diagnose.evidence.service import ServiceEvidence, split_details
from diagnose.model.errors import UsageError
from diagnose.model.findings import Severity
from tests.support.evidence import make_engine, make_service, service_findings

NOW = "2026-11-27T23:00:00Z"
LOCAL = "n1aaaaaaaaaaaaaaaaaaaaaaa"
REMOTE = "n2bbbbbbbbbbbbbbbbbbbbbbb"


def node(nid: str, host: str, state: str = "ready", avail: str = "active",
         role: str = "worker", labels: dict[str, str] | None = None,
         message: str = "") -> dict[str, Any]:
    return {"ID": nid, "Spec": {"Role": role, "Availability": avail, "Labels": labels or {}},
            "Description": {"Hostname": host, "Platform": {"Architecture": "x86_64",
                                                           "OS": "linux"},
                            "Resources": {"NanoCPUs": 2_000_000_000,
                                          "MemoryBytes": 4 * 1024 ** 3}},
            "Status": {"State": state, "Message": message, "Addr": "10.0.0.1"}}


def task(tid: str, state: str, desired: str, *, slot: int | None = 1, nid: str = LOCAL,
         err: str = "", code: int | None = None, created: str = "2026-11-27T22:59:00Z",
         changed: str | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"Timestamp": changed or created, "State": state,
                              "Message": state}
    if err:
        status["Err"] = err
    if code is not None:
        status["ContainerStatus"] = {"ContainerID": f"c{tid}", "PID": 0, "ExitCode": code}
    doc = {"ID": tid, "CreatedAt": created, "UpdatedAt": changed or created, "NodeID": nid,
           "Status": status, "DesiredState": desired}
    if slot is not None:
        doc["Slot"] = slot
    return doc


def service(*, replicas: int | None = 1, update: dict[str, Any] | None = None,
            constraints: list[str] | None = None, previous: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    mode = {"Replicated": {"Replicas": replicas}} if replicas is not None else {"Global": {}}
    spec = {"Name": "web", "TaskTemplate": {
        "ContainerSpec": {"Image": "shop/web:2", "Args": ["serve"]},
        "Placement": {"Constraints": constraints} if constraints else {},
        "RestartPolicy": {"Condition": "any", "Delay": 5_000_000_000, "MaxAttempts": 0}},
        "Mode": mode,
        "UpdateConfig": {"Parallelism": 1, "FailureAction": "pause", "Monitor": 5_000_000_000,
                         "MaxFailureRatio": 0, "Order": "stop-first"}}
    doc: dict[str, Any] = {"ID": "s1ccccccccccccccccccccccc", "Spec": spec}
    if update:
        doc["UpdateStatus"] = update
    if previous:
        doc["PreviousSpec"] = previous
    return doc


def evidence(svc: dict[str, Any], tasks: list[dict[str, Any]], nodes: list[dict[str, Any]],
             logs: bytes = b"") -> ServiceEvidence:
    files = {layout.SERVICE_SPEC: svc, layout.SERVICE_TASKS: sort_tasks(tasks),
             layout.SERVICE_NODES: nodes, layout.LOG_STDOUT: logs, layout.LOG_STDERR: b""}
    info = {"Swarm": {"NodeID": LOCAL, "LocalNodeState": "active", "ControlAvailable": True}}
    return make_service("web", files=files, collected=("service", "tasks", "nodes", "logs"),
                        engine=make_engine(info, collected=("info",)), collected_at=NOW)


findings = service_findings


# -- node-down ------------------------------------------------------------------------------


def test_down_node_holding_running_tasks_is_node_down():
    nodes = [node(LOCAL, "mgr", role="manager"),
             node(REMOTE, "worker-2", state="down", message="heartbeat failure")]
    tasks = [task("t1", "running", "running", slot=1, nid=LOCAL),
             task("t2", "running", "running", slot=2, nid=REMOTE)]
    found = findings(evidence(service(replicas=2), tasks, nodes))
    assert set(found) == {"node-down"}, set(found)  # t2 still counts as running
    f = found["node-down"]
    assert f.severity == Severity.ERROR
    assert f.title == "node(s) worker-2 holding tasks of web are down"
    facts = dict(f.facts)
    assert facts["node worker-2"] == ("worker, state down, availability active (heartbeat "
                                      "failure); holds 1 task(s) of this service")
    assert any(e.ref() == "services/web/nodes.json#/1/Status/State" for e in f.evidence)
    assert "docker node inspect --pretty worker-2" in f.remediation.commands


def test_only_down_node_and_pending_replacement():
    nodes = [node(REMOTE, "worker-2", state="down")]
    tasks = [task("t1", "running", "shutdown", nid=REMOTE),
             task("t2", "pending", "running", nid="", created="2026-11-27T22:59:30Z",
                  err="no suitable node (1 node not available for new tasks)")]
    found = findings(evidence(service(), tasks, nodes))
    assert set(found) == {"node-down", "replicas-below-desired"}
    assert "no-suitable-node" not in found  # availability, not placement
    assert dict(found["replicas-below-desired"].facts)["explained by"] == "node-down"


def test_drained_node_holding_only_finished_tasks_is_not_reported():
    nodes = [node(LOCAL, "mgr"), node(REMOTE, "old", avail="drain")]
    tasks = [task("t1", "shutdown", "shutdown", nid=REMOTE),
             task("t2", "running", "running", nid=LOCAL, created="2026-11-27T22:59:30Z")]
    assert findings(evidence(service(), tasks, nodes)) == {}


def test_no_suitable_node_with_both_reasons_reports_both():
    err = ("no suitable node (scheduling constraints not satisfied on 1 node; 1 node not "
           "available for new tasks)")
    nodes = [node(LOCAL, "mgr"), node(REMOTE, "w2", avail="drain")]
    tasks = [task("t1", "pending", "running", nid="", err=err)]
    found = findings(evidence(service(constraints=["node.labels.zone==eu"]), tasks, nodes))
    assert {"no-suitable-node", "replicas-below-desired"} <= set(found)
    f = found["no-suitable-node"]
    assert dict(f.facts)["node mgr"] == "fails node.labels.zone==eu"
    assert "docker node update --label-add zone=eu mgr" in f.remediation.commands


# -- replicas and convergence ------------------------------------------------------------------


def test_a_service_still_starting_is_not_short():
    nodes = [node(LOCAL, "mgr")]
    tasks = [task("t1", "preparing", "running", changed="2026-11-27T22:59:50Z")]
    assert findings(evidence(service(), tasks, nodes)) == {}


def test_a_task_stuck_starting_for_long_is_short():
    nodes = [node(LOCAL, "mgr")]
    tasks = [task("t1", "preparing", "running", changed="2026-11-27T22:40:00Z")]
    found = findings(evidence(service(), tasks, nodes))
    assert set(found) == {"replicas-below-desired"}
    f = found["replicas-below-desired"]
    assert f.severity == Severity.ERROR
    assert dict(f.facts)["newest task of each slot not running"] == "preparing"


def test_partly_running_is_a_warning_and_a_crash_loop_fails_now():
    nodes = [node(LOCAL, "mgr")]
    tasks = [task("a1", "running", "running", slot=1),
             task("b1", "failed", "shutdown", slot=2, code=1, err="task: non-zero exit (1)",
                  created="2026-11-27T22:58:00Z"),
             # The replacement waits out the restart delay: the slot is failing now.
             task("b2", "ready", "ready", slot=2, created="2026-11-27T22:59:58Z")]
    logs = (b"2026-11-27T22:58:01.000000000Z com.docker.swarm.node.id=n1,"
            b"com.docker.swarm.service.id=s1,com.docker.swarm.task.id=b1 "
            b"panic: cannot open config\n")
    found = findings(evidence(service(replicas=2), tasks, nodes, logs))
    assert found["replicas-below-desired"].severity == Severity.WARNING
    f = found["task-failing"]
    assert f.severity == Severity.ERROR
    assert f.title == "1 task(s) of web failed; the newest exited with code 1: panic: cannot " \
                      "open config"
    assert dict(f.facts)["slots failing now"] == "1"
    assert any(e.ref() == "services/web/logs/stdout.log#L1" for e in f.evidence)


def test_recovered_service_is_only_a_warning():
    nodes = [node(LOCAL, "mgr")]
    tasks = [task("a1", "failed", "shutdown", code=2, err="task: non-zero exit (2)",
                  created="2026-11-27T22:00:00Z"),
             task("a2", "running", "running", created="2026-11-27T22:01:00Z")]
    found = findings(evidence(service(), tasks, nodes))
    assert set(found) == {"task-failing"}
    assert found["task-failing"].severity == Severity.WARNING


def test_scaled_to_zero_and_jobs_ask_for_nothing():
    assert findings(evidence(service(replicas=0), [], [node(LOCAL, "mgr")])) == {}


def test_global_service_counts_eligible_nodes_only():
    nodes = [node(LOCAL, "mgr", labels={"zone": "eu"}), node(REMOTE, "w2")]
    tasks = [task("g1", "running", "running", slot=None, nid=LOCAL)]
    ev = evidence(service(replicas=None, constraints=["node.labels.zone==eu"]), tasks, nodes)
    assert findings(ev) == {}  # w2 does not meet the constraint: one task is all it needs


# -- images, updates -------------------------------------------------------------------------


def test_pull_access_denied_is_image_unavailable_with_credentials_advice():
    nodes = [node(LOCAL, "mgr")]
    err = ("pull access denied for shop/web, repository does not exist or may require "
           "'docker login': denied: requested access to the resource is denied")
    tasks = [task("t1", "rejected", "shutdown", err=err)]
    found = findings(evidence(service(), tasks, nodes))
    assert set(found) == {"image-unavailable", "replicas-below-desired"}
    f = found["image-unavailable"]
    assert dict(f.facts)["kind"] == "the registry refused (credentials or access)"
    assert any("--with-registry-auth" in c for c in f.remediation.commands)


def test_manual_rollback_is_information_and_updating_is_nothing():
    nodes = [node(LOCAL, "mgr")]
    tasks = [task("t1", "running", "running")]
    manual = {"State": "rollback_completed", "Message": "rollback completed",
              "StartedAt": "2026-11-27T22:50:00Z", "CompletedAt": "2026-11-27T22:51:00Z"}
    prev = service()["Spec"]
    found = findings(evidence(service(update={**manual, "Message": "manually requested "
                                               "rollback"}, previous=prev), tasks, nodes))
    assert found["update-paused"].severity == Severity.INFO
    found = findings(evidence(service(update=manual, previous=prev), tasks, nodes))
    assert found["update-paused"].severity == Severity.WARNING
    assert "rolled back" in found["update-paused"].title
    busy = {"State": "updating", "Message": "update in progress"}
    assert findings(evidence(service(update=busy), tasks, nodes)) == {}


# -- readings and collection helpers -----------------------------------------------------------


def test_require_manager_says_what_to_do():
    with pytest.raises(UsageError, match=r"not part of a swarm \(Swarm: inactive\)"):
        require_manager({"Swarm": {"LocalNodeState": "inactive"}}, "unix:///x.sock")
    worker = {"Swarm": {"LocalNodeState": "active", "ControlAvailable": False,
                        "RemoteManagers": [{"NodeID": "m", "Addr": "10.0.0.5:2377"}]}}
    with pytest.raises(UsageError, match="is a swarm worker, not a manager") as exc:
        require_manager(worker, "tcp://w:2376")
    assert "10.0.0.5:2377" in exc.value.hint and exc.value.exit_code == 2
    with pytest.raises(UsageError, match="locked"):
        require_manager({"Swarm": {"LocalNodeState": "locked"}}, "x")
    ok = {"Swarm": {"LocalNodeState": "active", "ControlAvailable": True, "NodeID": LOCAL}}
    assert require_manager(ok, "x") == LOCAL


def test_service_suggestions():
    listing = [{"Spec": {"Name": n}} for n in ("shop_web", "shop_db", "webhook", "api")]
    assert service_suggestions("web", listing)[:2] == ["webhook", "shop_web"]
    assert service_suggestions("apj", listing) == ["api"]


def test_constraints_read_like_swarmkit():
    n = node(LOCAL, "Mgr-1", role="manager", labels={"zone": "EU"})
    assert constraint_holds("node.role==manager", n) is True
    assert constraint_holds("node.hostname == mgr-1", n) is True  # values case-insensitive
    assert constraint_holds("node.labels.zone==eu", n) is True
    assert constraint_holds("node.labels.missing!=x", n) is True  # absent label: ""
    assert constraint_holds("node.platform.arch==amd64", n) is True
    assert constraint_holds("node.ip==10.0.0.1", n) is None  # not judged: no guess


def test_task_kinds_and_errors():
    def kind(**kw: Any) -> str:
        from diagnose.evidence.service import Task

        return task_kind(Task(0, task("t", **kw)))

    assert kind(state="rejected", desired="shutdown", err="No such image: x:1") == "image"
    assert kind(state="failed", desired="shutdown", code=3, err="task: non-zero exit (3)") \
        == "exit"
    assert kind(state="failed", desired="shutdown", code=128,
                err="starting container failed: invalid mount config") == "start"
    assert kind(state="pending", desired="running",
                err="no suitable node (insufficient resources on 2 nodes)") == "unplaceable"
    assert kind(state="pending", desired="running",
                err="no suitable node (2 nodes not available for new tasks)") == "unavailable"
    assert kind(state="complete", desired="shutdown", code=0) == ""
    assert essential_error("starting container failed: error during container init: x: unknown") \
        == "x"


def test_log_lines_keep_the_newest_in_time_order():
    buf = NewestLines(cap=70)  # three 23-byte lines fit, not four
    buf.feed(b"2026-01-01T00:00:03Z c\n2026-01-01T00:00:01Z a\n2026-01-")
    buf.feed(b"01T00:00:02Z b\n2026-01-01T00:00:04Z d\n")
    data, cut, total = buf.result()
    assert data == b"2026-01-01T00:00:02Z b\n2026-01-01T00:00:03Z c\n2026-01-01T00:00:04Z d\n"
    assert cut and total == 92


def test_split_details():
    attrs, msg = split_details("com.docker.swarm.node.id=n,com.docker.swarm.service.id=s,"
                               "com.docker.swarm.task.id=t hello world")
    assert attrs["com.docker.swarm.task.id"] == "t" and msg == "hello world"
    assert split_details("plain line") == ({}, "plain line")


def test_timestamps_sort_whatever_digits_the_engine_dropped():
    from diagnose.model.times import stamp_key

    assert stamp_key("2026-11-27T23:02:14.47565Z") < stamp_key("2026-11-27T23:02:14.4756512Z")
    assert stamp_key("2026-11-27T23:02:14Z") < stamp_key("2026-11-27T23:02:14.000000001Z")
    buf = NewestLines(cap=1000)
    buf.feed(b"2026-01-01T00:00:01.5Z b\n2026-01-01T00:00:01.25Z a\n")
    assert buf.result()[0] == b"2026-01-01T00:00:01.25Z a\n2026-01-01T00:00:01.5Z b\n"
