"""Shared test fixtures.

Engine tests talk to a real Docker engine (scripts/engine.sh starts one).  Every object they
create carries the label `diagnose.test.run=<this session>` and is removed when the session
ends.  When no engine answers, engine tests FAIL (they never skip): set up the engine first.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN_ID = uuid.uuid4().hex[:10]
LABEL = "diagnose.test.run"
BASE_IMAGE = "diagnose-test/busybox:latest"


def docker(*args: str, check: bool = True, input: bytes | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI (the cross-check for fidelity, and how tests set up containers)."""
    proc = subprocess.run(["docker", *args], capture_output=True, timeout=timeout,
                          input=input, check=False)
    out = subprocess.CompletedProcess(proc.args, proc.returncode,
                                      proc.stdout.decode("utf-8", "replace"),
                                      proc.stderr.decode("utf-8", "replace"))
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({proc.returncode}): "
                             f"{out.stderr.strip()}")
    return out


def docker_bytes(*args: str) -> subprocess.CompletedProcess[bytes]:
    """Run the docker CLI and keep raw bytes (for log fidelity)."""
    return subprocess.run(["docker", *args], capture_output=True, timeout=120, check=False)


def wait_for(predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.2,
             what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy; fail the test with `what` otherwise."""
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Engine:
    """Create labelled containers, images, networks and volumes on the real engine."""

    def __init__(self) -> None:
        self.run_id = RUN_ID
        self.label = f"{LABEL}={RUN_ID}"
        self._used: dict[str, int] = {}

    def name(self, base: str) -> str:
        """A container/network name unique to this session (and to each call)."""
        n = self._used.get(base, 0)
        self._used[base] = n + 1
        return f"dt-{RUN_ID[:6]}-{base}" + (f"-{n + 1}" if n else "")

    def run(self, name: str, *args: str, image: str = BASE_IMAGE, cmd: tuple[str, ...] = (),
            detach: bool = True, check: bool = True) -> str:
        """`docker run -d` a labelled container; returns its full name."""
        full = self.name(name)
        argv = ["run", "--label", self.label, "--name", full]
        if detach:
            argv.append("-d")
        docker(*argv, *args, image, *cmd, check=check)
        return full

    def create(self, name: str, *args: str, image: str = BASE_IMAGE,
               cmd: tuple[str, ...] = ()) -> str:
        """`docker create` a labelled container; returns its full name."""
        full = self.name(name)
        docker("create", "--label", self.label, "--name", full, *args, image, *cmd)
        return full

    def build(self, name: str, dockerfile: str, files: dict[str, bytes | str] | None = None
              ) -> str:
        """Build a labelled image from a Dockerfile and context files; returns its tag."""
        import io

        tag = f"diagnose-test/{RUN_ID}-{name}:latest"
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            entries = {"Dockerfile": dockerfile, **(files or {})}
            for path, content in entries.items():
                data = content.encode() if isinstance(content, str) else content
                info = tarfile.TarInfo(path)
                info.size = len(data)
                info.mode = 0o755 if path.endswith((".sh", "bin")) else 0o644
                tf.addfile(info, io.BytesIO(data))
        docker("build", "-q", "--force-rm", "--label", self.label, "-t", tag, "-",
               input=buf.getvalue())
        return tag

    def network(self, name: str, *args: str) -> str:
        """A labelled user-defined network."""
        full = self.name(name)
        docker("network", "create", "--label", self.label, *args, full)
        return full

    def volume(self, name: str) -> str:
        """A labelled volume."""
        full = self.name(name)
        docker("volume", "create", "--label", self.label, full)
        return full

    def inspect(self, ref: str) -> dict[str, Any]:
        """`docker inspect` through the CLI."""
        return json.loads(docker("inspect", ref).stdout)[0]

    def state(self, ref: str) -> dict[str, Any]:
        """The fields that must never change because of diagnose."""
        data = self.inspect(ref)
        st = data["State"]
        return {"Status": st["Status"], "StartedAt": st["StartedAt"],
                "FinishedAt": st["FinishedAt"], "Pid": st["Pid"],
                "RestartCount": data["RestartCount"], "Paused": st["Paused"],
                "Running": st["Running"], "ExitCode": st["ExitCode"]}

    def wait_status(self, ref: str, status: str, timeout: float = 30) -> dict[str, Any]:
        """Wait until the container reaches `status`."""
        return wait_for(lambda: (d := self.inspect(ref))["State"]["Status"] == status and d,
                        timeout, what=f"{ref} to be {status}")

    def cleanup(self) -> None:
        """Remove everything this session created."""
        flt = f"label={self.label}"
        ids = docker("ps", "-aq", "--filter", flt, check=False).stdout.split()
        if ids:
            docker("rm", "-f", "-v", *ids, check=False)
        nets = docker("network", "ls", "-q", "--filter", flt, check=False).stdout.split()
        if nets:
            docker("network", "rm", *nets, check=False)
        vols = docker("volume", "ls", "-q", "--filter", flt, check=False).stdout.split()
        if vols:
            docker("volume", "rm", "-f", *vols, check=False)
        imgs = docker("images", "-q", "--filter", flt, check=False).stdout.split()
        if imgs:
            docker("rmi", "-f", *sorted(set(imgs)), check=False)


def engine_answers() -> str:
    """'' when an engine answers, else why not."""
    try:
        proc = docker("version", "--format", "{{.Server.Version}}", check=False, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return "" if proc.returncode == 0 else (proc.stderr.strip() or "docker version failed")


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The real engine.  No engine is a failure, never a skip (run scripts/engine.sh)."""
    why = engine_answers()
    if why:
        pytest.fail(f"no Docker engine answers ({why}); run scripts/engine.sh first "
                    "(scripts/test.sh does)", pytrace=False)
    if docker("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
        pytest.fail(f"{BASE_IMAGE} is missing; run scripts/engine.sh", pytrace=False)
    eng = Engine()
    try:
        yield eng
    finally:
        eng.cleanup()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/engine uses the real engine."""
    for item in items:
        if "tests/engine/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.engine)


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
    """Every regular file of a bundle, in archive order."""
    out: dict[str, bytes] = {}
    with tarfile.open(path, "r:gz") as tf:
        for m in tf:
            if m.isreg():
                fh = tf.extractfile(m)
                out[m.name] = fh.read() if fh else b""
    return out


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


@pytest.fixture
def diagnose(tmp_path: Path) -> Callable[..., Result]:
    """Run the real diagnose CLI with the bundle written to a fresh directory."""
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> Result:
        return run_diagnose(*args, "--output", str(tmp_path), cwd=tmp_path, env=env,
                            timeout=timeout) if args and args[0] not in (
            "analyze", "checks", "explain", "--version", "--help") else run_diagnose(
            *args, cwd=tmp_path, env=env, timeout=timeout)
    return run


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
