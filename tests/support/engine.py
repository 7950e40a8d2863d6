"""The real engine for tests: the docker CLI, waiting for a condition, and :class:`Engine`,
which creates labelled containers, images, networks and volumes and removes them afterwards.

Every object a test session creates carries the label `diagnose.test.run=<this session>`.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
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
        """`docker inspect` through the CLI.  Podman's inspect of a container whose process
        has just exited (a restart loop) fails for a moment (`read /proc/PID/cgroup: no such
        process`): it is asked again, as diagnose does (collect/targets.py)."""
        for tries in range(1, 6):
            out = docker("inspect", ref, check=False)
            if out.returncode == 0 or "no such process" not in out.stderr or tries == 5:
                break
            time.sleep(0.05 * tries)
        if out.returncode != 0:
            raise AssertionError(f"docker inspect {ref} failed ({out.returncode}): "
                                 f"{out.stderr.strip()}")
        return json.loads(out.stdout)[0]

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

    def labelled(self, kind: str) -> list[str]:
        """The IDs of this session's objects of one kind (a key of :data:`LISTS`)."""
        out = docker(*LISTS[kind], "--filter", f"label={self.label}", check=False).stdout
        return sorted(set(out.split()))

    def leftovers(self) -> dict[str, list[str]]:
        """What this session created and is still there, by kind (empty after cleanup)."""
        return {kind: ids for kind in LISTS if (ids := self.labelled(kind))}

    def cleanup(self) -> None:
        """Remove everything this session created."""
        for kind, remove in (("containers", ("rm", "-f", "-v")), ("networks", ("network", "rm")),
                             ("volumes", ("volume", "rm", "-f"))):
            ids = self.labelled(kind)
            if ids:
                docker(*remove, *ids, check=False)
        # An image built FROM another of this session's images cannot be removed before its
        # child, whatever the order `images` lists them in: remove until none is left or a
        # round removes nothing.
        left: list[str] = []
        while (imgs := self.labelled("images")) and imgs != left:
            docker("rmi", "-f", *imgs, check=False)
            left = imgs


#: How to list each kind of object the tests create (`--filter label=...` is added).
LISTS: dict[str, tuple[str, ...]] = {
    "containers": ("ps", "-aq"), "networks": ("network", "ls", "-q"),
    "volumes": ("volume", "ls", "-q"), "images": ("images", "-q"),
}


def engine_answers() -> str:
    """'' when an engine answers, else why not."""
    try:
        proc = docker("version", "--format", "{{.Server.Version}}", check=False, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return "" if proc.returncode == 0 else (proc.stderr.strip() or "docker version failed")
