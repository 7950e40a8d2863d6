"""The live run keeps within the bundle bounds (diagnose/model/limits.py), on the real engine: a
long log is analysed through its window the same way live and offline, a selection beyond the
container bound is refused before anything is collected, and `docker diff` is capped.

Bounds that would need thousands of containers or files are lowered in the diagnose process
itself (`python -c` sets the constant, then runs the real CLI): the code path is the same.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

from diagnose.model import limits as lim
from tests.support.engine import docker_bytes, wait_for
from tests.support.runs import read_members, run_diagnose

_PATCHED = ("import sys, importlib; module, name, value = sys.argv[1:4]; "
            "setattr(importlib.import_module(module), name, int(value)); "
            "from diagnose.cli.main import main; sys.argv = ['diagnose', *sys.argv[4:]]; main()")


def _patched(module: str, name: str, value: int, *args: str, cwd: Path
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _PATCHED, module, name, str(value), *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def _logs_step(doc: dict) -> str:
    return next(s["answer"] for s in doc["targets"][0]["path"] if s["stage"] == "logs")


def test_a_long_log_is_analysed_through_its_window_live_and_offline(engine, diagnose,
                                                                    tmp_path):
    lines = lim.LOG_HEAD_LINES + lim.LOG_TAIL_LINES + 5_000
    script = f"seq 1 {lines}; echo 'fatal error: out of widgets' >&2; exit 3"
    c = engine.run("longlog", cmd=("sh", "-c", script))
    engine.wait_status(c, "exited")
    wait_for(lambda: b"widgets" in docker_bytes("logs", c).stderr, what="the last line")
    live = diagnose(c, "--tail", "all", "--format", "json", "--exit-zero")
    assert live.code == 0 and live.bundle is not None, live.stderr
    answer = _logs_step(live.json())
    skipped = lines - lim.LOG_HEAD_LINES - lim.LOG_TAIL_LINES
    assert f"{lines} stdout and 1 stderr lines" in answer, answer
    assert (f"stdout: lines {lim.LOG_HEAD_LINES + 1:,}-{lim.LOG_HEAD_LINES + skipped:,}"
            in answer and "not analysed" in answer), answer
    stdout = read_members(live.bundle)[f"containers/{c}/logs/stdout.log"]
    assert stdout.count(b"\n") == lines  # the bundle keeps the whole log
    offline = diagnose("analyze", str(live.bundle), "--format", "json", "--exit-zero")
    assert offline.code == 0, offline.stderr
    assert _logs_step(offline.json()) == answer
    ids = [f["id"] for f in live.json()["targets"][0]["findings"]]
    assert ids == [f["id"] for f in offline.json()["targets"][0]["findings"]]
    assert "app-exit-error" in ids  # decided by the last lines, which are in the window


def test_more_containers_than_a_bundle_holds_are_refused_before_collection(engine, tmp_path):
    tag = f"diagnose.test.bounds={uuid.uuid4().hex[:8]}"
    for i in range(3):
        engine.create(f"many{i}", "--label", tag, cmd=("true",))
    proc = _patched("diagnose.runs.sessions", "MAX_CONTAINERS", 2, "--filter", f"label={tag}",
                    "-o", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "3 containers selected; a bundle holds at most 2" in proc.stderr
    assert "--filter" in proc.stderr and list(tmp_path.glob("*.tar.gz")) == []
    ok = run_diagnose("--filter", f"label={tag}", "--exit-zero", "-o", str(tmp_path),
                      cwd=tmp_path)  # the real bound takes them
    assert ok.code == 0 and ok.bundle is not None, ok.stderr


def test_docker_diff_is_capped_and_the_bundle_reads_back(engine, tmp_path):
    c = engine.run("bigdiff", cmd=("sh", "-c", "mkdir /d && cd /d && touch a b c d e f g h; "
                                   "exec sleep 100000"))
    wait_for(lambda: b"/d/h" in subprocess.run(["docker", "diff", c], capture_output=True,
                                               check=False).stdout, what="the files")
    proc = _patched("diagnose.collect.container", "MAX_DIFF_ENTRIES", 3, c, "--format",
                    "json", "--exit-zero", "-o", str(tmp_path), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    record = next(r for r in json.loads(proc.stdout)["targets"][0]["collectors"]
                  if r["name"] == "diff")
    assert record["truncated"] is True and record["detail"]["kept"] == 3
    assert record["detail"]["changes"] >= 9
    bundle = next(tmp_path.glob("diagnose-*.tar.gz"))
    assert len(json.loads(read_members(bundle)[f"containers/{c}/diff.json"])) == 3
    again = run_diagnose("analyze", str(bundle), "--exit-zero", cwd=tmp_path)
    assert again.code == 0, again.stderr
