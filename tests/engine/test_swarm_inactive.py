"""`diagnose service` against an engine that is not a swarm manager: one line, exit 2.

The engine is not in Swarm mode outside tests/engine/test_swarm.py (its module fixture leaves
the swarm again); a worker node needs a second engine, so that case is a unit test
(tests/unit/checks/test_swarm.py).
"""

from __future__ import annotations

from tests.support.engine import docker


def test_service_on_an_engine_outside_a_swarm_is_a_usage_error(engine, diagnose):
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    assert state == "inactive", f"this test needs an engine outside a swarm, it is {state}"
    r = diagnose("service", "web", "--quiet")
    assert r.code == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("diagnose: error: the engine at ")
    assert "is not part of a swarm (Swarm: inactive)" in r.stderr
    assert "point --host or --context at one" in r.stderr
    assert r.stdout == "" and r.bundle is None


def test_service_needs_a_name(diagnose):
    r = diagnose("service", "--quiet")
    assert r.code == 2
    assert r.stderr == ("diagnose: error: missing argument 'NAME'; `diagnose service --help` "
                        "lists the options\n")


def test_service_engine_unreachable_exits_3(diagnose, tmp_path):
    r = diagnose("service", "web", "--host", f"unix://{tmp_path}/nothing.sock", "--quiet")
    assert r.code == 3
    assert "no Docker engine answers" in r.stderr and "Traceback" not in r.stderr
    assert r.bundle is None
