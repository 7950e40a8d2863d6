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

Fix
    Start it, or find what should have started it (a Compose `depends_on` condition that was
    never met leaves dependants in `created`).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (inspect_evidence, q, start_blocked_by_mount, check, ContainerEvidence,
                          fact, Finding, Remediation, Severity)


@check("D001", "created-not-started", severity=Severity.WARNING, requires=("inspect",))
def created_not_started(c: ContainerEvidence) -> Iterator[Finding]:
    """Status created, never started, no start error."""
    if c.status != "created" or c.ever_started or c.state.get("Error"):
        return
    if start_blocked_by_mount(c):
        return  # a start was (or would be) refused: mount-source-missing says why
    labels = c.config.get("Labels") or {}
    facts = [fact("status", c.status), fact("created", c.inspect.get("Created", "")),
             fact("State.Error", "(empty: no start was attempted)")]
    project = labels.get("com.docker.compose.project")
    if project:
        facts.append(fact("compose project", project))
    yield Finding(
        title="created but never started (no start was attempted)",
        facts=tuple(facts),
        evidence=(inspect_evidence(c, "/State/Status"), inspect_evidence(c, "/State/StartedAt")),
        remediation=Remediation(
            "Start it; if it belongs to a Compose project, check the `depends_on` conditions "
            "that gate it.",
            (f"docker start {q(c.name)}", f"docker logs {q(c.name)}"),
        ),
    )
