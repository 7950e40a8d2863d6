"""D320: The container has a healthcheck, but it has never run.

What went wrong
    The container defines a healthcheck and has been running for longer than its start
    period plus one interval (and the probe's timeout), yet `State.Health` still says
    `starting` with no probe result in `State.Health.Log`.  Nothing ever ran the probe, so the
    health never becomes `healthy`: Compose `depends_on: condition: service_healthy` waits
    forever, and whatever reads the health sees a container that never finished starting.

    Under Podman this is what happens without systemd: Podman schedules healthchecks as
    systemd transient timers, and where there is no systemd (a container, a minimal VM, WSL)
    its service logs `unable to get systemd connection to add healthchecks` and no probe runs.
    dockerd runs probes itself; there the cause is an engine that is hung or overloaded.

How to confirm by hand
    docker inspect -f '{{json .State.Health}} {{json .Config.Healthcheck}}' NAME
    podman healthcheck run NAME        # Podman: runs the probe once, by hand

Look-alikes told apart
    `unhealthy` (the probe runs and fails) and a container still inside its start period
    (not reported).

Fix
    Podman: run it under systemd (or `podman system service` on a host that has it), or run
    the probe from a timer of your own (`podman healthcheck run NAME`).  dockerd: look at the
    engine's log and load.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from diagnose.api import (human_seconds, inspect_evidence, q, uptime_seconds, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)

#: The engine's defaults when the healthcheck leaves them out (nanoseconds).
DEFAULT_INTERVAL = 30 * 10**9
DEFAULT_TIMEOUT = 30 * 10**9
#: Slack on top of start period + interval + timeout before "never ran" is said.
SLACK_SECONDS = 2.0


def _seconds(value: Any, default: int) -> float:
    return (value if isinstance(value, int) and value > 0 else default) / 1e9


@check("D320", "healthcheck-never-ran", severity=Severity.WARNING, requires=("inspect",))
def healthcheck_never_ran(c: ContainerEvidence) -> Iterator[Finding]:
    """Running past start period + interval + timeout with health `starting` and no probe
    result."""
    health = c.state.get("Health") or {}
    hc = c.config.get("Healthcheck") or {}
    test = [str(t) for t in hc.get("Test") or ()]
    if c.status != "running" or health.get("Status") != "starting" or health.get("Log"):
        return
    if not test or test[0] == "NONE":
        return
    due = (_seconds(hc.get("StartPeriod"), 0) + _seconds(hc.get("Interval"), DEFAULT_INTERVAL)
           + _seconds(hc.get("Timeout"), DEFAULT_TIMEOUT) + SLACK_SECONDS)
    up = uptime_seconds(c)
    if up is None or up < due:
        return
    name = q(c.name)
    facts = [fact("health", "starting, no probe result recorded"),
             fact("running for", human_seconds(up)),
             fact("first result due after", human_seconds(due)),
             fact("probe", " ".join(test))]
    if c.engine.is_podman:
        title = ("its healthcheck has never run: Podman runs healthchecks from systemd timers, "
                 "and none ran here")
        facts.append(fact("engine", "Podman: healthchecks need systemd (or `podman "
                          "healthcheck run`)"))
        summary = ("Run Podman under systemd, or run the probe from a timer of your own; "
                   "`podman healthcheck run` runs it once.")
        commands: tuple[str, ...] = (f"podman healthcheck run {name}",
                                     f"docker inspect -f '{{{{json .State.Health}}}}' {name}")
    else:
        title = "its healthcheck has never run: the engine has not run the probe"
        summary = "The engine is not running probes: look at its log and load."
        commands = (f"docker inspect -f '{{{{json .State.Health}}}}' {name}",
                    "docker info", "docker system events --since 10m")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=(inspect_evidence(c, "/State/Health/Status"),
                  inspect_evidence(c, "/Config/Healthcheck/Test"),
                  inspect_evidence(c, "/State/StartedAt")),
        remediation=Remediation(summary, commands),
    )
