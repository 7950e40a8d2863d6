"""A real `diagnose watch` process for engine tests: started on a label of the test's own,
its JSON Lines read as they come, stopped with SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

from tests.support.engine import wait_for

LABEL = "diagnose.test.watch"


class Watcher:
    """`python -m diagnose watch --filter label=diagnose.test.watch=<id> --format json`."""

    def __init__(self, out: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.id = uuid.uuid4().hex[:10]
        self.label = f"{LABEL}={self.id}"
        self.out = out
        self.lines: list[dict[str, Any]] = []
        self.stderr = b""
        #: Where a test's --exec hook writes (set by the test).
        self.hooks: Path | None = None
        argv = [sys.executable, "-m", "diagnose", "watch", "--filter", f"label={self.label}",
                "--format", "json", "-o", str(out), *args]
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=out, env={**os.environ, **(env or {})})
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.errors = threading.Thread(target=self._read_err, daemon=True)
        self.errors.start()
        wait_for(lambda: b"watching" in self.stderr or self.proc.poll() is not None,
                 timeout=60, what="watch to start")
        assert self.proc.poll() is None, self.stderr.decode()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.append(json.loads(raw))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.stderr += raw

    def incidents(self, name: str) -> list[dict[str, Any]]:
        """The incident lines of one container so far."""
        return [x for x in self.lines if x["container"] == name]

    def wait(self, name: str, timeout: float = 90) -> dict[str, Any]:
        """The first incident of `name` (waits for it)."""
        got = wait_for(lambda: self.incidents(name), timeout=timeout,
                       what=f"an incident of {name}; stderr: {self.stderr.decode()[-2000:]}")
        return got[0]

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        self.reader.join(5)
        self.errors.join(5)
        return code
