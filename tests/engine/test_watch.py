"""`diagnose watch` on the real engine: one watch process follows this module's containers
(a label of its own) while they crash, run out of memory, loop, fail to start, turn unhealthy
or vanish (`--rm`); each failure is one incident line and one bundle whose verdict names the
cause; stops somebody asked for are not incidents; SIGTERM ends it with exit 0 and no partial
bundle.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import docker as docker_sdk
import pytest

from tests.support.engine import docker, wait_for
from tests.support.runs import read_members
from tests.support.watcher import Watcher

KEEP = 4
SECRET = "Xq7-watch-label-secret-93kd"
OOM_CMD = ("sh", "-c", "echo start; x=a; while true; do x=$x$x; done")


@pytest.fixture(scope="module")
def watcher(engine, tmp_path_factory):
    out = tmp_path_factory.mktemp("watch")
    hook = ("import os, sys; name = os.environ['DIAGNOSE_CONTAINER']; "
            "open(os.path.join(sys.argv[1], name + '.hook'), 'w').write("
            "os.environ['DIAGNOSE_BUNDLE'] + ' ' + os.environ['DIAGNOSE_VERDICT'])")
    hooks = tmp_path_factory.mktemp("hooks")
    w = Watcher(out, "--tail", "all", "--max-log-bytes", "256M", "--loop-window", "60s",
                "--journal", str(out / "journal"), "--keep", str(KEEP), "--rate", "50",
                "--exec", shlex.join([sys.executable, "-c", hook, str(hooks)]))
    w.hooks = hooks
    yield w
    w.stop()


def run(engine, watcher: Watcher, base: str, *args: str, cmd: tuple[str, ...] = (),
        check: bool = True) -> str:
    return engine.run(base, "--label", watcher.label, *args, cmd=cmd, check=check)


def findings_of(line: dict[str, Any]) -> dict[str, Any]:
    """The bundle's findings.json, after checking the line points at a complete bundle."""
    path = Path(line["bundle"])
    assert path.is_file() and path.name.startswith("diagnose-"), line
    doc = json.loads(read_members(path)["findings.json"])
    (target,) = doc["targets"]
    return target


def ids(target: dict[str, Any]) -> set[str]:
    return {f["id"] for f in target["findings"]}


def test_crash_and_stops_asked_for(engine, watcher):
    stopped = run(engine, watcher, "w-stopped",
                  cmd=("sh", "-c", "trap 'exit 0' TERM; echo up; sleep 1000 & wait"))
    engine.wait_status(stopped, "running")
    docker("stop", stopped)
    killed = run(engine, watcher, "w-killed", cmd=("sleep", "1000"))
    engine.wait_status(killed, "running")
    docker("kill", killed)
    crash = run(engine, watcher, "w-crash", "--label", f"db.password={SECRET}",
                cmd=("sh", "-c", "echo 'boom: no config' >&2; exit 3"))
    line = watcher.wait(crash)
    assert line["incident"] == "exit" and line["exit_code"] == 3
    assert line["verdict"] == "app-exit-error" and line["code"] == "D205"
    assert "boom" in line["title"]
    target = findings_of(line)
    assert target["name"] == crash and "app-exit-error" in ids(target)
    # The --exec hook ran with the incident in its environment.
    assert watcher.hooks is not None
    hook = watcher.hooks / f"{crash}.hook"
    wait_for(hook.exists, timeout=60, what="the --exec hook")
    assert hook.read_text() == f"{line['bundle']} app-exit-error"
    # Events are handled in order: the stops came first and made no incident.
    assert watcher.incidents(stopped) == [] and watcher.incidents(killed) == []


def test_oom(engine, watcher):
    c = run(engine, watcher, "w-oom", "--memory", "32m", cmd=OOM_CMD)
    line = watcher.wait(c)
    assert line["incident"] == "oom" and line["verdict"] == "oom-killed"
    assert "oom-killed" in ids(findings_of(line))


def test_failed_start(engine, watcher):
    c = run(engine, watcher, "w-nostart", cmd=("/no/such/entrypoint",), check=False)
    line = watcher.wait(c)
    assert line["incident"] == "start-failed"
    assert line["verdict"] == "entrypoint-not-found"


def test_unhealthy(engine, watcher):
    c = run(engine, watcher, "w-sick", "--health-cmd", "cat /tmp/ready", "--health-interval",
            "1s", "--health-retries", "1", cmd=("sleep", "1000"))
    line = watcher.wait(c)
    assert line["incident"] == "unhealthy" and line["verdict"] == "unhealthy"
    docker("rm", "-f", c)


def test_crashing_rm_container(engine, watcher):
    c = run(engine, watcher, "w-rm", "--rm",
            cmd=("sh", "-c", "echo starting; sleep 1; echo 'fatal: gone soon'; exit 4"))
    line = watcher.wait(c)
    assert line["incident"] == "exit" and line["exit_code"] == 4
    assert line["verdict"] == "app-exit-error"
    # Its logs, as watch read them while it ran (the engine removed them with it), or as the
    # engine still had them when it was collected: either way in the bundle and the verdict.
    assert line["title"] == "exited with code 4: fatal: gone soon"
    target = findings_of(line)
    assert target["name"] == c and "app-exit-error" in ids(target)
    log = read_members(Path(line["bundle"]))[f"containers/{c}/logs/stdout.log"]
    assert b"starting" in log and b"fatal: gone soon" in log


