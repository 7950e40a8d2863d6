"""Running the real tool (`python -m diagnose`) and reading what it wrote: the bundle's
members and the findings of a JSON report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Result:
    """One real run of the diagnose CLI."""

    code: int
    stdout: str
    stderr: str
    bundle: Path | None

    def members(self) -> dict[str, bytes]:
        """The bundle's files."""
        assert self.bundle is not None, f"no bundle written; stderr: {self.stderr}"
        return read_members(self.bundle)

    def json(self) -> dict[str, Any]:
        """stdout parsed as JSON."""
        return json.loads(self.stdout)


def read_members(path: Path) -> dict[str, bytes]:
    """Every regular file of a bundle, in archive order, by its path inside the bundle's one
    top-level directory (named after the bundle: asserted)."""
    out: dict[str, bytes] = {}
    top = path.name.removesuffix(".tar.gz") + "/"
    with tarfile.open(path, "r:gz") as tf:
        for m in tf:
            if m.isreg():
                assert m.name.startswith(top), (m.name, top)
                fh = tf.extractfile(m)
                out[m.name.removeprefix(top)] = fh.read() if fh else b""
    return out


def inside(name: str) -> str:
    """A member's path inside its bundle's top-level directory (`diagnose-...`); a member of
    a bundle written before that directory, as it is."""
    top, sep, rest = name.partition("/")
    return rest if sep and top.startswith("diagnose-") else name


def run_diagnose(*args: str, cwd: Path, env: dict[str, str] | None = None,
                 timeout: float = 180) -> Result:
    """Run the real tool (`python -m diagnose`) as a subprocess."""
    before = set(cwd.glob("diagnose-*.tar.gz"))
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([sys.executable, "-m", "diagnose", *args], cwd=cwd,
                          capture_output=True, timeout=timeout, env=full_env, check=False)
    after = set(cwd.glob("diagnose-*.tar.gz")) - before
    bundle = sorted(after)[-1] if after else None
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                  proc.stderr.decode("utf-8", "replace"), bundle)


def findings(result: Result, target: str | None = None) -> list[dict[str, Any]]:
    """Findings of a JSON report (all targets, or one)."""
    doc = result.json()
    out = [f for t in doc["targets"] if target in (None, t["name"]) for f in t["findings"]]
    if target is None:
        out += doc["run"]["findings"]
    return out


def finding_ids(result: Result, target: str | None = None) -> set[str]:
    """The set of finding ids of a JSON report."""
    return {f["id"] for f in findings(result, target)}


#: Stages whose findings are advice about the engine or hygiene, not the diagnosis of a failure.
ADVICE_STAGES = frozenset({"hygiene", "engine"})


def cause_ids(result: Result, target: str | None = None) -> set[str]:
    """Finding ids of the diagnosis itself (security/hygiene and engine advice left out)."""
    return {f["id"] for f in findings(result, target) if f["stage"] not in ADVICE_STAGES}


def finding(result: Result, check_id: str, target: str | None = None) -> dict[str, Any]:
    """The one finding with `check_id` (fails the test when absent)."""
    found = [f for f in findings(result, target) if f["id"] == check_id]
    assert found, f"{check_id} not reported; got {sorted(finding_ids(result, target))}"
    return found[0]
