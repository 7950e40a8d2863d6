"""Canned evidence for the paths a real engine cannot be made to show on demand: events gone
from the engine's ring, a loop caught while up, stale flags.  The real conditions are proven
in tests/engine/test_checks_exit.py and test_checks_running.py."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pytest

from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.readings.exit import explained_exit, kill_story
from diagnose.model.findings import Severity
from tests.support.evidence import container_findings, make_container, make_engine

CID = "c0ffee" * 10 + "c0ff"
STARTED = "2026-11-27T10:00:00.000000000Z"
T0 = 1_795_812_400_000_000_000  # 2026-11-27T10:00:00Z in ns (after STARTED's boundary)
EXIT_SLUGS = {"oom-killed", "killed-after-stop-timeout", "killed-by-signal", "segfault",
              "app-exit-error", "command-not-found", "missing-shared-library",
              "exited-immediately", "aborted", "bus-error-shm-exhausted"}


def event(action: str, at_s: float, **attrs: Any) -> dict[str, Any]:
    """An engine event `at_s` seconds after the run started."""
    nano = T0 + int(at_s * 1e9)
    return {"Type": "container", "Action": action, "id": CID, "time": nano // 10**9,
            "timeNano": nano, "Actor": {"ID": CID, "Attributes": {k: str(v) for k, v in
                                                                  attrs.items()}}}


def log(*lines: str, at_s: float = 0.5) -> bytes:
    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp((T0 + int(at_s * 1e9)) / 1e9, UTC)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S.%f000Z")
    return "".join(f"{text} {ln}\n" for ln in lines).encode()


def container(*, status: str = "exited", exit_code: int = 0, ran_s: float = 30.0,
              oom: bool = False, error: str = "", events: Iterable[Mapping[str, Any]] | None = (),
              stderr: bytes = b"", stdout: bytes = b"", cmd: Iterable[str] = ("app",),
              config: Mapping[str, Any] | None = None,
              host_config: Mapping[str, Any] | None = None, restarts: int = 0,
              health: Mapping[str, Any] | None = None, collected_after_s: float = 120.0,
              entrypoint: Mapping[str, Any] | None = None) -> ContainerEvidence:
    """One container's evidence as the collectors write it (events=None: not collected)."""
    from datetime import UTC, datetime

    def at(seconds: float) -> str:
        t = datetime.fromtimestamp(T0 / 1e9 + seconds, UTC)
        return t.strftime("%Y-%m-%dT%H:%M:%S.%f000Z")

    state = {"Status": status, "Running": status in ("running", "paused", "restarting"),
             "Paused": status == "paused", "Restarting": status == "restarting",
             "OOMKilled": oom, "Dead": status == "dead", "Pid": 0, "ExitCode": exit_code,
             "Error": error, "StartedAt": at(0), "FinishedAt": at(ran_s)
             if status not in ("running", "paused") else "0001-01-01T00:00:00Z"}
    if health is not None:
        state["Health"] = dict(health)
    inspect = {"Id": CID, "Name": "/web", "RestartCount": restarts, "State": state,
               "Config": {"Image": "example/web:1", "Cmd": list(cmd), "Entrypoint": None,
                          **(config or {})},
               "HostConfig": {"RestartPolicy": {"Name": "no"}, **(host_config or {})}}
    files: dict[str, Any] = {layout.LOG_STDOUT: stdout, layout.LOG_STDERR: stderr}
    collectors = ["inspect", "logs"]
    if events is not None:
        files[layout.EVENTS] = [event("start", 0)] + list(events)
        collectors.append("events")
    if entrypoint is not None:
        files[layout.ENTRYPOINT] = entrypoint
        collectors.append("entrypoint")
    collected = datetime.fromtimestamp(T0 / 1e9 + collected_after_s, UTC)
    return make_container("web", inspect=inspect, files=files, collected=collectors,
                          engine=make_engine({"CgroupVersion": "1"}, collected=("info",)),
                          collected_at=collected.strftime("%Y-%m-%dT%H:%M:%SZ"))


