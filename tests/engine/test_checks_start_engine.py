"""D107-D113 and D001 on the real engine: start failures the engine itself reports.

Each container is really put into its condition (unknown user or group, a host port held by
another container or by a host process, a removed network, a vanished `--mount` bind source,
a directory mounted onto a file, an unreachable logging endpoint, a missing device), the real
tool runs once over all of them, and each must get exactly its cause.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

from tests.support.engine import docker
from tests.support.runs import cause_ids, run_diagnose
from tests.support.startkit import assert_cause, comparable, free_port, text_of


@pytest.fixture(scope="module")
def scratch():
    """A host directory the engine (local, root) can bind-mount; removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="diagnose-d110-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def started(engine, scratch, tmp_path_factory):
    """Every engine-side start failure as a real container, diagnosed in one run."""
    names: dict[str, str] = {}
    sleep = ("sleep", "100000")
    names["user"] = engine.run("user", "--user", "nosuchuser", cmd=sleep, check=False)
    names["group"] = engine.run("group", "--user", "root:nosuchgroup", cmd=sleep, check=False)

    port = free_port()
    names["port-holder"] = engine.run("port-holder", "-p", f"{port}:80", cmd=sleep)
    names["port-taken"] = engine.run("port-taken", "-p", f"{port}:80", cmd=sleep, check=False)
    listener = socket.socket()
    listener.bind(("0.0.0.0", 0))
    listener.listen()
    host_port = listener.getsockname()[1]
    names["port-host"] = engine.run("port-host", "-p", f"{host_port}:80", cmd=sleep,
                                    check=False)

    net = engine.network("gone")
    names["network"] = engine.create("network", "--network", net, cmd=sleep)
    docker("network", "rm", net)
    docker("start", names["network"], check=False)

    src = scratch / "data"
    src.mkdir()
    names["mount"] = engine.create("mount", "--mount", f"type=bind,src={src},dst=/data",
                                   cmd=sleep)
    src.rmdir()
    start = docker("start", names["mount"], check=False)
    assert "bind source path does not exist" in start.stderr, start.stderr

    live = scratch / "live"
    live.mkdir()
    names["mount-running"] = engine.run("mount-running", "--mount",
                                        f"type=bind,src={live},dst=/data", cmd=sleep)
    live.rmdir()

    names["created"] = engine.create("created", cmd=sleep)
    names["mismatch"] = engine.run("mismatch", "-v",
                                   f"{scratch / 'missing.conf'}:/etc/os-release", cmd=sleep,
                                   check=False)
    names["logdriver"] = engine.run("logdriver", "--log-driver", "fluentd", "--log-opt",
                                    f"fluentd-address=127.0.0.1:{free_port()}", cmd=sleep,
                                    check=False)
    names["device"] = engine.run("device", "--device", f"/dev/nosuch-{engine.run_id}",
                                 cmd=sleep, check=False)
    out = tmp_path_factory.mktemp("start-engine-bundle")
    before = {n: engine.state(n) for n in names.values()}
    result = run_diagnose(*names.values(), "--format", "json", "--quiet", "--output", str(out),
                          cwd=out)
    after = {n: engine.state(n) for n in names.values()}
    listener.close()
    return names, result, before, after, out, {"port": port, "host_port": host_port,
                                               "src": str(src), "live": str(live)}


EXPECT = {
    "user": "invalid-user",
    "group": "invalid-user",
    "port-taken": "port-already-allocated",
    "port-host": "port-already-allocated",
    "network": "network-not-found",
    "mount": "mount-source-missing",
    "mount-running": "mount-source-missing",
    "created": "created-not-started",
    "mismatch": "bind-mount-type-mismatch",
    "logdriver": "logging-driver-failure",
    "device": "start-failed",
}


def test_the_engine_really_refused_them(engine, started):
    names, *_ = started
    for case in ("user", "group", "port-taken", "port-host", "network", "mismatch",
                 "logdriver", "device"):
        st = engine.inspect(names[case])["State"]
        assert st["Status"] == "created" and st["Error"], (case, st)
    # A vanished --mount source: the start failed, yet Docker 20.10 recorded nothing.
    st = engine.inspect(names["mount"])["State"]
    assert st["Status"] == "created" and not st["Error"]
    assert engine.inspect(names["mount-running"])["State"]["Status"] == "running"


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_each_start_failure_is_named_and_no_look_alike(started, case):
    names, result, *_ = started
    f = assert_cause(result, names[case], EXPECT[case])
    assert f["evidence"] and f["remediation"]["commands"]
    if case not in ("created", "mount-running"):
        assert f["severity"] == "critical"
        assert any("--entrypoint sh" in c for c in f["remediation"]["commands"])


def test_findings_carry_the_specific_facts(started):
    names, result, _, _, _, ctx = started

    def text(case: str) -> str:
        return text_of(assert_cause(result, names[case], EXPECT[case]))

    assert "nosuchuser" in text("user") and "none named 'nosuchuser'" in text("user")
    # Users are not forced on the override command when the user is the problem.
    user_cmds = assert_cause(result, names["user"], "invalid-user")["remediation"]["commands"]
    assert not any("--user nosuchuser" in c for c in user_cmds)
    assert "nosuchgroup" in text("group")
    taken = text("port-taken")
    assert f"0.0.0.0:{ctx['port']}" in taken and "another container" in taken
    assert f"docker ps --filter publish={ctx['port']}" in taken
    assert f"held by container: {names['port-holder']} (Up" in taken
    assert "ports.json#/containers/0" in taken
    host = text("port-host")
    assert f":{ctx['host_port']}" in host and "process on the host" in host
    assert "address already in use" in host
    assert f"pid {os.getpid()} listening on 0.0.0.0:{ctx['host_port']}" in host
    assert "gone:" in text("network") and "networks.json" in text("network")
    mount = text("mount")
    assert ctx["src"] in mount and "checked on the engine host" in mount
    assert "entrypoint.json#/filesystem" in mount
    assert "/etc/os-release" in text("mismatch") and "directory onto a file" in text("mismatch")
    assert "fluentd" in text("logdriver")
    assert "/dev/nosuch-" in text("device")


def test_missing_source_of_a_running_container_is_a_warning(started):
    names, result, *_ = started
    f = assert_cause(result, names["mount-running"], "mount-source-missing")
    assert f["severity"] == "warning" and "next start will fail" in f["title"]


def test_plain_created_is_not_a_mount_problem(started):
    names, result, *_ = started
    created = cause_ids(result, names["created"])
    assert created == {"created-not-started"}


def test_targets_unchanged_and_analyze_agrees(started):
    names, result, before, after, out, _ = started
    assert before == after
    offline = run_diagnose("analyze", str(result.bundle), "--format", "json", cwd=out)
    assert offline.code == result.code == 1, (offline.stderr, result.stderr)
    assert comparable(offline.json()) == comparable(result.json())
    manifest = json.loads(result.members()["manifest.json"])
    assert manifest["options"]["probe"] is False
