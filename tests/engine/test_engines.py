"""Several engines in one run: one directory per engine, concurrent collection, and an
unreachable engine recorded without spoiling the others (exit 3)."""

from __future__ import annotations

import json

from tests.support.engine import LABEL, RUN_ID
from tests.support.runs import cause_ids
from tests.support.second_engine import docker2, engine2  # noqa: F401 - fixture

MAIN = "unix:///var/run/docker.sock"


def test_two_engines_in_one_bundle(engine, engine2, diagnose, tmp_path):  # noqa: F811
    crashed = engine.run("multi-crash", cmd=("sh", "-c", "echo boom >&2; exit 3"))
    engine.wait_status(crashed, "exited")
    other = f"dt-{RUN_ID[:6]}-on-engine2"
    docker2("create", "--label", f"{LABEL}={RUN_ID}", "--network", "none", "--name", other,
            "diagnose-test/busybox:latest", "true")

    r = diagnose(crashed, other, "--host", MAIN, "--host", engine2, "-q", "-f", "json")
    assert r.code == 1, r.stderr  # app-exit-error on the first engine
    doc = r.json()
    engines = {e["label"]: e for e in doc["engines"]}
    assert len(engines) == 2 and all(e["status"] == "ok" for e in engines.values())
    by_name = {t["name"]: t for t in doc["targets"]}
    first, second = by_name[crashed]["engine"], by_name[other]["engine"]
    assert first != second and {first, second} == set(engines)
    assert "app-exit-error" in cause_ids(r, crashed)
    assert cause_ids(r, other) == {"created-not-started"}

    members = r.members()
    for label, name in ((first, crashed), (second, other)):
        prefix = engines[label]["prefix"]
        assert prefix == f"engines/{label}/"
        assert f"{prefix}containers/{name}/inspect.json" in members
        assert f"{prefix}engine/info.json" in members and f"{prefix}host/host.json" in members
        # Evidence points into that engine's directory.
        for f in by_name[name]["findings"]:
            for ev in f["evidence"]:
                assert ev["file"].startswith(prefix), ev
    info2 = json.loads(members[f"engines/{second}/engine/info.json"])
    assert info2["DockerRootDir"].startswith("/var/lib/diagnose-engine2")
    manifest = json.loads(members["manifest.json"])
    owners = {c["owner"] for c in manifest["collectors"]}
    assert {f"engines/{first}/engine", f"engines/{second}/engine"} <= owners

    # Offline: the same findings, engine by engine.
    offline = diagnose("analyze", str(r.bundle), "-f", "json")
    assert offline.code == 1, offline.stderr
    live, off = dict(doc), offline.json()
    for d in (live, off):
        d.pop("mode")
        d.pop("bundle")
    assert live == off


def test_an_unreachable_engine_does_not_spoil_the_others(engine, diagnose, tmp_path):
    c = engine.create("multi-ok", cmd=("true",))
    gone = f"unix://{tmp_path}/nothing-here.sock"
    r = diagnose(c, "--host", MAIN, "--host", gone, "-q", "-f", "json")
    assert r.code == 3, r.stderr
    assert r.bundle is not None
    doc = r.json()
    states = {e["endpoint"]: e for e in doc["engines"]}
    assert states[MAIN]["status"] == "ok"
    assert states[gone]["status"] == "failed" and "no Docker engine answers" in \
        states[gone]["reason"]
    assert [t["name"] for t in doc["targets"]] == [c]
    # Every engine unreachable: nothing to write, exit 3 with one line.
    r = diagnose(c, "--host", gone, "--host", f"unix://{tmp_path}/other.sock", "-q")
    assert r.code == 3 and r.bundle is None and len(r.stderr.strip().splitlines()) == 1
    # A name found on no engine at all is a usage error.
    r = diagnose("no-such-container-anywhere", "--host", MAIN, "--host", gone, "-q")
    assert r.code == 2 and "on any engine" in r.stderr