found = container_findings


# -- exit 137 and signals ---------------------------------------------------------------------


def test_stop_timeout_needs_the_events():
    seq = [event("kill", 5, signal=15), event("kill", 15.02, signal=9),
           event("die", 15.05, exitCode=137), event("stop", 15.1)]
    with_events = found(container(exit_code=137, ran_s=15.05, events=seq))
    assert set(with_events) & EXIT_SLUGS == {"killed-after-stop-timeout"}
    f = with_events["killed-after-stop-timeout"]
    assert "10.0 s later" in f.title and dict(f.facts)["SIGKILL came after"] == "10.0 s"

    for events in ((), None):  # the ring moved on / events not collected
        got = found(container(exit_code=137, ran_s=15.05, events=events))
        assert set(got) & EXIT_SLUGS == {"killed-by-signal"}
        f = got["killed-by-signal"]
        assert f.severity is Severity.WARNING
        assert "inspect only" in dict(f.facts)["events"]
        assert "unknown" in dict(f.facts)["sent by"]
        assert dict(f.facts)["cgroup version"].startswith("1 (a host-wide OOM kill")
        # Not sure, and says what else it may have been and how to tell (issue 16).
        assert f.confidence == "low"
        possible = dict(f.facts)["still possible"]
        assert "`docker kill`" in possible and "OOM killer" in possible and "dmesg" in possible
    assert with_events["killed-after-stop-timeout"].confidence == "high"


def test_stop_timeout_whose_first_kill_left_the_ring():
    seq = [event("kill", 15.02, signal=9), event("die", 15.05, exitCode=137),
           event("stop", 15.1)]
    got = found(container(exit_code=137, ran_s=15.05, events=seq))
    assert set(got) & EXIT_SLUGS == {"killed-after-stop-timeout"}
    assert "when the stop timeout ran out" in got["killed-after-stop-timeout"].title


@pytest.mark.parametrize(("code", "events", "sender", "severity"), [
    (143, [event("kill", 3, signal=15), event("die", 3.1, exitCode=143), event("stop", 3.2)],
     "docker-stop", Severity.INFO),
    (143, [], "unknown", Severity.INFO),
    (143, [event("die", 3.1, exitCode=143)], "outside", Severity.WARNING),
    (137, [event("kill", 3, signal=9), event("die", 3.1, exitCode=137)], "docker-kill",
     Severity.WARNING),
    (137, [event("die", 3.1, exitCode=137)], "outside", Severity.ERROR),
    (136, [event("die", 3.1, exitCode=136)], "outside", Severity.ERROR),
    (136, [], "unknown", Severity.ERROR),
    (129, [event("kill", 3, signal="SIGHUP"), event("die", 3.1, exitCode=129)],
     "docker-kill", Severity.WARNING),
])
def test_who_sent_the_signal_decides_the_severity(code, events, sender, severity):
    c = container(exit_code=code, ran_s=3.1, events=events)
    story = kill_story(c)
    assert story is not None and story.sender == sender
    got = found(c)
    assert set(got) & EXIT_SLUGS == {"killed-by-signal"}
    assert got["killed-by-signal"].severity is severity


def test_an_abort_without_its_events_or_message_is_not_certain():
    """134 with no message: with the run's end in the events nobody in Docker sent SIGABRT;
    with the events gone `docker kill -s ABRT` stays possible (issue 16)."""
    seen = found(container(exit_code=134, ran_s=3.1, events=[event("die", 3.1, exitCode=134)]))
    assert set(seen) & EXIT_SLUGS == {"aborted"}
    assert seen["aborted"].confidence == "high"
    gone = found(container(exit_code=134, ran_s=3.1, events=[]))
    assert set(gone) & EXIT_SLUGS == {"aborted"}
    f = gone["aborted"]
    assert f.confidence == "medium" and "docker kill -s ABRT" in dict(f.facts)["still possible"]


