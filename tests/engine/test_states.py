"""Every collector on containers in every state: a complete bundle, and nothing changed.

The engine's own view (inspect via the docker CLI) of StartedAt, RestartCount, State and Pid
must be the same before and after diagnose ran: the tool never starts, stops or alters what it
diagnoses.
"""

from __future__ import annotations

import json

import pytest

from tests.support import states

EXPECT_OK = {
    # collector -> states in which it must succeed ("ok"); elsewhere it must be skipped or fail
    # with a recorded reason.
    "inspect": {"created", "running", "paused", "restarting", "exited", "dead"},
    "image": {"created", "running", "paused", "restarting", "exited", "dead"},
    "history": {"created", "running", "paused", "restarting", "exited", "dead"},
    "logs": {"created", "running", "paused", "restarting", "exited"},
    "events": {"created", "running", "paused", "restarting", "exited", "dead"},
    "diff": {"created", "running", "paused", "restarting", "exited", "dead"},
    "networks": {"created", "running", "paused", "restarting", "exited", "dead"},
    "mounts": {"created", "running", "paused", "restarting", "exited", "dead"},
    "entrypoint": {"created", "running", "paused", "restarting", "exited"},
    "top": {"running", "paused"},
    "stats": {"running", "paused"},
    "processes": {"running", "paused"},
}


@pytest.fixture(scope="module")
def every_state(engine):
    made = {
        "created": states.make_created(engine),
        "running": states.make_running(engine),
        "paused": states.make_paused(engine),
        "exited": states.make_exited(engine),
        "dead": states.make_dead(engine),
        # Last, so its back-off window is as fresh as possible when diagnose runs.
        "restarting": states.make_restarting(engine),
    }
    yield made
    states.release_dead(engine, made["dead"])
    from tests.support.engine import docker

    docker("unpause", made["paused"], check=False)


def test_every_collector_in_every_state_leaves_the_container_unchanged(engine, every_state,
                                                                       diagnose):
    names = list(every_state.values())
    before = {n: engine.state(n) for n in names}
    result = diagnose(*names, "--format", "json", "--quiet", "--exit-zero")
    after = {n: engine.state(n) for n in names}
    assert result.code == 0, result.stderr
    assert before == after

    members = result.members()
    manifest = json.loads(members["manifest.json"])
    assert list(members)[:5] == ["manifest.json", "README.txt", "findings.json", "summary.md",
                                 "summary.html"]
    records = {(c["owner"], c["name"]): c for c in manifest["collectors"]}
    by_state = dict(every_state.items())
    for state, name in by_state.items():
        assert engine.inspect(name)["State"]["Status"] == state
        for collector, ok_states in EXPECT_OK.items():
            rec = records[(name, collector)]
            if state in ok_states:
                assert rec["status"] == "ok", (state, collector, rec)
                for f in rec["files"]:
                    assert f"containers/{name}/{f}" in members, (state, collector, f)
            else:
                assert rec["status"] in ("skipped", "failed"), (state, collector, rec)
                assert rec["reason"], (state, collector, rec)

    # Every file listed in the manifest is in the archive with that size and hash.
    import hashlib

    for f in manifest["files"]:
        data = members[f["path"]]
        assert len(data) == f["size"] and hashlib.sha256(data).hexdigest() == f["sha256"]
    # A dead container's logs cannot be read: the failure is recorded, not fatal.
    dead_logs = records[(every_state["dead"], "logs")]
    assert dead_logs["status"] == "failed" and "dead" in dead_logs["reason"]
    assert f"containers/{every_state['dead']}/errors/logs.txt" in members
    report = result.json()
    assert {t["state"]["status"] for t in report["targets"]} == set(every_state)
