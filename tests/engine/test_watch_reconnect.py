"""`diagnose watch` survives the engine: a private dockerd (live-restore) is stopped while
watch follows it, a container fails during the outage, and once the daemon is back watch
reconnects and reports that failure (the engine makes no event for it: watch reads its end
from the inspect of what it last saw running)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.engine import wait_for
from tests.support.private_engine import PrivateEngine
from tests.support.watcher import Watcher


@pytest.fixture
def private(engine):
    eng = PrivateEngine("watch", daemon={"live-restore": True})  # containers outlive dockerd
    try:
        eng.start()
        eng.load_base_image()
        yield eng
    finally:
        eng.remove()


def test_reconnect_and_a_failure_during_the_outage(private, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    flag = tmp_path / "flag"
    flag.mkdir()
    w = Watcher(out, "-H", private.host, "--journal", str(tmp_path / "journal"))
    try:
        run = ("run", "-d", "--network", "none", "--label", w.label)
        private.docker(*run, "--name", "outage", "-v", f"{flag}:/flag",
                       "diagnose-test/busybox", "sh", "-c",
                       "echo waiting; while [ ! -e /flag/go ]; do sleep 0.1; done; "
                       "echo 'fatal: lost my database'; touch /flag/done; exit 5")
        private.docker(*run, "--name", "before", "diagnose-test/busybox", "sh", "-c", "exit 3")
        assert w.wait("before")["exit_code"] == 3  # events in order: `outage` is known running
        private.stop()
        wait_for(lambda: b"lost the engine" in w.stderr, timeout=60, what="watch to notice")
        (flag / "go").touch()
        wait_for((flag / "done").exists, timeout=30, what="the container to fail")
        private.start()
        line = w.wait("outage", timeout=120)
        assert b"answers again" in w.stderr
        assert line["exit_code"] == 5 and line["incident"] == "exit"
        # (What it printed while dockerd was down is not in its logs: dockerd was not there
        # to copy it.)
        assert line["verdict"] == "app-exit-error"
        assert line["title"].startswith("exited with code 5")
        assert Path(line["bundle"]).is_file()
    finally:
        assert w.stop() == 0