def test_segfault_sent_by_docker_kill_is_not_a_crash():
    sent = container(exit_code=139, ran_s=3, events=[event("kill", 3, signal=11),
                                                    event("die", 3.1, exitCode=139)])
    assert explained_exit(sent) == "killed-by-signal"
    crashed = container(exit_code=139, ran_s=3, events=[event("die", 3.1, exitCode=139)])
    assert set(found(crashed)) & EXIT_SLUGS == {"segfault"}
    assert found(crashed)["segfault"].confidence == "high"
    gone = container(exit_code=139, ran_s=3, events=())
    assert set(found(gone)) & EXIT_SLUGS == {"segfault"}
    f = found(gone)["segfault"]
    assert f.confidence == "medium" and "docker kill -s SEGV" in dict(f.facts)["still possible"]


def test_oom_flag_is_stale_on_a_running_container():
    # Docker 20.10 keeps OOMKilled=true after a restart: not a finding for a running container.
    running = container(status="running", oom=True, events=[])
    assert "oom-killed" not in found(running)
    child = container(status="running", oom=False, events=[event("oom", 5)])
    f = found(child)["oom-killed"]
    assert f.severity is Severity.ERROR and "PID 1 survived" in f.title
    before_restart = container(status="running", events=[
        event("oom", 5), event("die", 5.1, exitCode=137), event("start", 6)])
    assert "oom-killed" not in found(before_restart)


# -- non-zero exits ---------------------------------------------------------------------------


def test_app_exit_error_is_silent_whenever_explained_exit_names_another_check():
    cases = {
        "command-not-found": container(exit_code=127, ran_s=0.1,
                                       stderr=log("sh: nosuchcmd: not found")),
        "missing-shared-library": container(exit_code=127, ran_s=0.1, stderr=log(
            "/app/x: error while loading shared libraries: libssl.so.3: cannot open shared "
            "object file: No such file or directory")),
        "oom-killed": container(exit_code=137, oom=True, stderr=log("Traceback (most recent "
                                                                    "call last):")),
        "dead": container(status="dead", exit_code=1, error="driver failed to remove root fs"),
    }
    for slug, c in cases.items():
        assert explained_exit(c) == slug
        assert "app-exit-error" not in found(c), slug
    assert "app-exit-error" in found(container(exit_code=127, stderr=log("something else")))


def test_exec_failure_belongs_to_the_exec_checks():
    c = container(exit_code=1, ran_s=0.0, stderr=log("exec /entry.sh: no such file or directory",
                                                    at_s=-0.001))
    assert explained_exit(c) not in (None, "app-exit-error")
    assert "app-exit-error" not in found(c)


def test_crlf_line_endings_named_by_command_not_found():
    c = container(exit_code=127, stderr=log("/app/run.sh: line 2: $'\\r': command not found"))
    f = found(c)["command-not-found"]
    assert "CRLF" in f.title


@pytest.mark.parametrize(("lines", "kind", "title"), [
    (("Exception in thread \"main\" java.lang.IllegalStateException: no config",
      "\tat com.example.Main.main(Main.java:10)"), "Java exception",
     "exited with code 1: Exception in thread \"main\" java.lang.IllegalStateException: no "
     "config"),
    (("node:internal/modules/cjs/loader:1080", "  throw err;", "  ^", "",
      "Error: Cannot find module 'express'", "Require stack:", "- /app/index.js",
      "Node.js v18.19.0"), "Node.js error", "exited with code 1: Error: Cannot find module "
     "'express'"),
    (("connecting to db", "giving up after 3 tries"), "last output",
     "exited with code 1: giving up after 3 tries"),
])
def test_decisive_lines_name_the_failure(lines, kind, title):
    f = found(container(exit_code=1, stderr=log(*lines)))["app-exit-error"]
    assert dict(f.facts)["decisive lines"].startswith(kind)
    assert f.title == title


