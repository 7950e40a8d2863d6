"""Choosing targets: --filter with docker ps filters, --all, names at once, one bundle."""

from __future__ import annotations

import json
import uuid


def test_filter_all_and_names_make_one_bundle(engine, diagnose):
    # A label of this test's own: other tests of the session share the session label.
    own = f"diagnose.test.select={uuid.uuid4().hex[:8]}"
    exited = engine.run("sel-exited", "--label", own, cmd=("sh", "-c", "exit 3"))
    created = engine.create("sel-created", "--label", own, cmd=("true",))
    running = engine.run("sel-running", "--label", own, cmd=("sleep", "100000"))
    engine.wait_status(exited, "exited")
    mine = f"label={own}"

    r = diagnose("--filter", mine, "--filter", "status=exited", "-q", "-f", "json",
                 "--exit-zero")
    assert r.code == 0, r.stderr
    assert [t["name"] for t in r.json()["targets"]] == [exited]
    assert r.bundle.name.startswith(f"diagnose-{exited}-")

    # Stopped containers are included without -a (unlike docker ps).
    r = diagnose("--filter", mine, "-q", "-f", "json", "--exit-zero")
    names = {t["name"] for t in r.json()["targets"]}
    assert names == {exited, created, running}
    assert r.bundle.name.startswith("diagnose-") and "-and-2-more-" in r.bundle.name
    members = r.members()
    for n in (exited, created, running):
        assert f"containers/{n}/inspect.json" in members
    manifest = json.loads(members["manifest.json"])
    assert {t["name"] for t in manifest["targets"]} == names

    # A name plus a filter: each container once.
    r = diagnose(running, "--filter", mine, "--filter", "status=running", "-q", "-f", "json",
                 "--exit-zero")
    assert [t["name"] for t in r.json()["targets"]] == [running]

    r = diagnose("--all", "-q", "-f", "json", "--exit-zero", timeout=600)
    assert r.code == 0, r.stderr
    assert {exited, created, running} <= {t["name"] for t in r.json()["targets"]}


def test_bad_selections_exit_2(engine, diagnose):
    for args, text in (
        (("--filter", "nonsense=1"), "not a docker ps filter"),
        (("--filter", "novalue"), "not KEY=VALUE"),
        (("--filter", "status=sleepy"), "rejected the filter"),
        (("--filter", f"label={engine.label}-nothing"), "no container matches"),
        ((), "name at least one container"),
    ):
        r = diagnose(*args, "-q")
        assert r.code == 2, (args, r.stderr)
        assert text in r.stderr and "Traceback" not in r.stderr
