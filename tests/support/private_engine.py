"""A private dockerd that a test may stop and start again (the shared engine and the shared
second engine are never restarted): its own data root, exec root (its own containerd),
socket and bridge, no iptables rules, `--live-restore` so its containers outlive it."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.support.engine import BASE_IMAGE

BRIDGE = "diagnose-w3"
BRIDGE_ADDR = "172.30.253.1/24"


def _own_bridge() -> None:
    if subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode == 0:
        return
    for cmd in (["ip", "link", "add", BRIDGE, "type", "bridge"],
                ["ip", "addr", "add", BRIDGE_ADDR, "dev", BRIDGE],
                ["ip", "link", "set", BRIDGE, "up"]):
        subprocess.run(cmd, capture_output=True, check=True)


class PrivateEngine:
    """Start, stop and restart a dockerd of the test's own under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.host = f"unix://{root / 'd.sock'}"
        self.proc: subprocess.Popen[bytes] | None = None
        _own_bridge()

    def docker(self, *args: str, check: bool = True, input: bytes | None = None
               ) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(["docker", "-H", self.host, *args], capture_output=True,
                              input=input, timeout=120, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)}: {proc.stderr.decode()}")
        return proc

    def start(self) -> None:
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - the daemon keeps it
        self.proc = subprocess.Popen(
            ["dockerd", "--data-root", str(self.root / "data"), "--exec-root",
             str(self.root / "exec"), "--pidfile", str(self.root / "d.pid"), "-H", self.host,
             f"--bridge={BRIDGE}", "--iptables=false", "--ip6tables=false", "--live-restore"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 90
        while self.docker("version", check=False).returncode != 0:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"private dockerd did not start: {self.root}/dockerd.log")
            time.sleep(0.2)
        if self.docker("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
            image = subprocess.run(["docker", "save", BASE_IMAGE], capture_output=True,
                                   check=True).stdout
            self.docker("load", input=image)

    def stop(self) -> None:
        """SIGTERM the daemon and wait for it (live-restore: containers keep running)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)

    def close(self) -> None:
        """Remove every container, then stop the daemon and its containerd for good."""
        if self.proc is not None and self.proc.poll() is None:
            ids = self.docker("ps", "-aq", check=False).stdout.decode().split()
            if ids:
                self.docker("rm", "-f", *ids, check=False)
        self.stop()
        # Its own containerd (under the exec root) outlives a live-restore dockerd.
        found = subprocess.run(["pgrep", "-f", str(self.root / "exec")], capture_output=True)
        for pid in found.stdout.decode().split():
            subprocess.run(["kill", pid], capture_output=True)
        # dockerd bind-mounts its data root onto itself and leaves it so when it stops.
        with open("/proc/mounts", encoding="utf-8") as fh:
            mounts = [line.split()[1] for line in fh if str(self.root) in line.split()[1]]
        for point in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)
