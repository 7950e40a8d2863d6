"""D303: The container is paused.

What went wrong
    `docker pause` (or an automation, a backup tool, Docker Desktop's resource saver) froze
    every process of the container with the cgroup freezer.  It still shows as `Up` in
    `docker ps`, with `(Paused)`; `State.Status` is `paused`, `State.Paused` true.  Nothing in
    it runs: requests hang, `docker exec` fails with `Container ... is paused, unpause the
    container before exec`, logs stop, and the healthcheck is suspended at its last status.

How to confirm by hand
    docker inspect -f '{{.State.Status}} {{.State.Paused}}' NAME
    docker events --since 24h --filter container=NAME --filter event=pause

Fix
    `docker unpause NAME`, and find who paused it (the events, while the engine still holds
    them, say when).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (event_evidence, event_time, events_with, inspect_evidence, q, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)


@check("D303", "paused", severity=Severity.WARNING, requires=("inspect",))
def paused(c: ContainerEvidence) -> Iterator[Finding]:
    """Status paused: every process frozen."""
    if c.status != "paused" and not (c.state.get("Paused") and c.state.get("Running")):
        return
    pauses = events_with(c, "pause")
    facts = [fact("status", c.status), fact("State.Paused", bool(c.state.get("Paused")))]
    if pauses:
        facts.append(fact("paused at", event_time(pauses[-1][1])))
    else:
        facts.append(fact("paused at", "unknown: no `pause` event left in the engine's ring"))
    health = (c.state.get("Health") or {}).get("Status")
    if health:
        facts.append(fact("health", f"{health} (frozen while paused)"))
    n = q(c.name)
    yield Finding(
        title="paused: every process in it is frozen (docker pause)",
        facts=tuple(facts),
        evidence=tuple([inspect_evidence(c, "/State/Paused")] + event_evidence(c, pauses[-1:])),
        remediation=Remediation(
            "Unpause it, and find who paused it.",
            (f"docker unpause {n}",
             f"docker events --since 24h --filter container={n} --filter event=pause"),
        ),
    )
