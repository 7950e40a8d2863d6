"""A signal at any point of a run leaves no temporary file: the registry in
diagnose/model/interrupts.py against a real BundleWriter, in a child process that signals itself.

The signal may reach any thread, and the worker may be creating, writing or publishing the
bundle at that moment; whichever comes first, the output directory ends either empty or with
the complete bundle (and the message says which), never with a temporary file.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

CHILD = r"""
import os, signal, sys, threading
from pathlib import Path
from diagnose.model import interrupts
from diagnose.bundle.writer import BundleWriter

out, mode = Path(sys.argv[1]), sys.argv[2]
interrupts.install()

def body():
    w = BundleWriter(out, "b.tar.gz")
    w.add("a", b"x" * 100000)
    os.kill(os.getpid(), signal.SIGTERM)  # taken by whichever thread the kernel picks
    if mode == "publish":
        w.finish([("manifest.json", b"{}")])  # races with the main thread's clean-up
    elif mode == "new-file":
        BundleWriter(out, "c.tar.gz")  # a temporary file created after the signal
    threading.Event().wait()

try:
    interrupts.run(body)
except interrupts.Interrupted as exc:
    os._exit(interrupts.stop(exc))
"""


def _child(tmp_path, mode: str) -> tuple[int, str, list[str]]:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), mode],
                          capture_output=True, text=True, timeout=60, check=False)
    return proc.returncode, proc.stderr, sorted(p.name for p in tmp_path.iterdir())


@pytest.mark.parametrize("mode", ["write", "new-file"])
def test_signal_mid_write_removes_every_temporary_file(tmp_path, mode):
    code, err, left = _child(tmp_path, mode)
    assert code == 128 + signal.SIGTERM, err
    assert err.splitlines() == ["diagnose: terminated (SIGTERM); no bundle was written "
                                "(temporary files removed)"]
    assert left == []


def test_signal_racing_the_publication_leaves_all_or_nothing(tmp_path):
    for i in range(8):
        out = tmp_path / str(i)
        out.mkdir()
        code, err, left = _child(out, "publish")
        assert code == 128 + signal.SIGTERM, err
        assert len(err.splitlines()) == 1, err
        if left:  # published before the signal was acted on: complete, and said so
            assert left == ["b.tar.gz"], left
            assert "after the bundle was written" in err
        else:
            assert "no bundle was written" in err
