"""diagnose against a real Podman service: crash, OOM kill, failed start, never started, a
healthcheck that never ran, and a running container, each created through Podman's
Docker-compatible API.

Lean on purpose (the CI budget): the containers are made once for the module, and ONE live
run over all of them is checked for the verdicts, the decision path, the logs, the entrypoint
probe and the bundle; one `analyze` of that bundle and one `--probe` run follow.  What Podman
does differently (docs/podman-notes.md) is asserted where diagnose handles it: start errors
read from the OCI runtime's log (never "no start was attempted"), OOM kills confirmed from the
kernel's log, events read without `until`, `docker top` asked for host-side columns (no exec
in the target), the engine named Podman.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.podman.conftest import podman_remote
from tests.support.engine import Engine, docker, wait_for
from tests.support.runs import Result, findings, run_diagnose


@pytest.fixture(scope="module")
def targets(podman: Engine) -> dict[str, str]:
    """One container in each condition, settled (name by role)."""
    names = {
        "crash": podman.run("pm-crash", cmd=("sh", "-c", "echo boom >&2; exit 3")),
        "oom": podman.run("pm-oom", "--memory", "16m", cmd=(
            "sh", "-c", "echo start; x=a; while true; do x=$x$x; done")),
        # Podman creates it, the start fails (the CLI says so): State.Error stays empty.
        "nope": podman.run("pm-nope", "--entrypoint", "/nope", check=False),
        "created": podman.create("pm-created", cmd=("echo", "never")),
        "health": podman.run("pm-health", "--health-cmd", "true", "--health-interval", "1s",
                             "--health-timeout", "1s", cmd=("sleep", "100000")),
        # Podman restarts at once: four runs within a second or so.
        "restart": podman.run("pm-restart", "--restart", "on-failure:3",
                              cmd=("sh", "-c", "echo crashing; exit 1")),
    }
    podman.wait_status(names["crash"], "exited")
    podman.wait_status(names["oom"], "exited")
    assert podman.inspect(names["nope"])["State"]["Status"] == "created"
    wait_for(lambda: (d := podman.inspect(names["restart"]))["RestartCount"] == 3
             and d["State"]["Status"] == "exited", what="the restarts to end")
    # D320 needs the probe overdue: interval 1 s + timeout 1 s + 2 s slack after the start.
    started = podman.wait_status(names["health"], "running")["State"]["StartedAt"]
    assert started
    time.sleep(4.5)
    return names


@pytest.fixture(scope="module")
def live(targets: dict[str, str], tmp_path_factory: pytest.TempPathFactory,
         podman: Engine) -> Result:
    """One live run over every target, JSON report, bundle written."""
    out = tmp_path_factory.mktemp("podman-live")
    return run_diagnose(*targets.values(), "--format", "json", "--output", str(out), cwd=out)


def _by_id(result: Result, name: str) -> dict[str, dict[str, Any]]:
    return {f["id"]: f for f in findings(result, name)}


def _fact(finding: dict[str, Any], key: str) -> str:
    for f in finding["facts"]:
        if f["name"] == key:
            return str(f["value"])
    raise AssertionError(f"no fact {key!r} in {finding['facts']}")


def test_the_engine_is_named_podman(live: Result) -> None:
    doc = live.json()
    assert live.code == 1, live.stderr
    assert doc["engine"]["product"] == "Podman"
    assert live.bundle is not None


def test_crash_verdict_and_logs(live: Result, targets: dict[str, str]) -> None:
    found = _by_id(live, targets["crash"])
    assert "app-exit-error" in found
    assert "boom" in found["app-exit-error"]["title"]
    members = live.members()
    logs = [k for k in members if targets["crash"] in k and k.endswith("stderr.log")]
    assert logs and b"boom" in members[logs[0]]
    # Podman puts an empty State.Health on every container: no health step text for it.
    target = next(t for t in live.json()["targets"] if t["name"] == targets["crash"])
    assert "health" not in next(s for s in target["path"] if s["stage"] == "running")["answer"]


def test_oom_kill_is_confirmed_from_the_kernel_log(live: Result, targets: dict[str, str]) -> None:
    """Podman leaves OOMKilled false and sends no `oom` event; the kernel's record says it."""
    oom = _by_id(live, targets["oom"])["oom-killed"]
    assert oom["severity"] == "critical"
    assert "Podman never records OOM kills" in _fact(oom, "State.OOMKilled")
    assert "oom-kill:" in _fact(oom, "kernel log")
    assert any(e["file"].endswith("runtime.json") for e in oom["evidence"])
    assert "killed-by-signal" not in _by_id(live, targets["oom"])


