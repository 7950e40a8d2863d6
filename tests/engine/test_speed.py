"""What a run asks the engine, counted: no question asked twice, none whose answer is unused.

The run goes through tests/support/engine_proxy.py, which forwards every request to the real
engine unchanged and lists them.  Timings are never asserted (the machine is shared); the
requests are what the speed work of issue 18 changed: `docker diff` is asked once per
container (the diff collector and the entrypoint probe share it), stats only of running
containers, the events of all targets in one call, and the bundle holds what it held before.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.engine import docker, wait_for
from tests.support.engine_proxy import EngineProxy


@pytest.fixture
def sockdir():
    # Unix socket paths are limited to 108 bytes: pytest's tmp_path can be longer.
    d = Path(tempfile.mkdtemp(prefix="dg-", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


_PER_CONTAINER = re.compile(r"^(?:/v[\d.]+)?/containers/([0-9a-f]{64})/(\w+)")


def test_each_question_is_asked_once(engine, diagnose, sockdir):
    up = engine.run("speed-up", cmd=("sh", "-c", "touch /tmp/made-here; exec sleep 600"))
    down = engine.run("speed-down", cmd=("sh", "-c", "echo bye; exit 3"))
    engine.wait_status(down, "exited")
    wait_for(lambda: "/tmp/made-here" in docker("diff", up).stdout, what="the file made")
    ids = {engine.inspect(ref)["Id"]: ref for ref in (up, down)}

    with EngineProxy(sockdir / "p.sock") as proxy:
        r = diagnose("--host", proxy.host, "--quiet", "--exit-zero", up, down)
        asked = proxy.requests
        carried = proxy.paths_by_connection()
    assert r.code == 0, r.stderr

    # Connections are kept and reused for other questions.  docker-py's socket adapter kept
    # a pool per URL, so a connection only ever carried one path: a run of two containers
    # opened about as many connections as it asked questions (32 for 33; now 6-11).
    assert max(len(paths) for paths in carried.values()) > 1, carried

    per: Counter[tuple[str, str, str]] = Counter()
    for method, path in asked:
        m = _PER_CONTAINER.match(path)
        if m and m.group(1) in ids:
            per[(ids[m.group(1)], method, m.group(2))] += 1
    for ref in (up, down):
        assert per[(ref, "GET", "changes")] == 1, sorted(per.items())
    assert per[(up, "GET", "stats")] == 1 and per[(down, "GET", "stats")] == 0
    # One events call for both targets, filtered by both.
    events_asked = [path for _, path in asked if re.match(r"^(?:/v[\d.]+)?/events\?", path)]
    assert len(events_asked) == 1, events_asked
    filters = json.loads(parse_qs(urlsplit(events_asked[0]).query)["filters"][0])
    assert sorted(filters["container"]) == sorted(ids)

    files = r.members()
    records = {(c["owner"], c["name"]): c for c in json.loads(files["manifest.json"])["collectors"]}
    for ref in (up, down):
        for name in ("diff", "entrypoint", "stats"):
            assert records[(ref, name)]["status"] in ("ok", "skipped"), (
                records[(ref, name)], files.get(f"containers/{ref}/errors/{name}.txt", b"")[-2000:])
    made = json.loads(files[f"containers/{up}/diff.json"])
    assert {"Path": "/tmp/made-here", "Kind": 1} in made
    stats = json.loads(files[f"containers/{up}/stats.json"])
    assert stats["pids_stats"]["current"] >= 1
    assert f"containers/{down}/stats.json" not in files
    # Each target's events are its own: its create and start (and the other's are not).
    for ref in (up, down):
        events = json.loads(files[f"containers/{ref}/events.json"])
        assert {e["Actor"]["ID"] for e in events} == {engine.inspect(ref)["Id"]}, events
        assert {"create", "start"} <= {e["Action"] for e in events}, events
        assert records[(ref, "events")]["detail"]["asked_with"] == 2
    assert "die" in {e["Action"] for e in json.loads(files[f"containers/{down}/events.json"])}
    for ref in (up, down):
        probe = json.loads(files[f"containers/{ref}/entrypoint.json"])
        # The probe planned with the shared diff: the image's own files were shareable.
        assert probe["filesystem"]["readable"] and probe["image_answers_shared"], probe
        assert probe["exists"] and probe["resolved"] == "/bin/sh"
