"""Faults on the engine side, against the real engine: wrong names, no engine, no permission,
an engine that stops answering (through a stalling proxy: the shared engine itself is never
stopped or paused), a container removed or restarted mid-collection.  Ctrl-C, SIGTERM and
SIGHUP: test_signals.py."""

from __future__ import annotations

import json
import time

from tests.support.engine import docker, wait_for
from tests.support.faults import (
    as_nobody,
    assert_one_line_error,
    finish,
    leftovers,
    shared_dir,
    start,
    wait_event,
)
from tests.support.proxy import StallingProxy
from tests.support.runs import run_diagnose

INSPECT_CALL = r"GET /v[\d.]+/containers/[^/]+/json"


def _running(engine, name: str) -> str:
    c = engine.run(name, cmd=("sh", "-c", "echo up; echo oops >&2; exec sleep 100000"))
    wait_for(lambda: "up" in docker("logs", c).stdout, what=f"{c} output")
    return c


def test_unknown_container(engine, diagnose):
    c = engine.create("unknown", cmd=("true",))
    r = diagnose(c + "zz", "--quiet")
    assert_one_line_error(r, 2, "no such container", f"did you mean {c}")


def test_ambiguous_prefix(engine, diagnose):
    seen: dict[str, str] = {}
    for i in range(17):  # 16 hex digits: two share a first digit by the 17th
        cid = engine.inspect(engine.create(f"ambig{i}", cmd=("true",)))["Id"]
        if cid[0] in seen:
            line = assert_one_line_error(diagnose(cid[0], "--quiet"), 2, "is ambiguous",
                                         "give more characters")
            assert cid[:12] in line and seen[cid[0]][:12] in line
            return
        seen[cid[0]] = cid
    raise AssertionError("no shared first digit after 17 containers")


def test_engine_unreachable(diagnose, tmp_path):
    r = diagnose("web", "--host", f"unix://{tmp_path}/no-engine.sock")
    assert_one_line_error(r, 3, "no Docker engine answers", "start dockerd")


def test_socket_permission_denied_as_unprivileged_user(engine):
    c = engine.create("perm", cmd=("true",))
    with shared_dir() as out:
        r = as_nobody(c, "--output", str(out), cwd=out)
        assert_one_line_error(r, 3, "permission denied", "/var/run/docker.sock",
                              "docker group", "sudo")
        assert leftovers(out) == []


def test_engine_silent_from_the_start_exits_3(tmp_path):
    with StallingProxy(stall_after=0) as proxy:
        began = time.monotonic()
        r = run_diagnose("web", "--host", proxy.host, "--timeout", "2", "-o", str(tmp_path),
                         cwd=tmp_path, timeout=60)
        elapsed = time.monotonic() - began
    assert_one_line_error(r, 3, "did not answer in time", "raise --timeout")
    assert elapsed < 15, elapsed
    assert leftovers(tmp_path) == []


def _collectors(doc: dict) -> dict[tuple[str, str], dict]:
    out = {}
    for t in doc["targets"]:
        for c in t["collectors"]:
            out[(t["name"], c["name"])] = c
    return out


def test_engine_stops_answering_after_the_target_was_found(engine, tmp_path):
    """Everything after the target's inspect stalls: each call ends at --timeout, the
    overall --deadline skips the rest, and a (partial) bundle is still written."""
    c = _running(engine, "stall-mid")
    for extra, budget in ((("--deadline", "6"), 6 + 2 + 8), ((), 45)):
        out = tmp_path / ("deadline" if extra else "timeouts")
        out.mkdir()
        with StallingProxy(stall_after_match=INSPECT_CALL) as proxy:
            began = time.monotonic()
            r = run_diagnose(c, "--host", proxy.host, "--timeout", "2", *extra, "--format",
                             "json", "-o", str(out), cwd=out, timeout=120)
            elapsed = time.monotonic() - began
        assert r.code in (0, 1), r.stderr
        assert elapsed < budget, (extra, elapsed)
        assert r.bundle is not None, r.stderr
        doc = r.json()
        failed = {(f["owner"], f["name"]): f["reason"] for f in doc["collectors_failed"]}
        assert "did not answer in time" in failed[("engine", "version")]
        assert "did not answer in time" in failed[("engine", "info")]
        records = _collectors(doc)
        assert records[(c, "inspect")]["status"] == "ok"  # what resolution saw is kept
        for name in ("logs", "events", "diff", "entrypoint"):
            rec = records[(c, name)]
            assert rec["status"] in ("failed", "skipped"), (name, rec)
            assert ("did not answer in time" in rec["reason"]
                    or "--deadline" in rec["reason"]), (name, rec)
        if extra:
            assert any("--deadline" in rec["reason"] for rec in records.values())
        manifest = json.loads(r.members()["manifest.json"])
        assert {x["name"]: x["status"] for x in manifest["collectors"]
                if x["owner"] == "engine"}["info"] == "failed"
        assert leftovers(out) == [r.bundle.name]


