"""The CLI end to end on the real engine: targets, exit codes, analyze, bad input."""

from __future__ import annotations

import json
import os
import socket
import threading

from tests.conftest import docker


def test_unknown_container_suggests_close_names(engine, diagnose):
    c = engine.create("spelling", cmd=("true",))
    r = diagnose(c[:-1] + "x", "--quiet")
    assert r.code == 2
    assert "no such container" in r.stderr and c in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == "" and r.bundle is None


def test_id_prefix_and_short_id_resolve(engine, diagnose):
    c = engine.create("byid", cmd=("true",))
    full = engine.inspect(c)["Id"]
    for ref in (full, full[:12], full[:7]):
        r = diagnose(ref, "--quiet", "--format", "json", "--exit-zero")
        assert r.code == 0, r.stderr
        assert r.json()["targets"][0]["id"] == full


def test_ambiguous_prefix_lists_candidates(engine, diagnose):
    ids = {}
    # Make containers until two share a first hex digit (16 digits: at most 17 tries).
    for i in range(17):
        c = engine.create(f"amb{i}", cmd=("true",))
        cid = engine.inspect(c)["Id"]
        if cid[0] in ids:
            prefix = cid[0]
            others = [x for x in docker("ps", "-aq", "--no-trunc").stdout.split()
                      if x.startswith(prefix)]
            r = diagnose(prefix, "--quiet")
            assert r.code == 2, r.stderr
            assert "ambiguous" in r.stderr
            assert f"matches {len(others)} containers" in r.stderr
            assert cid[:12] in r.stderr and ids[cid[0]][:12] in r.stderr
            return
        ids[cid[0]] = cid
    raise AssertionError("no shared prefix after 17 containers")


def test_engine_unreachable_exits_3(diagnose, tmp_path):
    r = diagnose("anything", "--host", f"unix://{tmp_path}/nothing.sock")
    assert r.code == 3
    assert "no Docker engine answers" in r.stderr and "Traceback" not in r.stderr


def test_engine_refusing_connection_exits_3(diagnose, tmp_path):
    sock_path = tmp_path / "silent.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(sock_path))
    os.chmod(sock_path, 0)  # even root: connect() works, but nothing will ever answer
    srv.listen(1)

    def accept_and_close() -> None:
        try:
            conn, _ = srv.accept()
            conn.close()
        except OSError:
            pass

    threading.Thread(target=accept_and_close, daemon=True).start()
    r = diagnose("anything", "--host", f"unix://{sock_path}", "--timeout", "2")
    srv.close()
    assert r.code == 3, r.stderr
    assert "Traceback" not in r.stderr


def test_output_directory_missing_exits_2(engine, tmp_path):
    from tests.conftest import run_diagnose

    c = engine.create("outdir", cmd=("true",))
    r = run_diagnose(c, "--output", str(tmp_path / "nope"), cwd=tmp_path)
    assert r.code == 2
    assert "does not exist" in r.stderr and r.bundle is None


def test_fail_on_and_exit_zero(engine, diagnose):
    c = engine.create("failon", cmd=("true",))  # created-not-started: a warning
    assert diagnose(c, "--quiet").code == 0  # default --fail-on error
    assert diagnose(c, "--quiet", "--fail-on", "warning").code == 1
    assert diagnose(c, "--quiet", "--fail-on", "warning", "--exit-zero").code == 0
    r = diagnose(c, "--quiet", "--fail-on", "bogus")
    assert r.code == 2 and "--fail-on" in r.stderr


def test_analyze_reproduces_the_live_findings(engine, diagnose):
    oom = engine.run("oom", "--memory", "32m",
                     cmd=("sh", "-c", "echo start; x=a; while true; do x=$x$x; done"))
    engine.wait_status(oom, "exited")
    created = engine.create("created2", cmd=("true",))
    live = diagnose(oom, created, "--quiet", "--format", "json")
    assert live.code == 1
    offline = diagnose("analyze", str(live.bundle), "--format", "json")
    assert offline.code == 1, offline.stderr

    def strip(doc):
        doc = json.loads(json.dumps(doc))
        for key in ("mode", "bundle"):
            doc.pop(key)
        for t in doc["targets"]:
            for o in t["checks"]:
                o.pop("duration_ms")
            for c in t["collectors"]:
                c.pop("duration_ms")
        for o in doc["run"]["checks"]:
            o.pop("duration_ms")
        return doc

    assert strip(live.json()) == strip(offline.json())
    ids = {f["id"] for t in live.json()["targets"] for f in t["findings"]}
    assert {"oom-killed", "created-not-started"} <= ids
    # findings.json inside the bundle is the same document as the live JSON report.
    assert strip(json.loads(live.members()["findings.json"])) == strip(live.json())
