"""A private, throw-away Docker engine for tests that must change or restart an engine.

Some failures only exist when the engine itself is set up wrong (a broken runtime in
daemon.json) or goes away; the shared engine, and the shared second engine of
tests/support/second_engine.py, must never be reconfigured or restarted (other sessions' tests
use them).  This one has its own data root, exec root, socket, pidfile and bridge interface,
no iptables rules, a daemon.json of the test's choosing, and is removed with everything in it
when the test is done.  Containers on it run with `--network none`.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.engine import BASE_IMAGE, LABEL, RUN_ID


class PrivateEngine:
    """One private dockerd (start, docker CLI against it, restart, remove)."""

    def __init__(self, name: str, daemon: dict[str, Any] | None = None) -> None:
        self.root = Path(f"/var/lib/diagnose-{name}-{RUN_ID[:6]}")
        self.socket = self.root / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.bridge = f"dpe{RUN_ID[:6]}"  # interface names: at most 15 characters
        self.daemon = daemon or {}
        self.proc: subprocess.Popen[bytes] | None = None

    def docker(self, *args: str, check: bool = True, input: bytes | None = None
               ) -> subprocess.CompletedProcess[str]:
        """The docker CLI against this engine (text output)."""
        proc = subprocess.run(["docker", "-H", self.host, *args], capture_output=True,
                              input=input, timeout=120, check=False)
        out = subprocess.CompletedProcess(proc.args, proc.returncode,
                                          proc.stdout.decode(errors="replace"),
                                          proc.stderr.decode(errors="replace"))
        if check and proc.returncode != 0:
            raise AssertionError(f"docker -H {self.host} {' '.join(args)}: {out.stderr}")
        return out

    def answers(self) -> bool:
        """True when the engine answers."""
        try:
            return self.docker("version", check=False).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    def start(self) -> None:
        """Start dockerd (its bridge first) and wait until it answers."""
        self.root.mkdir(parents=True, exist_ok=True)
        if subprocess.run(["ip", "link", "show", self.bridge], capture_output=True).returncode:
            for cmd in (["ip", "link", "add", self.bridge, "type", "bridge"],
                        ["ip", "addr", "add", "172.30.251.1/24", "dev", self.bridge],
                        ["ip", "link", "set", self.bridge, "up"]):
                subprocess.run(cmd, capture_output=True, check=True)
        config = self.root / "daemon.json"
        config.write_text(json.dumps(self.daemon))
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - the daemon keeps it
        self.proc = subprocess.Popen(
            ["dockerd", "--config-file", str(config), "--data-root", str(self.root / "data"),
             "--exec-root", str(self.root / "exec"), "--pidfile", str(self.root / "dockerd.pid"),
             "-H", self.host, f"--bridge={self.bridge}", "--iptables=false",
             "--ip6tables=false"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"private dockerd did not start; see {self.root / 'dockerd.log'}",
                            pytrace=False)
            time.sleep(0.2)

    def load_base_image(self) -> None:
        """Copy the test image over (docker save | docker load)."""
        if self.docker("image", "inspect", BASE_IMAGE, check=False).returncode == 0:
            return
        image = subprocess.run(["docker", "save", BASE_IMAGE], capture_output=True,
                               check=True).stdout
        self.docker("load", input=image)

    def run(self, name: str, *args: str, cmd: tuple[str, ...] = ("sleep", "100000"),
            check: bool = False) -> str:
        """`docker run -d` a labelled container without a network; returns its name."""
        full = f"dt-{RUN_ID[:6]}-{name}"
        self.docker("run", "-d", "--label", f"{LABEL}={RUN_ID}", "--name", full,
                    "--network", "none", *args, BASE_IMAGE, *cmd, check=check)
        return full

    def stop(self) -> None:
        """Stop dockerd (SIGTERM: it stops its containers first), waiting for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def _kill_own(self) -> None:
        """Kill -9 every process that belongs to this engine's root (dockerd, containerd, the
        shims) and their children (the containers' processes)."""
        import psutil  # startup: psutil is only needed by the tests that crash an engine

        own = [p for p in psutil.process_iter(["cmdline"])
               if str(self.root) in " ".join(p.info.get("cmdline") or [])]
        victims = list(own)
        for p in own:
            try:
                victims += p.children(recursive=True)
            except psutil.NoSuchProcess:
                pass
        for p in {v.pid: v for v in victims}.values():
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(victims, timeout=10)

    def crash(self) -> None:
        """Kill -9 dockerd, its containerd, the shims and the containers' processes at once,
        as a power loss would."""
        self._kill_own()
        self.proc = None

    def remove(self) -> None:
        """Stop it and remove everything it had: containers, data root, bridge."""
        if self.proc is not None and self.answers():
            ids = self.docker("ps", "-aq", check=False).stdout.split()
            if ids:
                self.docker("rm", "-f", "-v", *ids, check=False)
        self.stop()
        self._kill_own()  # a containerd that outlived a crashed dockerd is not stopped by it
        # dockerd unmounts its layers when it stops; anything left mounted under the root
        # (a crash) is unmounted before the directory goes.
        mounts = Path("/proc/mounts").read_text().split("\n")
        for line in reversed(mounts):
            parts = line.split()
            if len(parts) > 1 and parts[1].startswith(str(self.root)):
                subprocess.run(["umount", "-l", parts[1]], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True, check=False)