def test_restart_loop_is_one_incident(engine, watcher):
    c = run(engine, watcher, "w-loop", "--restart", "always",
            cmd=("sh", "-c", "echo 'boom: cannot connect'; exit 1"))
    try:
        line = watcher.wait(c)
        assert line["incident"] == "restart-loop" and line["runs"] >= 3
        assert line["exit_code"] == 1  # from the die event, whatever the state is now
        found = ids(findings_of(line))
        # watch inspects at the die, within the engine's back-off (restarting: the exit
        # behind the loop is the verdict); on a machine so loaded that even that inspect came
        # after the next start, the container is running and the loop is the verdict.
        assert "restart-loop" in found
        assert line["verdict"] in ("app-exit-error", "restart-loop")
        if line["verdict"] == "app-exit-error":
            assert "app-exit-error" in found and "boom" in line["title"]
        # More restarts, still one incident: a later crash of another container is reported
        # after them (events in order) and this one is not reported again.
        count = engine.inspect(c)["RestartCount"]
        wait_for(lambda: engine.inspect(c)["RestartCount"] >= count + 2, timeout=60,
                 what="more restarts")
        after = run(engine, watcher, "w-after", cmd=("sh", "-c", "exit 2"))
        watcher.wait(after)
        assert len(watcher.incidents(c)) == 1
    finally:
        docker("update", "--restart=no", c, check=False)
        docker("rm", "-f", c, check=False)


def test_stop_timeout_after_a_flood_is_named_from_the_journal(engine, watcher, diagnose,
                                                              tmp_path):
    c = run(engine, watcher, "w-ignores", cmd=("sleep", "1000"))  # PID 1 ignores SIGTERM
    engine.wait_status(c, "running")
    docker("stop", "-t", "1", c)
    line = watcher.wait(c)
    assert line["incident"] == "stop-timeout"
    assert line["verdict"] == "killed-after-stop-timeout"
    # More than 256 other events: the engine's ring no longer holds this container's kills.
    flood = engine.run("w-flood", cmd=("sleep", "1000"))  # not watched
    api = docker_sdk.APIClient(version="auto")
    for n in range(270):  # one `update` event each
        api.update_container(flood, cpu_shares=512 + n % 2)
    api.close()
    created = engine.inspect(c)["Created"]
    left = docker("events", "--since", created, "--until", "0s", "--filter",
                  f"container={c}", "--format", "{{.Action}}").stdout.split()
    assert "kill" not in left, left
    journal = watcher.out / "journal"
    assert (journal / "events.jsonl").stat().st_mode & 0o777 == 0o600
    assert journal.stat().st_mode & 0o777 == 0o700
    text = (journal / "events.jsonl").read_text()
    assert "db.password" in text and SECRET not in text  # redacted like a bundle
    without = diagnose(c, "--format", "json", env={"DIAGNOSE_JOURNAL": str(tmp_path / "none")})
    assert without.json()["targets"][0]["verdict"]["id"] == "killed-by-signal"
    later = diagnose(c, "--format", "json", "--journal", str(journal))
    assert later.json()["targets"][0]["verdict"]["id"] == "killed-after-stop-timeout"
    events = json.loads(later.members()[f"containers/{c}/events.json"])
    kills = [e for e in events if e["Action"] == "kill"]
    assert [e["Actor"]["Attributes"]["signal"] for e in kills] == ["15", "9"]
    assert all(e.get("Source") == "watch-journal" for e in kills)
    (found,) = [f for f in later.json()["targets"][0]["findings"]
                if f["id"] == "killed-after-stop-timeout"]
    facts = {f["name"]: f["value"] for f in found["facts"]}
    assert "from the diagnose watch journal" in facts["events"]


def test_every_container_had_one_incident_and_sigterm_leaves_no_partial_bundle(engine,
                                                                              watcher):
    big = run(engine, watcher, "w-big", cmd=(
        "sh", "-c", "yes 'a long line of output that makes the logs large' | "
        "head -c 60000000; exit 1"))
    out = watcher.out
    wait_for(lambda: any(p.name.endswith(".tmp") for p in out.iterdir()), timeout=120,
             interval=0.01, what="a bundle being written")
    assert watcher.stop() == 0
    assert b"stopped (SIGTERM)" in watcher.stderr
    left = sorted(p.name for p in out.iterdir())
    assert not [n for n in left if n.endswith(".tmp")], left
    assert watcher.incidents(big) == []
    # The journal is whole: every line one event (its appends are fsync'd lines).
    for raw in (out / "journal" / "events.jsonl").read_text().splitlines():
        assert json.loads(raw)["Type"] == "container"
    names = [x["container"] for x in watcher.lines]
    assert len(names) == len(set(names)), names  # one incident per container
    # --keep: the newest bundles are on disk, each complete; the older ones went.
    assert len(watcher.lines) > KEEP
    kept = sorted(out.glob("diagnose-*.tar.gz"))
    assert kept == sorted(Path(x["bundle"]) for x in watcher.lines[-KEEP:])
    for path in kept:
        assert read_members(path)["findings.json"]
