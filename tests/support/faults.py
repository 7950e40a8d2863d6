"""Helpers shared by the fault tests: run the tool in the background, as another user, signal
one of its threads, and check the one-line error contract."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.runs import Result


def assert_one_line_error(r: Result, code: int, *needles: str) -> str:
    """Exit `code`, nothing on stdout, no bundle, and exactly one line on stderr."""
    assert r.code == code, f"exit {r.code}, wanted {code}; stderr: {r.stderr}"
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, f"not one line: {r.stderr!r}"
    assert lines[0].startswith("diagnose: "), lines[0]
    for needle in needles:
        assert needle in lines[0], f"{needle!r} not in {lines[0]!r}"
    assert r.stdout == ""
    return lines[0]


def start(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start the real tool in the background."""
    return subprocess.Popen([sys.executable, "-m", "diagnose", *args], cwd=cwd,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes], timeout: float = 120) -> Result:
    """Wait for a background run; its result (bundle left None: check the directory)."""
    out, err = proc.communicate(timeout=timeout)
    return Result(proc.returncode, out.decode("utf-8", "replace"),
                  err.decode("utf-8", "replace"), None)


def wait_event(event: object, timeout: float, what: str) -> None:
    """Wait for a threading.Event-like object; fail the test with `what`."""
    if not event.wait(timeout):  # type: ignore[attr-defined]
        raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextmanager
def shared_dir() -> Iterator[Path]:
    """A directory every user can enter and write (pytest's tmp_path is root-only)."""
    path = Path(tempfile.mkdtemp(prefix="dxf-", dir="/tmp"))
    path.chmod(0o777)
    try:
        yield path
    finally:
        subprocess.run(["rm", "-rf", str(path)], check=False)


def as_nobody(*args: str, cwd: Path) -> Result:
    """Run the tool as the unprivileged user nobody (no docker group)."""
    proc = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m",
         "diagnose", *args], cwd=cwd, capture_output=True, timeout=120, check=False,
        env={**os.environ, "HOME": str(cwd), "XDG_CONFIG_HOME": str(cwd)})
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                  proc.stderr.decode("utf-8", "replace"), None)


def leftovers(directory: Path) -> list[str]:
    """Everything in an output directory (bundles, temporaries, hidden files)."""
    return sorted(p.name for p in directory.iterdir())


def threads_of(pid: int) -> list[int]:
    """Thread IDs of a process; the main thread's is `pid`."""
    return sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))


def signal_thread(pid: int, tid: int, signum: int) -> None:
    """Send `signum` to one thread of process `pid` (tgkill): how the kernel may deliver a
    signal sent to the whole process when the main thread is not the one to take it."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.tgkill(pid, tid, signum) != 0:
        raise OSError(ctypes.get_errno(), f"tgkill {pid} {tid} {signum}")


def wait_threads_idle(pid: int, timeout: float = 60) -> list[int]:
    """Wait until every thread of `pid` sleeps, uses no CPU and the set of threads stays the
    same over several polls (the run blocked in its waits); the thread IDs then.

    A thread that is still working may be one about to exit (a short-lived pool's worker):
    a signal sent to it alone (tgkill) would find it gone (ESRCH) or die with it.  Once the
    set is still, every thread left is one that waits for good while the engine stalls."""
    import time

    def sample() -> dict[int, tuple[str, int]]:
        seen = {}
        for tid in threads_of(pid):
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:  # exited between the listing and the read
                return {}
            seen[tid] = (fields[0], int(fields[11]) + int(fields[12]))  # state, utime+stime
        return seen

    end = time.monotonic() + timeout
    last: dict[int, tuple[str, int]] = {}
    quiet = 0
    while quiet < 5:
        if time.monotonic() > end:
            raise AssertionError(f"the threads of {pid} never went idle: {last}")
        now = sample()
        still = bool(now) and now == last and all(state == "S" for state, _ in now.values())
        quiet = quiet + 1 if still else 0
        last = now
        time.sleep(0.05)
    return sorted(last)
