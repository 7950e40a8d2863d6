"""The CLI end to end on the real engine: targets, exit codes, analyze, bad input."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

from tests.support.runs import run_diagnose


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
            r = diagnose(prefix, "--quiet")
            assert r.code == 2, r.stderr
            assert "ambiguous" in r.stderr
            # Other sessions share the engine: count at least ours, never a global number.
            count = re.search(r"matches (\d+) containers", r.stderr)
            assert count is not None and int(count.group(1)) >= 2, r.stderr
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
    from tests.support.runs import run_diagnose

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
        # The report is a function of the evidence: offline it is the live one, exactly,
        # apart from how it was made and where the bundle is.
        doc = json.loads(json.dumps(doc))
        for key in ("mode", "bundle"):
            doc.pop(key)
        return doc

    assert strip(live.json()) == strip(offline.json())
    ids = {f["id"] for t in live.json()["targets"] for f in t["findings"]}
    assert {"oom-killed", "created-not-started"} <= ids
    # findings.json inside the bundle is the same document as the live JSON report.
    assert strip(json.loads(live.members()["findings.json"])) == strip(live.json())


def test_unknown_name_suggests_names_that_contain_it(engine, diagnose):
    c = engine.create("payments-api", cmd=("true",))
    r = diagnose("payments-ap", "--quiet")  # a prefix of a Compose-style name
    assert r.code == 2
    assert f"did you mean {c} (" in r.stderr and ", created)" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1  # one line: the error and what to do


def test_unreadable_bundles_exit_2_with_one_line(engine, diagnose, tmp_path):
    c = engine.create("forbundle", cmd=("true",))
    good = diagnose(c, "--quiet", "--exit-zero")
    assert good.code == 0 and good.bundle is not None
    data = good.bundle.read_bytes()
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"this is not a bundle\n" * 100)
    cases = {
        str(tmp_path / "missing.tar.gz"): "no such bundle",
        str(truncated): "truncated",
        str(garbage): "not a gzip file",
        str(tmp_path): "is not a file",
    }
    for path, words in cases.items():
        r = diagnose("analyze", path)
        assert r.code == 2, (path, r.stderr)
        assert words in r.stderr and r.stderr.startswith("diagnose: error: "), r.stderr
        assert "Traceback" not in r.stderr and r.stdout == ""


def test_usage_errors_exit_2(diagnose):
    for args in (("run",), ("--bogus-option", "web"), ("web", "--format", "yaml"),
                 ("web", "--tail", "lots"), ("web", "--fail-on", "bogus"),
                 ("web", "--host", "unix:///x.sock", "--context", "other"),
                 ("analyze",), ("explain", "no-such-check")):
        r = diagnose(*args)
        assert r.code == 2, (args, r.code, r.stderr)
        assert "Traceback" not in r.stderr and r.stdout == "", args


def test_permission_denied_on_the_socket_exits_3(tmp_path):
    """A socket we may not open: owned by nobody, mode 0600, and we run without
    CAP_DAC_OVERRIDE (root would otherwise open anything)."""
    sock_path = tmp_path / "engine.sock"
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(str(sock_path))
    srv.listen(1)
    os.chown(sock_path, 65534, 65534)
    os.chmod(sock_path, 0o600)
    os.chmod(tmp_path, 0o755)
    try:
        proc = subprocess.run(
            [shutil.which("setpriv") or "setpriv", "--bounding-set=-dac_override,-dac_read_search",
             "--", sys.executable, "-m", "diagnose", "web", "--host", f"unix://{sock_path}",
             "--output", str(tmp_path)],
            capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    finally:
        srv.close()
    assert proc.returncode == 3, proc.stderr
    assert "permission denied" in proc.stderr and "docker group" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def _plugin(tmp_path: Path, **modules: str) -> dict[str, str]:
    """A third-party check package on PYTHONPATH (a dist-info with entry points)."""
    root = tmp_path / "plugins"
    info = root / "diagnose_testplugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: diagnose-testplugin\n"
                                   "Version: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[diagnose.checks]\n" + "".join(f"{m} = {m}\n" for m in modules))
    for name, body in modules.items():
        (root / f"{name}.py").write_text(body)
    return {"PYTHONPATH": str(root)}


_RAISES = '''"""X901: A test check that raises.

Fix
    Nothing: it is a test plugin.
"""
from diagnose.model.findings import Severity
from diagnose.model.checks import check


@check("X901", "test-raises", severity=Severity.ERROR)
def raises(c):
    raise RuntimeError("boom from a test plugin")
'''

_GARBAGE = '''"""X902: A test check that yields something that is not a finding.

Fix
    Nothing: it is a test plugin.
"""
from diagnose.model.findings import Severity
from diagnose.model.checks import check


@check("X902", "test-garbage", severity=Severity.ERROR)
def garbage(c):
    yield "not a finding"
'''


def test_a_check_that_raises_is_recorded_and_with_debug_exits_70(engine, diagnose, tmp_path):
    c = engine.create("plugin-raises", cmd=("true",))
    env = _plugin(tmp_path, testplugin_raises=_RAISES)
    r = diagnose(c, "--quiet", "--format", "json", env=env)
    assert r.code == 0, r.stderr  # the created-not-started warning is below --fail-on
    doc = r.json()
    outcome = next(o for o in doc["targets"][0]["checks"] if o["code"] == "X901")
    assert outcome["status"] == "errored" and "boom from a test plugin" in outcome["reason"]
    assert any("X901" in p["source"] for p in doc["problems"])
    assert any(m.startswith("errors/checks/") for m in r.members())
    dbg = diagnose(c, "--quiet", "--debug", env=env)
    assert dbg.code == 70, dbg.stderr
    assert "Traceback (most recent call last)" in dbg.stderr
    assert "RuntimeError: boom from a test plugin" in dbg.stderr
    assert dbg.stdout == "" and dbg.bundle is None


def test_an_internal_error_exits_70_with_one_line(engine, diagnose, tmp_path):
    c = engine.create("plugin-garbage", cmd=("true",))
    r = diagnose(c, "--quiet", env=_plugin(tmp_path, testplugin_garbage=_GARBAGE))
    assert r.code == 70, r.stderr
    lines = r.stderr.strip().splitlines()
    assert lines[0].startswith("diagnose: error: internal error: ")
    assert "--debug" in lines[0] and len(lines) == 1
    assert r.stdout == "" and r.bundle is None
    # No temporary file is left in the output directory (the fixture's tmp_path) either.
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".diagnose-")]


def test_exit_1_at_or_above_fail_on_live_and_offline(engine, diagnose):
    oom = engine.run("exit-oom", "--memory", "32m",
                     cmd=("sh", "-c", "x=a; while true; do x=$x$x; done"))
    engine.wait_status(oom, "exited")
    live = diagnose(oom, "--quiet")
    assert live.code == 1, live.stderr  # critical >= error (the default)
    assert diagnose(oom, "--quiet", "--fail-on", "critical").code == 1
    assert diagnose(oom, "--quiet", "--exit-zero").code == 0
    bundle = str(live.bundle)
    assert diagnose("analyze", bundle).code == 1
    assert diagnose("analyze", bundle, "--exit-zero").code == 0
    assert diagnose("analyze", bundle, "--fail-on", "info", "--format", "json").code == 1
    healthy = engine.run("exit-healthy", cmd=("sleep", "100000"))
    assert diagnose(healthy, "--quiet", "--fail-on", "warning").code == 0
    assert run_diagnose("--version", cwd=live.bundle.parent).code == 0
