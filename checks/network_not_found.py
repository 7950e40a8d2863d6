"""D109: The container's network no longer exists.

What went wrong
    The container was created on a user-defined network that was removed afterwards
    (`docker network rm`, `docker network prune`, a Compose project torn down and brought up
    again with a new network).  The container's configuration still names the old network
    (by name, or by its old ID once it had been connected), so the engine cannot start it:
    status `created` (or `exited` if it ran before), exit code 128:

        network 7f8c41c0d1e9... not found
        network backend not found
        Cannot start service redis: network 78b26a19... not found          (compose v1)
        could not find a network matching network mode backend

    networks.json records, for every network the container names, whether the engine still
    has it.

How to confirm by hand
    docker inspect -f '{{json .NetworkSettings.Networks}}' NAME
    docker network ls

Look-alikes told apart
    `dns-resolution-failure` (the network exists but a service name does not resolve: the
    container runs and logs the lookup error).

Fix
    Recreate the network under the same name when the container names it by name; or make
    the container again on a network that exists: Compose does that
    (`docker compose up -d --force-recreate`), a `docker run` container is run again under a
    new name with `--network EXISTING` (diagnose names no removal of the container it
    diagnoses).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from diagnose.api import (excerpt, failure_facts, failure_for, lazy_compile, override_commands, q,
                          Cause, check, ContainerEvidence, Evidence, fact, Finding, layout,
                          Remediation, Severity)

SLUG = Cause.NETWORK_NOT_FOUND
_NAMED = lazy_compile(r"network (?P<net>\S+) not found|network mode (?P<mode>\S+)|"
                      r"No such network:? (?P<other>\S+)", re.IGNORECASE)


def missing_network(error: str) -> str:
    """The network name or ID the error names ('' when it names none)."""
    m = _NAMED.search(error)
    if not m:
        return ""
    return (m.group("net") or m.group("mode") or m.group("other") or "").strip("'\".,")


@check("D109", SLUG, severity=Severity.CRITICAL, requires=("inspect",))
def network_not_found(c: ContainerEvidence) -> Iterator[Finding]:
    """State.Error says a network it is attached to is gone."""
    failure = failure_for(c, SLUG)
    if failure is None or failure[0] is None:
        return
    sf = failure[0]
    named = missing_network(sf.error)
    facts, evidence = failure_facts(c, failure)
    gone = [name for name, n in c.networks.items() if not (n or {}).get("found", True)]
    present = [name for name, n in c.networks.items() if (n or {}).get("found")]
    facts.append(fact("missing network", named or ", ".join(gone) or "unknown"))
    if gone:
        facts.append(fact("networks.json", f"gone: {', '.join(gone)}"
                          + (f"; still there: {', '.join(present)}" if present else "")))
        for name in gone:
            evidence.append(Evidence(file=c.path(layout.NETWORKS),
                                     pointer="/" + name.replace("~", "~0").replace("/", "~1"),
                                     excerpt=excerpt(c.networks[name], ascii_only=False)))
    project = (c.config.get("Labels") or {}).get("com.docker.compose.project")
    by_name = bool(named) and named in c.networks and not re.fullmatch(r"[0-9a-f]{12,64}", named)
    commands = []
    if project:
        commands.append("docker compose up -d --force-recreate   # in the project's directory")
    if by_name:
        commands.append(f"docker network create {q(named)} && docker start {q(c.name)}")
    commands.append("docker network ls")
    commands += override_commands(c)
    yield Finding(
        title=f"its network {named or (gone[0] if gone else '?')} no longer exists",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Recreate the container on a network that exists"
            + (" (Compose: `up --force-recreate`)" if project else "")
            + (", or create the network again under the same name" if by_name else "")
            + "; don't prune networks that stopped containers still use.",
            tuple(commands),
        ),
    )
