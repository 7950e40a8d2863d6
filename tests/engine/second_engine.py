"""A second, real Docker engine on this machine, for several-engine runs.

It is a second dockerd with its own data root, exec root and socket, no bridge and no
iptables rules (so it never touches the first engine's networking); containers on it run
with `--network none`.  The test image is copied over with `docker save | docker load`.
The daemon is stopped when the session ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BASE_IMAGE, LABEL, RUN_ID

ROOT = Path(os.environ.get("DIAGNOSE_ENGINE2_DIR", "/var/lib/diagnose-engine2"))
SOCKET = ROOT / "docker.sock"
HOST = f"unix://{SOCKET}"


def docker2(*args: str, check: bool = True, input: bytes | None = None
            ) -> subprocess.CompletedProcess[bytes]:
    """The docker CLI against the second engine."""
    proc = subprocess.run(["docker", "-H", HOST, *args], capture_output=True, input=input,
                          timeout=120, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker -H {HOST} {' '.join(args)}: {proc.stderr.decode()}")
    return proc


def _answers() -> bool:
    try:
        return docker2("version", check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def engine2(engine) -> Iterator[str]:
    """The second engine's host URL (started here when it does not answer)."""
    started = None
    if not _answers():
        ROOT.mkdir(parents=True, exist_ok=True)
        log = open(ROOT / "dockerd.log", "ab")  # noqa: SIM115 - the daemon keeps it
        started = subprocess.Popen(
            ["dockerd", "--data-root", str(ROOT / "data"), "--exec-root", str(ROOT / "exec"),
             "--pidfile", str(ROOT / "dockerd.pid"), "-H", HOST, "--bridge=none",
             "--iptables=false", "--ip6tables=false"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while not _answers():
            if started.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"second dockerd did not start; see {ROOT / 'dockerd.log'}",
                            pytrace=False)
            time.sleep(0.3)
    if docker2("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
        image = subprocess.run(["docker", "save", BASE_IMAGE], capture_output=True,
                               check=True).stdout
        docker2("load", input=image)
    try:
        yield HOST
    finally:
        ids = docker2("ps", "-aq", "--filter", f"label={LABEL}={RUN_ID}",
                      check=False).stdout.decode().split()
        if ids:
            docker2("rm", "-f", *ids, check=False)
        if started is not None:
            started.send_signal(signal.SIGTERM)
            try:
                started.wait(30)
            except subprocess.TimeoutExpired:
                started.kill()