def test_failed_start_is_read_from_the_oci_runtime_log(live: Result,
                                                        targets: dict[str, str]) -> None:
    """The issue's case: never 'no start was attempted' for a start that failed."""
    found = _by_id(live, targets["nope"])
    assert "created-not-started" not in found
    nope = found["entrypoint-not-found"]
    assert "/nope" in _fact(nope, "the OCI runtime log (oci-log)")
    assert "Podman records neither" in _fact(nope, "exit code")
    assert "no start was attempted" not in live.stdout
    target = next(t for t in live.json()["targets"] if t["name"] == targets["nope"])
    assert "start failed" in json.dumps(target["state"])
    step = next(s for s in target["path"] if s["stage"] == "start")
    assert "failed to start it" in step["answer"] and "/nope" in step["answer"]


def test_restarts_within_a_second_are_said_plainly(live: Result,
                                                   targets: dict[str, str]) -> None:
    """Podman stamps log lines to the second (docs/podman-notes.md D7): the latest run's lines
    cannot be told from the earlier runs' within that second, and the report says so."""
    d205 = _by_id(live, targets["restart"])["app-exit-error"]
    assert "crashing" in d205["title"]
    assert "Podman stamps log lines to the second" in _fact(d205, "log lines of the latest run")


def test_entrypoint_probe_in_the_bundle(live: Result, targets: dict[str, str]) -> None:
    members = live.members()
    key = next(k for k in members if targets["nope"] in k and k.endswith("entrypoint.json"))
    candidates = json.loads(members[key])["candidates"]
    assert candidates[0]["path"] == "/nope" and candidates[0]["exists"] is False


def test_never_started_says_what_podman_cannot_tell(live: Result,
                                                    targets: dict[str, str]) -> None:
    d001 = _by_id(live, targets["created"])["created-not-started"]
    assert "Podman records no start errors" in d001["title"]
    assert "no start was attempted" not in d001["title"]


def test_healthcheck_that_never_ran(live: Result, targets: dict[str, str]) -> None:
    d320 = _by_id(live, targets["health"])["healthcheck-never-ran"]
    assert "systemd" in d320["title"]


def test_events_and_top_without_exec_in_the_target(live: Result, targets: dict[str, str]
                                                   ) -> None:
    """Events arrive (Podman answers nothing when `until` is given); top is asked host-side
    columns, so Podman does not exec `ps` inside the target."""
    members = live.members()
    events = json.loads(next(v for k, v in members.items()
                             if targets["crash"] in k and k.endswith("events.json")))
    assert "die" in {e.get("Action") for e in events}
    top = json.loads(next(v for k, v in members.items()
                          if targets["health"] in k and k.endswith("top.json")))
    assert "USER" in top["Titles"]
    seen = docker("events", "--since", "10m", "--until", str(int(time.time()) + 1),
                  "--filter", f"container={targets['health']}", "--format",
                  "{{.Action}}").stdout.split()
    assert not [a for a in seen if a.startswith("exec")], seen


def test_analyze_reproduces_the_live_verdicts(live: Result,
                                              diagnose: Callable[..., Result]) -> None:
    assert live.bundle is not None
    again = diagnose("analyze", str(live.bundle), "--format", "json")
    assert again.code == live.code, again.stderr
    for t in live.json()["targets"]:
        assert {f["id"] for f in findings(again, t["name"])} == \
            {f["id"] for f in findings(live, t["name"])}


def test_probe_throwaway_runs_and_is_removed(targets: dict[str, str], podman: Engine,
                                             diagnose: Callable[..., Result]) -> None:
    before = podman.state(targets["nope"])
    result = diagnose(targets["nope"], "--probe", "--format", "json")
    assert result.code == 1, result.stderr
    assert "entrypoint-not-found" in {f["id"] for f in findings(result, targets["nope"])}
    assert podman.state(targets["nope"]) == before
    wait_for(lambda: docker("ps", "-aq", "--filter", "label=diagnose.probe").stdout.strip() == "",
             10, what="the throwaway to be removed")
    assert podman_remote("version").returncode == 0


def test_engine_report_names_podman(podman: Engine, diagnose: Callable[..., Result]) -> None:
    result = diagnose("engine", "--no-color")
    assert result.code in (0, 1), result.stderr
    first = result.stdout.splitlines()[0]
    assert ": Podman " in first and "Docker" not in first, first
    # Podman answers LayersSize 0: image sizes come from the images themselves.
    disk = next(line for line in result.stdout.splitlines() if line.strip().startswith("disk:"))
    images = disk.split(";", 1)[0]
    assert "images" in images and "(0 B," not in images, disk