# -- exit 0 -----------------------------------------------------------------------------------


def test_exited_immediately_severity_follows_service_evidence():
    one_shot = found(container(exit_code=0, ran_s=0.2, cmd=("echo", "hi")))
    assert one_shot["exited-immediately"].severity is Severity.INFO
    bare_shell = found(container(exit_code=0, ran_s=0.1, cmd=("sh",)))
    assert bare_shell["exited-immediately"].severity is Severity.WARNING
    daemon = found(container(exit_code=0, ran_s=1, cmd=("sh", "-c", "service nginx start")))
    assert daemon["exited-immediately"].severity is Severity.WARNING
    waits = found(container(exit_code=0, ran_s=1, cmd=("sh", "-c", "app & wait")))
    assert waits["exited-immediately"].severity is Severity.INFO
    ports = found(container(exit_code=0, ran_s=1, config={"ExposedPorts": {"80/tcp": {}}}))
    assert ports["exited-immediately"].severity is Severity.WARNING
    assert "exited-immediately" not in found(container(exit_code=0, ran_s=10.5))
    assert "exited-immediately" not in found(container(exit_code=0, ran_s=1, events=[
        event("kill", 1, signal=15), event("die", 1, exitCode=0), event("stop", 1.1)]))


# -- running but unwell -----------------------------------------------------------------------


def test_restart_loop_caught_while_up_and_on_failure_giving_up():
    policy = {"RestartPolicy": {"Name": "always"}}
    up = container(status="running", restarts=5, host_config=policy, collected_after_s=2)
    f = found(up)["restart-loop"]
    assert "running, but only for 2.0 s after 5 restarts" in dict(f.facts)["status"]
    settled = container(status="running", restarts=5, host_config=policy,
                        collected_after_s=3600)
    assert "restart-loop" not in found(settled)
    gave_up = container(exit_code=1, restarts=3, stderr=log("fatal: bad config"),
                        host_config={"RestartPolicy": {"Name": "on-failure",
                                                       "MaximumRetryCount": 3}})
    got = found(gave_up)
    assert "gave up after 3 restarts" in dict(got["restart-loop"].facts)["status"]
    assert next(iter(got)) == "app-exit-error"  # verdict order: the cause first


def test_unhealthy_reads_the_probe_record_and_timeouts():
    log_entry = {"ExitCode": -1, "Output": "Health check exceeded timeout (1s)"}
    health = {"Status": "unhealthy", "FailingStreak": 4, "Log": [log_entry]}
    f = found(container(status="running", health=health))["unhealthy"]
    assert f.severity is Severity.ERROR and "times out" in f.title
    odd = {"ExitCode": 127, "Output": ""}
    probe = {"healthcheck": {"form": "CMD-SHELL", "program": "curl", "found": None}}
    f = found(container(status="running", entrypoint=probe,
                        health={"Status": "unhealthy", "Log": [odd]}))["unhealthy"]
    assert f.severity is Severity.WARNING and "`curl` is not in the image" in f.title
    assert "unhealthy" not in found(container(status="running", health={
        "Status": "starting", "FailingStreak": 2, "Log": [odd]}))


def test_last_output_prefers_stderr_when_nothing_is_marked():
    # Separate pipes: stdout's line may carry the later timestamp although it was written first.
    c = container(exit_code=1, stdout=log("crashing", at_s=0.5), stderr=log("boom", at_s=0.4))
    assert found(c)["app-exit-error"].title == "exited with code 1: boom"


def test_health_of_a_stopped_container_is_not_a_finding():
    # The engine sets Health.Status=unhealthy when a container stops; the probes all passed.
    health = {"Status": "unhealthy", "FailingStreak": 0, "Log": [{"ExitCode": 0, "Output": ""}]}
    assert "unhealthy" not in found(container(exit_code=137, health=health, events=[]))
    assert "unhealthy" not in found(container(status="running", health=health))