def _one_endpoint_stalled(stall_paths: str, tmp_path, *targets: str):
    """diagnose `targets` with --timeout 2 through a proxy that never answers the requests
    matching `stall_paths`: the run ends in time with a normal exit code.  Its result, and
    its collector records by (target, collector)."""
    with StallingProxy(stall_paths=stall_paths) as proxy:
        began = time.monotonic()
        r = run_diagnose(*targets, "--host", proxy.host, "--timeout", "2", "--format", "json",
                         "-o", str(tmp_path), cwd=tmp_path, timeout=60)
        elapsed = time.monotonic() - began
    assert r.code in (0, 1), r.stderr
    assert elapsed < 20, elapsed
    return r, _collectors(r.json())


def _timed_out(record: dict) -> None:
    assert record["status"] == "failed", record
    assert "did not answer in time" in record["reason"], record


def test_engine_stalls_on_one_endpoint(engine, tmp_path):
    c = _running(engine, "stall-logs")
    r, records = _one_endpoint_stalled(r"/logs\?", tmp_path, c)
    _timed_out(records[(c, "logs")])
    for name in ("inspect", "image", "top", "history", "events", "diff", "entrypoint"):
        assert records[(c, name)]["status"] == "ok", (name, records[(c, name)])
    members = r.members()
    assert f"containers/{c}/errors/logs.txt" in members
    assert f"containers/{c}/logs/stdout.log" not in members


def test_stats_that_never_come_hold_back_nothing_else(engine, tmp_path):
    """Stats are taken late (the engine answers them at its next sample): when the engine
    never answers them, that container's stats fail at --timeout and everything else of it,
    and of a stopped container beside it, is in the bundle."""
    c = _running(engine, "stall-stats")
    stopped = engine.run("stall-stats-exited", cmd=("sh", "-c", "echo done; exit 3"))
    engine.wait_status(stopped, "exited")
    r, records = _one_endpoint_stalled(r"/stats\?", tmp_path, c, stopped)
    _timed_out(records[(c, "stats")])
    assert records[(stopped, "stats")]["status"] == "skipped"  # not running: nothing to ask
    for name in ("inspect", "logs", "top", "events", "diff", "entrypoint"):
        assert records[(c, name)]["status"] == "ok", (name, records[(c, name)])
    members = r.members()
    assert f"containers/{c}/errors/stats.txt" in members
    assert f"containers/{stopped}/logs/stdout.log" in members


def test_container_removed_while_being_collected(engine, tmp_path):
    c = _running(engine, "removed")
    with StallingProxy(hold_paths=r"/logs\?") as proxy:
        proc = start(c, "--host", proxy.host, "--format", "json", "-o", str(tmp_path),
                     cwd=tmp_path)
        wait_event(proxy.held, 60, "the log request")
        docker("rm", "-f", c)
        proxy.release()
        r = finish(proc)
    assert r.code in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    records = _collectors(doc)
    assert records[(c, "logs")]["status"] == "failed"
    assert "not found" in records[(c, "logs")]["reason"]
    inspect_rec = records[(c, "inspect")]
    assert inspect_rec["reason"] == "container changed while being collected"
    assert inspect_rec["detail"]["changed_during_collection"] == {"removed": True}
    bundles = [p for p in tmp_path.iterdir() if p.name.endswith(".tar.gz")]
    assert len(bundles) == 1 and leftovers(tmp_path) == [bundles[0].name]
    manifest = json.loads(run_diagnose("analyze", str(bundles[0]), "--format", "json",
                                       "--exit-zero", cwd=tmp_path).stdout)
    assert _collectors(manifest)[(c, "inspect")]["detail"]["changed_during_collection"] == \
        {"removed": True}


def test_container_restarted_while_being_collected(engine, tmp_path):
    c = _running(engine, "restarted")
    before = engine.state(c)
    with StallingProxy(hold_paths=r"/logs\?") as proxy:
        proc = start(c, "--host", proxy.host, "--format", "json", "-o", str(tmp_path),
                     cwd=tmp_path)
        wait_event(proxy.held, 60, "the log request")
        docker("restart", "-t", "0", c)
        proxy.release()
        r = finish(proc)
    assert r.code in (0, 1), r.stderr
    after = engine.state(c)
    changed = _collectors(json.loads(r.stdout))[(c, "inspect")]["detail"][
        "changed_during_collection"]
    assert changed["StartedAt"] == [before["StartedAt"], after["StartedAt"]]
    assert changed["Pid"] == [before["Pid"], after["Pid"]]
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tar.gz")]
