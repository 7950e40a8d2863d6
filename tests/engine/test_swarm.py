"""`diagnose service` on a real single-node Swarm made by this module, and left again.

The module fixture puts the shared engine into Swarm mode only when it is `inactive`, creates
every service at once (labelled `diagnose.test.run=<session>`, their containers too), and
always removes them and leaves the swarm afterwards, also when a test fails.  Services use
`--network host`: the default bridge (docker0) is a host-wide interface another engine on
this machine may remove, the host network always works, and nothing here needs ports.

Each service is put into one condition for real: a crash (task-failing and
replicas-below-desired), a placement constraint and a reservation no node meets
(no-suitable-node), an image the node does not have (image-unavailable, no registry is
reachable here), an update whose new tasks fail with `--update-failure-action pause`
(update-paused), a global service that crashes, a healthy one, one updated successfully, and
at the end the node drained (node-down).  Every finding's look-alikes must not be reported,
the local task containers get their own container findings, and `diagnose analyze` on each
bundle reproduces the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.checkkit import facts, strip_volatile
from tests.support.engine import RUN_ID, docker, wait_for
from tests.support.reports import assert_valid
from tests.support.runs import Result, read_members, run_diagnose

SWARM_CHECKS = {"task-failing", "no-suitable-node", "image-unavailable",
                "replicas-below-desired", "update-paused", "node-down"}
BASE = "diagnose-test/busybox:latest"
SECRET = f"s3cr3t-{RUN_ID}-pw"


@dataclass
class Swarm:
    """Labelled services on the test swarm."""

    label: str
    node_id: str
    names: list[str] = field(default_factory=list)

    def service(self, base: str, *args: str, image: str = BASE, cmd: tuple[str, ...] = ()
                ) -> str:
        """`docker service create -d` a labelled service; returns its name."""
        name = f"dt-{RUN_ID[:6]}-{base}"
        docker("service", "create", "-d", "-q", "--name", name, "--label", self.label,
               "--container-label", self.label, "--no-resolve-image", "--network", "host",
               "--stop-grace-period", "1s", *args, image, *cmd)
        self.names.append(name)
        return name

    def tasks(self, name: str) -> list[dict[str, Any]]:
        """`docker service ps` as JSON lines."""
        out = docker("service", "ps", "--no-trunc", "--format", "{{json .}}", name).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def inspect(self, name: str) -> dict[str, Any]:
        """`docker service inspect`."""
        return json.loads(docker("service", "inspect", name).stdout)[0]

    def cleanup(self) -> None:
        """Remove every service of this session (ours by name and by label)."""
        labelled = docker("service", "ls", "-q", "--filter", f"label={self.label}",
                          check=False).stdout.split()
        for ref in dict.fromkeys([*self.names, *labelled]):
            docker("service", "rm", ref, check=False)


def _swarm_state() -> str:
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()


@pytest.fixture(scope="module")
def swarm(engine) -> Iterator[Swarm]:
    """A single-node swarm on the shared engine for this module only."""
    state = _swarm_state()
    if state != "inactive":
        pytest.fail(f"the engine is already in Swarm mode ({state}); another session's swarm "
                    "is not ours to use or leave", pytrace=False)
    had_gwbridge = docker("network", "inspect", "docker_gwbridge", check=False).returncode == 0
    docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    try:
        node_id = docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
        sw = Swarm(engine.label, node_id)
        try:
            yield sw
        finally:
            sw.cleanup()
    finally:
        docker("swarm", "leave", "--force", check=False)
        if not had_gwbridge:  # swarm init created it; leaving does not remove it
            docker("network", "rm", "docker_gwbridge", check=False)
        assert _swarm_state() == "inactive", "the engine must not be left in Swarm mode"


@pytest.fixture(scope="module")
def services(swarm: Swarm) -> dict[str, str]:
    """Every service, created at once and waited for until each is in its condition."""
    ncpu = int(docker("info", "--format", "{{.NCPU}}").stdout.strip())
    restart = ("--restart-delay", "1s", "--restart-max-attempts", "2")
    s = {
        "crash": swarm.service("crash", *restart, cmd=(
            "sh", "-c", "echo starting; echo 'Error: boom happened in worker' >&2; exit 3")),
        "place": swarm.service("place", "--constraint", "node.labels.nothing==here",
                               cmd=("sleep", "100000")),
        "reserve": swarm.service("reserve", "--reserve-cpu", str(ncpu * 100),
                                 cmd=("sleep", "100000")),
        "image": swarm.service("image", *restart, image=f"diagnose-test/{RUN_ID}-absent:1.0",
                               cmd=("sleep", "100000")),
        "ok": swarm.service("ok", "--replicas", "2", cmd=("sleep", "100000")),
        "paused": swarm.service("paused", "--update-failure-action", "pause",
                                "--update-monitor", "3s", "--update-order", "start-first",
                                "--restart-delay", "1s", cmd=("sleep", "100000")),
        "updated": swarm.service("updated", "--update-monitor", "1s", cmd=("sleep", "100000")),
        "global": swarm.service("global", "--mode", "global", "--restart-delay", "1s",
                                "--restart-max-attempts", "1", cmd=("sh", "-c", "exit 4")),
        "chatty": swarm.service("chatty", "--env", f"DB_PASSWORD={SECRET}", cmd=(
            "sh", "-c", 'echo "connecting with $DB_PASSWORD"; i=1; '
            'while [ $i -le 300 ]; do echo "line $i"; i=$((i+1)); done; '
            'sleep 1; echo "done" >&2; sleep 100000')),  # two pipes: keep their order
    }

    def states(name: str) -> list[str]:
        return [t["CurrentState"].split()[0].lower() for t in swarm.tasks(name)]

    def running(name: str, n: int) -> bool:
        return states(name).count("running") >= n

    for key in ("paused", "updated", "ok", "chatty"):
        wait_for(lambda key=key: running(s[key], 2 if key == "ok" else 1), 60,
                 what=f"{key} running")
    wait_for(lambda: " done" in docker("service", "logs", s["chatty"]).stderr, 30,
             what="chatty to print its lines")
    # The new command does not exist: the new task fails while starting, so the old one
    # (start-first) keeps serving, and the update pauses.
    docker("service", "update", "-d", "-q", "--args", "no-such-server --listen :8080",
           s["paused"])
    docker("service", "update", "-d", "-q", "--args", "sleep 99999", s["updated"])
    wait_for(lambda: states(s["crash"]).count("failed") >= 3, 60, what="3 crashed tasks")
    wait_for(lambda: states(s["image"]).count("rejected") >= 3, 60, what="3 rejected tasks")
    wait_for(lambda: states(s["global"]).count("failed") >= 2, 60, what="2 global failures")
    for key in ("place", "reserve"):
        wait_for(lambda key=key: any("no suitable node" in t["Error"]
                                     for t in swarm.tasks(s[key])), 60, what=f"{key} pending")

    def update_state(name: str) -> str:
        return str((swarm.inspect(name).get("UpdateStatus") or {}).get("State", ""))

    wait_for(lambda: update_state(s["paused"]) == "paused", 90, what="the update to pause")
    wait_for(lambda: update_state(s["updated"]) == "completed", 90, what="the update to end")
    # Restart attempts are spent: nothing changes any more while the tests read them.
    for key in ("crash", "image", "global"):
        wait_for(lambda key=key: all(t["DesiredState"].lower() == "shutdown"
                                     for t in swarm.tasks(s[key])), 60,
                 what=f"{key} to stop retrying")
    return s


def service_report(diagnose, name: str, *args: str) -> Result:
    """`diagnose service NAME` (JSON); it must write a bundle and a valid document."""
    r = diagnose("service", name, "--format", "json", "--quiet", "--exit-zero", *args)
    assert r.code == 0, r.stderr
    assert r.bundle is not None and r.bundle.name.startswith(f"diagnose-service-{name}-")
    assert_valid(r.json())
    return r


def svc(r: Result) -> dict[str, Any]:
    """The one service section of a report."""
    (one,) = r.json()["services"]
    return one


def sids(r: Result) -> set[str]:
    """Finding ids of the service itself."""
    return {f["id"] for f in svc(r)["findings"]}


def sfinding(r: Result, slug: str) -> dict[str, Any]:
    """The service finding `slug` (fails when absent)."""
    found = [f for f in svc(r)["findings"] if f["id"] == slug]
    assert found, f"{slug} not reported; got {sorted(sids(r))}"
    return found[0]


def assert_only(r: Result, *slugs: str) -> None:
    """Exactly these swarm findings: every look-alike stays silent."""
    assert sids(r) & SWARM_CHECKS == set(slugs), sorted(sids(r))


def assert_offline_same(r: Result) -> None:
    """`diagnose analyze` on the bundle builds the same report, byte for byte apart from the
    mode and the bundle path."""
    assert r.bundle is not None
    off = run_diagnose("analyze", str(r.bundle), "--format", "json", cwd=r.bundle.parent)
    assert off.code in (0, 1), off.stderr
    assert off.json()["mode"] == "offline"
    assert strip_volatile(off.json()) == strip_volatile(r.json())


def test_crash_is_task_failing_with_exit_codes_and_decisive_lines(swarm, services, diagnose):
    name = services["crash"]
    r = service_report(diagnose, name)
    assert_only(r, "task-failing", "replicas-below-desired")
    s = svc(r)
    f = sfinding(r, "task-failing")
    assert f["severity"] == "error" and f["code"] == "D510" and f["stage"] == "project"
    assert f["target"] == name
    assert "exited with code 3: Error: boom happened in worker" in f["title"]
    fx = facts(f)
    assert fx["exit codes"] == "3 (x3)" and fx["slots failing now"] == "1"
    assert fx["restart policy"].startswith("condition any, max attempts 2, delay 1s")
    refs = [e["ref"] for e in f["evidence"]]
    assert f"services/{name}/tasks.json#/0/Status/Err" in refs
    logs = [e for e in f["evidence"] if e["file"] == f"services/{name}/logs/stderr.log"]
    assert logs and logs[0]["excerpt"] == "Error: boom happened in worker"
    members = r.members()
    lines = members[logs[0]["file"]].decode().splitlines()
    first, last = logs[0]["lines"]
    assert "Error: boom happened in worker" in lines[first - 1]
    assert first == last
    assert f"docker service ps --no-trunc {name}" in f["remediation"]["commands"]
    # The shortfall names its cause.
    short = sfinding(r, "replicas-below-desired")
    assert short["title"] == f"{name}: 0 of 1 task(s) running (task-failing)"
    assert facts(short)["explained by"] == "task-failing"
    # The run's verdict is the service's own cause, not a task container's.
    assert r.json()["verdict"]["target"] == name and r.json()["verdict"]["id"] == "task-failing"

    # Every task, as `docker service ps` shows them, with node, states, exit code and error.
    ps = {t["ID"]: t for t in swarm.tasks(name)}
    assert {t["id"] for t in s["tasks"]} == set(ps)
    for t in s["tasks"]:
        assert t["state"] == "failed" and t["desired_state"] == "shutdown"
        assert t["exit_code"] == 3 and t["error"] == "task: non-zero exit (3)"
        assert f"\"{t['error']}\"" == ps[t["id"]]["Error"]  # the CLI quotes it
        assert t["node"] == ps[t["id"]]["Node"]
    tasks_json = json.loads(members[f"services/{name}/tasks.json"])
    assert {t["ID"] for t in tasks_json} == set(ps)
    spec = json.loads(members[f"services/{name}/service.json"])
    assert spec == swarm.inspect(name)
    nodes = json.loads(members[f"services/{name}/nodes.json"])
    assert swarm.node_id in {n["ID"] for n in nodes}
    # The service logs of every task, kept apart by stream, each line naming its task.
    stdout = members[f"services/{name}/logs/stdout.log"].decode()
    assert stdout.count("starting") == 3 and "Error: boom" not in stdout
    assert all(f"com.docker.swarm.task.id={tid}" in stdout for tid in ps)

    # The task containers on this node got the full container diagnosis.
    assert len(s["containers"]) == 3
    by_key = {t["key"]: t for t in r.json()["targets"]}
    assert set(s["containers"]) == set(by_key)
    for key in s["containers"]:
        ids = {x["id"] for x in by_key[key]["findings"]}
        assert "app-exit-error" in ids, ids
        assert by_key[key]["state"]["exit_code"] == 3
    assert {t["container"] for t in s["tasks"]} == set(s["containers"])
    assert_offline_same(r)


def test_crash_report_formats_show_the_service(services, diagnose):
    name = services["crash"]
    text = diagnose("service", name, "--quiet", "--exit-zero")
    assert text.code == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0].startswith(f"service {name} (") and lines[0].endswith("replicated, 0/1 running")
    assert lines[1].startswith(f"  verdict: ERROR D510 task-failing on {name}: ")
    assert f"Tasks of {name} (replicated, image {BASE})" in text.stdout
    row = next(ln for ln in lines if ln.startswith(f"{name}.1 "))
    assert row.split()[3:6] == ["failed", "shutdown", "3"]  # task, id, node, state...
    assert row.endswith("task: non-zero exit (3)")
    md = diagnose("service", name, "--quiet", "--exit-zero", "--format", "markdown")
    assert f"### Service `{name}` (replicated, 0/1 running)" in md.stdout
    assert "| task | node | state | desired | exit | error |" in md.stdout
    assert "| failed | shutdown | 3 | task: non-zero exit (3) |" in md.stdout
    html = diagnose("service", name, "--quiet", "--exit-zero", "--format", "html")
    assert f'data-service="{name}"' in html.stdout and '<table class="tasks">' in html.stdout


def test_constraint_nobody_meets_is_no_suitable_node(services, diagnose):
    name = services["place"]
    r = service_report(diagnose, name)
    assert_only(r, "no-suitable-node", "replicas-below-desired")
    f = sfinding(r, "no-suitable-node")
    assert f["code"] == "D511" and f["severity"] == "error"
    assert "no suitable node (scheduling constraints not satisfied on 1 node)" in f["title"]
    fx = facts(f)
    assert fx["placement constraints"] == "node.labels.nothing==here"
    host = next(k for k in fx if k.startswith("node "))
    assert fx[host] == "fails node.labels.nothing==here"
    refs = [e["ref"] for e in f["evidence"]]
    assert f"services/{name}/service.json#/Spec/TaskTemplate/Placement/Constraints" in refs
    cmds = f["remediation"]["commands"]
    assert any(c.startswith("docker node update --label-add nothing=here ") for c in cmds)
    assert f"docker service update --constraint-rm node.labels.nothing==here {name}" in cmds
    s = svc(r)
    assert s["containers"] == [] and r.json()["targets"] == []
    assert s["tasks"][0]["state"] == "pending" and s["tasks"][0]["node"] == ""
    assert facts(sfinding(r, "replicas-below-desired"))["explained by"] == "no-suitable-node"
    assert_offline_same(r)


def test_reservation_larger_than_the_node_is_no_suitable_node(services, diagnose):
    name = services["reserve"]
    r = service_report(diagnose, name)
    assert_only(r, "no-suitable-node", "replicas-below-desired")
    f = sfinding(r, "no-suitable-node")
    assert "insufficient resources on 1 node" in f["title"]
    fx = facts(f)
    assert fx["placement constraints"] == "none" and fx["reservations"].endswith(" CPU")
    assert any(v.endswith("less than reserved") for k, v in fx.items() if k.startswith("node "))
    assert f"docker service update --reserve-cpu 0 {name}" in f["remediation"]["commands"]
    assert_offline_same(r)


def test_image_the_node_does_not_have_is_image_unavailable(services, diagnose):
    name = services["image"]
    r = service_report(diagnose, name)
    assert_only(r, "image-unavailable", "replicas-below-desired")
    f = sfinding(r, "image-unavailable")
    image = f"diagnose-test/{RUN_ID}-absent:1.0"
    assert f["code"] == "D512" and f["severity"] == "error"
    assert f["title"].endswith(f"rejected: nodes cannot get image {image} (No such image)")
    fx = facts(f)
    assert fx["error"] == f"No such image: {image}"
    assert fx["image (service spec)"] == image
    assert fx["pinned to a digest"].startswith("no")
    assert fx["kind"] == "the image was not found"
    assert int(fx["tasks rejected (kept by the managers)"]) >= 3
    assert all(t["state"] == "rejected" for t in svc(r)["tasks"])
    assert svc(r)["containers"] == []
    assert_offline_same(r)


def test_healthy_service_has_no_finding(services, diagnose):
    name = services["ok"]
    r = diagnose("service", name, "--format", "json", "--quiet")  # default --fail-on error
    assert r.code == 0, r.stderr
    assert_valid(r.json())
    s = svc(r)
    assert s["findings"] == [] and s["verdict"] is None
    assert s["replicas"] == {"desired": 2, "running": 2,
                             "desired_from": "Spec.Mode.Replicated.Replicas"}
    assert s["summary"] == "replicated, 2/2 running" and s["update_status"] is None
    # Both task containers were diagnosed: no cause at warning or worse (the security advice
    # about the host network these tests use is hygiene, not a cause).
    assert len(s["containers"]) == 2
    for t in r.json()["targets"]:
        assert t["state"]["status"] == "running"
        causes = [f for f in t["findings"] if f["stage"] not in ("hygiene", "engine")]
        assert all(f["severity"] == "info" for f in causes), causes
    assert_offline_same(r)


def test_update_that_fails_pauses_and_is_update_paused(services, diagnose):
    name = services["paused"]
    r = service_report(diagnose, name)
    # start-first: the old task still runs, so the replicas are there; the new ones fail.
    assert_only(r, "update-paused", "task-failing")
    f = sfinding(r, "update-paused")
    assert f["code"] == "D514" and f["severity"] == "error"
    assert "update paused due to failure or early termination of task" in f["title"]
    fx = facts(f)
    assert fx["update state"] == "paused"
    assert fx["failure action"].startswith("pause (parallelism 1, monitor 3s")
    assert fx["what the update changed"] == ("Args: sleep 100000 -> no-such-server --listen "
                                             ":8080")
    refs = [e["ref"] for e in f["evidence"]]
    assert f"services/{name}/service.json#/UpdateStatus/State" in refs
    assert f"docker service update --rollback {name}" in f["remediation"]["commands"]
    failing = sfinding(r, "task-failing")
    assert failing["title"].endswith('the newest could not start: exec: "no-such-server": '
                                     'executable file not found in $PATH')
    assert facts(failing)["start error reads as"] == "entrypoint-not-found"
    assert svc(r)["update_status"]["state"] == "paused"
    assert svc(r)["summary"] == "replicated, 1/1 running; update paused"
    # The containers of the failed new tasks got their own diagnosis.
    broken = [t for t in r.json()["targets"] if t["state"]["status"] != "running"]
    assert broken
    for t in broken:
        assert "entrypoint-not-found" in {x["id"] for x in t["findings"]}, t["findings"]
    assert_offline_same(r)


def test_completed_update_is_not_update_paused(services, diagnose):
    r = service_report(diagnose, services["updated"])
    assert sids(r) == set(), sids(r)
    assert svc(r)["update_status"]["state"] == "completed"


def test_global_service_counts_one_task_per_eligible_node(services, diagnose):
    name = services["global"]
    r = service_report(diagnose, name)
    assert_only(r, "task-failing", "replicas-below-desired")
    s = svc(r)
    assert s["mode"] == "global"
    assert s["replicas"]["desired"] == 1 and s["replicas"]["running"] == 0
    short = sfinding(r, "replicas-below-desired")
    assert facts(short)["desired"] == ("1 (one per node that is ready, active and meets the "
                                       "constraints)")
    assert "exited with code 4 without printing anything" in sfinding(r, "task-failing")["title"]
    assert_offline_same(r)


def test_service_logs_are_bounded_and_secrets_redacted(services, diagnose):
    name = services["chatty"]
    r = service_report(diagnose, name, "--tail", "20")
    members = r.members()
    # --tail counts the task's lines on both streams together, like `docker service logs`.
    lines = members[f"services/{name}/logs/stdout.log"].decode().splitlines()
    assert len(lines) == 19 and lines[-1].endswith(" line 300") and "line 282" in lines[0]
    assert members[f"services/{name}/logs/stderr.log"].decode().endswith(" done\n")
    manifest = json.loads(members["manifest.json"])
    rec = next(c for c in manifest["collectors"]
               if c["owner"] == f"services/{name}" and c["name"] == "logs")
    assert rec["status"] == "ok" and rec["detail"]["tail_per_task"] == 20
    # The byte cap keeps the newest lines, in time order, from a line boundary.
    r = service_report(diagnose, name, "--tail", "all", "--max-log-bytes", "2K")
    members = r.members()
    data = members[f"services/{name}/logs/stdout.log"]
    assert 1024 < len(data) <= 2048 and data.endswith(b" line 300\n")
    assert data.split(b" ", 1)[0][:4].isdigit()  # starts with a whole line
    manifest = json.loads(members["manifest.json"])
    rec = next(c for c in manifest["collectors"]
               if c["owner"] == f"services/{name}" and c["name"] == "logs")
    assert rec["truncated"] and rec["detail"]["stdout"]["truncated_by_bytes"]
    # The secret set in the service's environment went from every file (spec, logs, the
    # task container's inspect and logs) and from stdout.
    assert SECRET not in r.stdout
    for path, body in members.items():
        assert SECRET.encode() not in body, path
    spec = json.loads(members[f"services/{name}/service.json"])
    env = spec["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert env == ["DB_PASSWORD=[redacted-1]"]
    assert "connecting with [redacted-1]" in data.decode() or "line 300" in data.decode()
    full = service_report(diagnose, name, "--tail", "all").members()
    assert "connecting with [redacted-1]" in full[f"services/{name}/logs/stdout.log"].decode()
    assert_offline_same(r)


def test_redact_an_unredacted_service_bundle(services, diagnose, tmp_path):
    name = services["chatty"]
    raw = diagnose("service", name, "--no-redact", "--format", "json", "--quiet", "--exit-zero")
    assert raw.code == 0 and raw.bundle is not None and raw.bundle.name.endswith(
        "-UNREDACTED.tar.gz"), raw.stderr
    assert any(SECRET.encode() in body for body in raw.members().values())
    out = run_diagnose("redact", str(raw.bundle), "-o", str(tmp_path), cwd=tmp_path)
    assert out.code == 0, out.stderr
    copy = tmp_path / raw.bundle.name.replace("-UNREDACTED", "")
    members = read_members(copy)
    assert all(SECRET.encode() not in body for body in members.values())
    doc = json.loads(members["findings.json"])
    assert_valid(doc)
    (s,) = doc["services"]
    assert s["name"] == name and s["summary"] == "replicated, 1/1 running"
    assert all(c["status"] == "passed" for c in s["checks"]), s["checks"]  # none skipped
    again = run_diagnose("analyze", str(copy), "--format", "json", cwd=tmp_path)
    assert again.json()["services"][0]["checks"] == s["checks"]


def test_several_services_one_bundle(services, diagnose):
    names = [services["crash"], services["image"], services["crash"]]  # a repeat counts once
    r = diagnose("service", *names, "--format", "json", "--quiet")
    assert r.code == 1, r.stderr  # errors found, default --fail-on error
    assert r.bundle is not None and r.bundle.name.startswith("diagnose-service-")
    assert "-and-1-more-" in r.bundle.name, r.bundle.name
    doc = r.json()
    assert_valid(doc)
    assert [s["name"] for s in doc["services"]] == [services["crash"], services["image"]]
    members = r.members()
    for name in (services["crash"], services["image"]):
        assert f"services/{name}/tasks.json" in members
    manifest = json.loads(members["manifest.json"])
    assert manifest["options"]["services"] == [services["crash"], services["image"]]


def test_unknown_service_suggests_close_names(services, diagnose):
    name = services["crash"]
    r = diagnose("service", name[:-1] + "x", "--quiet")
    assert r.code == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert f"no such service: {name[:-1]}x" in r.stderr and name in r.stderr
    assert r.bundle is None and r.stdout == ""


def test_drained_node_is_node_down(swarm, services, diagnose):
    """Last in the module: draining the only node stops every service's tasks."""
    name = services["ok"]
    docker("node", "update", "--availability", "drain", swarm.node_id)
    try:
        wait_for(lambda: any("not available for new tasks" in t["Error"]
                             for t in swarm.tasks(name)), 60, what="tasks waiting for a node")
        r = service_report(diagnose, name)
        assert_only(r, "node-down", "replicas-below-desired")
        f = sfinding(r, "node-down")
        assert f["code"] == "D515" and f["severity"] == "error"
        assert "not available for new tasks (drain)" in f["title"]
        fx = facts(f)
        host = next(k for k in fx if k.startswith("node "))
        assert "state ready, availability drain" in fx[host]
        assert fx["pending tasks"].startswith("2: no suitable node (1 node not available")
        refs = [e["ref"] for e in f["evidence"]]
        assert f"services/{name}/nodes.json#/0/Spec/Availability" in refs
        assert any(c.startswith("docker node update --availability active ")
                   for c in f["remediation"]["commands"])
        assert facts(sfinding(r, "replicas-below-desired"))["explained by"] == "node-down"
        assert_offline_same(r)
    finally:
        docker("node", "update", "--availability", "active", swarm.node_id, check=False)
