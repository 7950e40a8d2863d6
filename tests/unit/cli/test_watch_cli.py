"""`diagnose watch` refuses what it cannot do in one line with the documented exit code,
before it watches anything (the real CLI, as a subprocess; no engine needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def watch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagnose", "watch", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(("args", "code", "says"), [
    (("--exec", "notify 'unbalanced"), 2, "--exec: No closing quotation"),
    (("--exec", " "), 2, "--exec is empty"),
    (("--format", "html"), 2, "watch prints text or json"),
    (("--debounce", "soon"), 2, "cannot read duration"),
    (("-o", "/nonexistent/dir", "-H", "unix:///nonexistent.sock"), 2, "does not exist"),
    (("-H", "unix:///nonexistent.sock"), 3, "no Docker engine answers"),
    (("--journal", "/proc/nope"), 2, "cannot keep the event journal in /proc/nope"),
])
def test_refusals(tmp_path: Path, args: tuple[str, ...], code: int, says: str):
    journal = () if "--journal" in args else ("--journal", str(tmp_path / "j"))
    proc = watch(*args, *journal, cwd=tmp_path)
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0] and "Traceback" not in proc.stderr
    assert proc.stdout == ""
