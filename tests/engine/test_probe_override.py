"""`diagnose --probe` on the real engine: the throwaway entrypoint-override container.

The probe output must be in the bundle, the throwaway must be gone afterwards (found by its
labels), and the target must be unchanged (engine.state before and after).
"""

from __future__ import annotations

import json
import signal

import pytest

from tests.support.engine import docker, wait_for
from tests.support.faults import finish, leftovers, start
from tests.support.runs import finding
from tests.support.startkit import build_broken_image


@pytest.fixture(scope="module")
def image(engine):
    return build_broken_image(engine)


def _throwaways(target_id: str) -> list[str]:
    out = docker("ps", "-aq", "--filter", f"label=diagnose.probe.target={target_id}").stdout
    return out.split()


def _probe(members: dict[str, bytes], name: str) -> dict:
    return json.loads(members[f"containers/{name}/probe.json"])


def _step(doc: dict, name: str) -> dict:
    return next(s for s in doc["probes"] if s["name"] == name)


def test_probe_records_the_override_and_leaves_nothing_behind(engine, image, diagnose):
    c = engine.run("probe-loader", image=image, cmd=("/app/dyntrue",), check=False)
    engine.wait_status(c, "exited")
    target_id = engine.inspect(c)["Id"]
    before = engine.state(c)
    r = diagnose(c, "--probe", "--format", "json", "--quiet")
    after = engine.state(c)
    assert r.code == 1, r.stderr
    assert before == after
    assert _throwaways(target_id) == []

    members = r.members()
    doc = _probe(members, c)
    tw = doc["throwaway"]
    assert tw["removed"] is True and tw["exit_code"] == 0
    assert tw["labels"]["diagnose.probe.target"] == target_id
    assert tw["network"] == "none" and tw["read_only_rootfs"] is True
    assert tw["entrypoint"] == ["/bin/sh"] and tw["id"] != target_id
    # The throwaway is really gone from the engine, not just said to be.
    assert docker("inspect", tw["id"], check=False).returncode != 0

    assert _step(doc, "id")["output"].startswith("uid=0(root)")
    ls = _step(doc, "entrypoint.ls")
    assert ls["exit_code"] == 0 and "/app/dyntrue" in ls["output"]
    loader = _step(doc, "entrypoint.loader")
    assert loader["exit_code"] != 0
    assert "/lib64/ld-linux-x86-64.so.2" in loader["output"] and "No such file" in loader["output"]
    assert "diagnose test busybox" in _step(doc, "os_release")["output"]
    names = _step(doc, "env_names")["output"].splitlines()
    assert "PROBE_CANARY" in names and "PATH" in names
    # Names only, never values (anywhere in the bundle).
    assert b"value-must-never-appear-7c1e" not in members[f"containers/{c}/probe.json"]

    manifest = json.loads(members["manifest.json"])
    rec = next(x for x in manifest["collectors"] if x["owner"] == c and x["name"] == "probe")
    assert rec["status"] == "ok" and "probe.json" in rec["files"]
    assert manifest["options"]["probe"] is True

    f = finding(r, "missing-dynamic-loader", c)
    refs = [e["ref"] for e in f["evidence"]]
    assert any(ref.startswith(f"containers/{c}/probe.json#/probes/") for ref in refs), refs
    path = next(t for t in r.json()["targets"] if t["name"] == c)["path"]
    assert any("--probe" in step["answer"] for step in path)


def test_probe_runs_as_the_targets_user_only_when_the_image_has_it(engine, image, diagnose):
    bad = engine.run("probe-user", "--user", "nosuchuser", image=image, cmd=("true",),
                     check=False)
    good = engine.run("probe-nobody", "--user", "nobody", image=image,
                      cmd=("/app/crlf.sh",), check=False)
    engine.wait_status(good, "exited")
    r = diagnose(bad, good, "--probe", "--format", "json", "--quiet")
    assert r.code == 1, r.stderr
    members = r.members()
    doc = _probe(members, bad)
    assert doc["throwaway"]["user"] is None and "not in the image" in doc["throwaway"]["user_note"]
    assert _step(doc, "id")["output"].startswith("uid=0(root)")
    doc = _probe(members, good)
    assert doc["throwaway"]["user"] == "nobody"
    assert _step(doc, "id")["output"].startswith("uid=65534(nobody)")
    first = _step(doc, "entrypoint.first_line")["output"]
    assert "\\r" in first and "\\n" in first
    for name in (bad, good):
        assert _throwaways(engine.inspect(name)["Id"]) == []


def test_probe_skips_running_targets_and_images_without_a_shell(engine, image, diagnose,
                                                                 tmp_path):
    running = engine.run("probe-running", image=image, cmd=("sleep", "100000"))
    engine.wait_status(running, "running")
    # An image with no shell at all: only a static program (busybox copied under a new name).
    noshell = engine.build("noshell", "FROM scratch\nCOPY tool /tool\nCMD [\"/nosuch\"]\n",
                           {"tool": _busybox_bytes()})
    dead_end = engine.run("probe-noshell", image=noshell, check=False)
    before = {n: engine.state(n) for n in (running, dead_end)}
    r = diagnose(running, dead_end, "--probe", "--format", "json", "--quiet")
    assert {n: engine.state(n) for n in (running, dead_end)} == before
    manifest = json.loads(r.members()["manifest.json"])
    recs = {x["owner"]: x for x in manifest["collectors"] if x["name"] == "probe"}
    assert recs[running]["status"] == "skipped" and "docker exec" in recs[running]["reason"]
    assert recs[dead_end]["status"] == "skipped" and "no usable shell" in recs[dead_end]["reason"]
    f = finding(r, "entrypoint-not-found", dead_end)
    # No shell to override into: the finding says how to look at the files instead.
    assert not any("--entrypoint sh" in c for c in f["remediation"]["commands"])
    assert any(c.startswith("docker cp ") for c in f["remediation"]["commands"])


def _busybox_bytes() -> bytes:
    import shutil
    from pathlib import Path

    path = shutil.which("busybox") or "/bin/busybox"
    return Path(path).read_bytes()


SLOW_SHELL = '#!/bin/busybox ash\n/bin/busybox sleep 120\nexec /bin/busybox ash "$@"\n'


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_run_stopped_while_the_throwaway_runs_removes_it(engine, tmp_path, signum):
    """Ctrl-C or SIGTERM ends a run without waiting for its collectors: the throwaway of an
    override probe under way is removed before the run exits, not left on the engine."""
    slow = engine.build("probe-slowsh", "FROM scratch\nCOPY busybox-bin /bin/busybox\n"
                        "COPY slowsh.sh /bin/sh\nCMD [\"/nosuch\"]\n",
                        {"busybox-bin": _busybox_bytes(), "slowsh.sh": SLOW_SHELL})
    c = engine.run("probe-stopped", image=slow, check=False)
    target_id = engine.inspect(c)["Id"]
    before = engine.state(c)
    proc = start(c, "--probe", "--quiet", "-o", str(tmp_path), cwd=tmp_path)
    try:
        # The throwaway's shell sleeps two minutes before it runs the probe's commands.
        wait_for(lambda: _throwaways(target_id), timeout=60, what="the probe's throwaway")
        proc.send_signal(signum)
        r = finish(proc, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert r.code == 128 + signum, r.stderr
    assert _throwaways(target_id) == []
    assert engine.state(c) == before
    assert leftovers(tmp_path) == []
