"""D001: The container was created but never started.

What went wrong
    `docker create` (or `docker compose up --no-start`, or a Compose dependency gate) made the
    container, but nothing ever started it: `State.Status` is `created`, `StartedAt` is the
    zero time and the engine recorded no start error (`State.Error` is empty).  When the engine
    *did* try and fail, `State.Error` says why and one of the start-failure checks reports the
    specific cause instead.

How to confirm by hand
    docker inspect -f '{{.State.Status}} {{.State.StartedAt}} {{.State.Error}}' NAME

Look-alikes told apart
    `mount-source-missing` (a `--mount type=bind` source is gone: starting it fails, yet
    State.Error stays empty) and every start failure with State.Error set.

    Podman never records a failed start in State.Error (nor an exit code): its containers
    look "created" either way.  On a local Podman the OCI runtime's own log (`oci-log`, read
    into runtime.json) gives the error and the start-failure checks report it; otherwise a
    `cleanup` event after `create` with no `start` shows that a start was attempted and failed
    (reported here as an error, with what the entrypoint probe found when it shows the
    command missing or not executable), and without one this check
    says what it cannot tell instead of "no start was attempted".

Fix
    Start it, or find what should have started it (a Compose `depends_on` condition that was
    never met leaves dependants in `created`).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (event_evidence, events_with, inspect_evidence, q,
                          start_blocked_by_mount, check, ContainerEvidence, fact, Finding,
                          Remediation, Severity)


@check("D001", "created-not-started", severity=Severity.WARNING, requires=("inspect",))
def created_not_started(c: ContainerEvidence) -> Iterator[Finding]:
    """Status created, never started, no start error."""
    if c.status != "created" or c.ever_started or c.start_error:
        return
    if start_blocked_by_mount(c):
        return  # a start was (or would be) refused: mount-source-missing says why
    labels = c.config.get("Labels") or {}
    failed = events_with(c, "cleanup") if c.engine.is_podman else []
    started = events_with(c, "start", "init")
    title = "created but never started (no start was attempted)"
    empty = "(empty: no start was attempted)"
    severity = None
    if failed and not started:
        title = "a start was attempted and failed, and Podman recorded no reason"
        empty = "(empty: Podman does not record start errors)"
        severity = Severity.ERROR
    elif c.engine.is_podman:
        title = ("created but never started (its events show no start attempt; Podman records "
                 "no start errors)")
        empty = "(empty: Podman does not record start errors)"
    facts = [fact("status", c.status), fact("created", c.inspect.get("Created", "")),
             fact("State.Error", empty)]
    if c.engine.is_podman:
        facts.append(fact("OCI runtime log", _runtime_log(c)))
    probe = c.entrypoint
    if failed and not started and probe.argv0 and (probe.exists is False
                                                   or probe.executable is False):
        # The static probe read the image: the likeliest reason the start failed.
        facts.append(fact("entrypoint", f"{probe.argv0}: " + (
            "not found in the container" if probe.exists is False else "not executable")))
    project = labels.get("com.docker.compose.project")
    if project:
        facts.append(fact("compose project", project))
    yield Finding(
        title=title,
        severity=severity,
        facts=tuple(facts),
        evidence=(inspect_evidence(c, "/State/Status"), inspect_evidence(c, "/State/StartedAt"),
                  *event_evidence(c, failed[-1:])),
        remediation=Remediation(
            "Start it (its start prints the runtime's error if it fails); if it belongs to a "
            "Compose project, check the `depends_on` conditions that gate it.",
            (f"docker start {q(c.name)}", f"docker logs {q(c.name)}"),
        ),
    )


def _runtime_log(c: ContainerEvidence) -> str:
    """What Podman's OCI runtime log said, or why it was not read."""
    if not c.runtime:
        rec = c.records.get("runtime")
        return f"not read: {rec.reason}" if rec is not None and rec.reason else "not read"
    log = c.runtime.get("oci_log") or {}
    if log.get("error"):
        return f"not read: {log.get('error')}"
    return "empty (no runtime error recorded)"
