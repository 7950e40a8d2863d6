"""SIGINT, SIGTERM and SIGHUP end a run the same way: exit 128+signal (130, 143, 129), one
line on stderr, no temporary file and nothing under the bundle's name.

Against a stalled engine: a proxy (tests/support/proxy.py) holds the container's log request
and never lets it go, and --timeout is an hour, so the run is mid-collection with its
temporary file open and its collector waiting for good.  A signal that is not acted on at
once is a hang (the finish() guard fails the test).  Each signal is sent to the process and,
deterministically, to one of its other threads once every thread is idle in a wait: where
the kernel delivered it then, CPython only flagged it, and the main thread slept on in
`queue.get()` until the engine answered (the Ctrl-C that hung for the whole --timeout).

Against the real engine: the run is frozen (SIGSTOP) while it collects several containers,
checked to be mid-collection, signalled, and let go.
"""

from __future__ import annotations

import os
import signal

import pytest

from tests.support.engine import docker, wait_for
from tests.support.faults import (
    finish,
    leftovers,
    signal_thread,
    start,
    wait_event,
    wait_threads_idle,
)
from tests.support.proxy import StallingProxy

REMOVED = "no bundle was written (temporary files removed)"
EXPECTED = {
    signal.SIGINT: (130, f"diagnose: interrupted; {REMOVED}"),
    signal.SIGTERM: (143, f"diagnose: terminated (SIGTERM); {REMOVED}"),
    signal.SIGHUP: (129, f"diagnose: hung up (SIGHUP); {REMOVED}"),
}


@pytest.fixture(scope="module")
def running(engine) -> str:
    c = engine.run("signals", cmd=("sh", "-c", "echo up; echo oops >&2; exec sleep 100000"))
    wait_for(lambda: "up" in docker("logs", c).stdout, what=f"{c} output")
    return c


def _assert_stopped(r, signum: int, out) -> None:
    code, line = EXPECTED[signum]
    assert r.code == code, (r.code, r.stderr)
    assert r.stderr.splitlines() == [line]
    assert r.stdout == ""
    assert leftovers(out) == []  # no temporary file, no bundle


@pytest.mark.parametrize("signum", list(EXPECTED), ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("target", ["process", "other-thread"])
def test_signal_while_the_engine_stalls(running, tmp_path, signum, target):
    with StallingProxy(hold_paths=r"/logs\?") as proxy:
        proc = start(running, "--host", proxy.host, "--timeout", "3600", "-o", str(tmp_path),
                     cwd=tmp_path)
        try:
            wait_event(proxy.held, 60, "the log request")
            assert any(p.name.endswith(".tmp") for p in tmp_path.iterdir())  # mid-write
            threads = wait_threads_idle(proc.pid)
            if target == "process":
                proc.send_signal(signum)
            else:
                signal_thread(proc.pid, [t for t in threads if t != proc.pid][-1], signum)
            r = finish(proc, timeout=120)  # a lost signal waits for the 3600 s --timeout
        finally:
            if proc.poll() is None:
                proc.kill()
    _assert_stopped(r, signum, tmp_path)


def test_sigterm_mid_collection_on_the_real_engine(engine, tmp_path):
    script = "i=0; while [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); done; exec sleep 100000"
    names = [engine.run(f"sigmid{i}", cmd=("sh", "-c", script)) for i in range(6)]
    for c in names:
        wait_for(lambda c=c: "line 4999" in docker("logs", "--tail", "1", c).stdout,
                 what=f"{c} output")
    proc = start(*names, "--jobs", "1", "--quiet", "-o", str(tmp_path), cwd=tmp_path)
    try:
        # The temporary file appears before the first container is collected; the run is
        # frozen there, so what is checked next is the state the signal arrives in.
        wait_for(lambda: proc.poll() is not None or any(
            p.name.endswith(".body.tmp") for p in tmp_path.iterdir()), timeout=120,
            interval=0.005, what="the bundle's temporary file")
        os.kill(proc.pid, signal.SIGSTOP)
        try:
            assert proc.poll() is None, "the run ended before it could be stopped"
            now = leftovers(tmp_path)
            assert any(n.endswith(".body.tmp") for n in now), now
            assert not any(n.endswith(".tar.gz") for n in now), now
            os.kill(proc.pid, signal.SIGTERM)
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        r = finish(proc, timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    _assert_stopped(r, signal.SIGTERM, tmp_path)
