"""A second, real Docker engine on this machine, for several-engine runs.

It is a second dockerd with its own data root, exec root and socket, its own bridge
interface and no iptables rules, so it never touches the first engine's networking.  (Not
`--bridge=none`: a dockerd started that way deletes the `docker0` interface, which the
first engine on the same host still uses.)  Containers on it run
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

from tests.support.engine import BASE_IMAGE, LABEL, RUN_ID

ROOT = Path(os.environ.get("DIAGNOSE_ENGINE2_DIR", "/var/lib/diagnose-engine2"))
SOCKET = ROOT / "docker.sock"
HOST = f"unix://{SOCKET}"
BRIDGE = "diagnose-e2"
BRIDGE_ADDR = "172.30.254.1/24"


def docker2(*args: str, check: bool = True, input: bytes | None = None
            ) -> subprocess.CompletedProcess[bytes]:
    """The docker CLI against the second engine."""
    proc = subprocess.run(["docker", "-H", HOST, *args], capture_output=True, input=input,
                          timeout=120, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker -H {HOST} {' '.join(args)}: {proc.stderr.decode()}")
    return proc


def _link_exists(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True).returncode == 0


def _own_bridge() -> None:
    """Create the second engine's bridge interface (dockerd `--bridge` wants it to exist)."""
    if _link_exists(BRIDGE):
        return
    for cmd in (["ip", "link", "add", BRIDGE, "type", "bridge"],
                ["ip", "addr", "add", BRIDGE_ADDR, "dev", BRIDGE],
                ["ip", "link", "set", BRIDGE, "up"]):
        subprocess.run(cmd, capture_output=True, check=True)


def _answers() -> bool:
    try:
        return docker2("version", check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def engine2(engine) -> Iterator[str]:
    """The second engine's host URL (started here when it does not answer)."""
    started = None
    had_docker0 = _link_exists("docker0")
    if not _answers():
        ROOT.mkdir(parents=True, exist_ok=True)
        _own_bridge()
        log = open(ROOT / "dockerd.log", "ab")  # noqa: SIM115 - the daemon keeps it
        started = subprocess.Popen(
            ["dockerd", "--data-root", str(ROOT / "data"), "--exec-root", str(ROOT / "exec"),
             "--pidfile", str(ROOT / "dockerd.pid"), "-H", HOST, f"--bridge={BRIDGE}",
             "--iptables=false", "--ip6tables=false"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while not _answers():
            if started.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"second dockerd did not start; see {ROOT / 'dockerd.log'}",
                            pytrace=False)
            time.sleep(0.3)
    if had_docker0 and not _link_exists("docker0"):
        pytest.fail("starting the second engine removed docker0, the first engine's bridge",
                    pytrace=False)
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
