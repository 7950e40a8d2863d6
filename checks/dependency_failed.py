"""D501: A Compose service did not run because a service it depends on failed.

What went wrong
    Compose records each service's `depends_on` in the container label
    `com.docker.compose.depends_on` (`db:service_healthy:false,cache:service_started:false`:
    service, condition, restart).  When a dependency does not reach its condition -- it exited,
    never started, restarts in a loop, or is not healthy for `service_healthy` -- Compose
    leaves the dependants in `created` (`dependency failed to start: container db is
    unhealthy`), or they start and fail against a dependency that is not there.  The root cause
    is in the dependency, not in the dependant: this finding names the root service, following
    dependencies of dependencies.

How to confirm by hand
    docker inspect -f '{{index .Config.Labels "com.docker.compose.depends_on"}}' CONTAINER
    docker compose -p PROJECT ps -a

Look-alikes told apart
    `created-not-started` (nothing gated it: no failed dependency) and the dependant's own
    crash (its dependencies are all fine).  Containers that run well are never reported, even
    when a dependency failed later.

Fix
    Fix the root service first (its own findings say why it failed), then bring the project
    up again: `docker compose -p PROJECT up -d`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from diagnose.api import (q, check, ContainerEvidence, Evidence, fact, Finding, layout, Remediation,
                          Severity, Snapshot)

LABEL = "com.docker.compose.depends_on"


@dataclass(frozen=True)
class Dependency:
    """One `depends_on` entry."""

    service: str
    condition: str


def depends_on(c: ContainerEvidence) -> list[Dependency]:
    """Parse the label (Compose v2 `svc:condition:restart`, older plain `svc`)."""
    raw = str(c.labels.get(LABEL, "") or "")
    out = []
    for item in raw.split(","):
        parts = item.strip().split(":")
        if parts and parts[0]:
            out.append(Dependency(parts[0], parts[1] if len(parts) > 1 else "service_started"))
    return out


def failure(d: ContainerEvidence, condition: str) -> str:
    """Why `d` does not meet `condition` ('' when it does)."""
    health = (d.state.get("Health") or {}).get("Status")
    if d.status == "created":
        return "never started" + (f" ({d.start_error})" if d.start_error else "")
    if d.status == "restarting":
        return f"restarts in a loop (last exit {d.exit_code})"
    if d.status in ("dead", "removing"):
        return f"is {d.status}"
    if condition == "service_completed_successfully":
        if d.status == "exited" and d.exit_code == 0:
            return ""
        return (f"exited with code {d.exit_code}" if d.status == "exited"
                else "has not completed")
    if d.status == "exited":
        return f"exited with code {d.exit_code}"
    if condition == "service_healthy" and health != "healthy":
        return f"is {health or 'not health-checked'} (the condition is service_healthy)"
    if health == "unhealthy":
        return "is unhealthy"
    return ""


def _runs_well(c: ContainerEvidence) -> bool:
    health = (c.state.get("Health") or {}).get("Status")
    return c.status == "running" and health != "unhealthy"


@check("D501", "dependency-failed", severity=Severity.ERROR, scope="run", requires=())
def dependency_failed(snap: Snapshot) -> Iterator[Finding]:
    """Dependants of failed Compose services, pointed at the root service."""
    services: dict[tuple[str, str], list[ContainerEvidence]] = {}
    for c in snap.containers:
        if c.compose_project and c.compose_service:
            services.setdefault((c.compose_project, c.compose_service), []).append(c)
    for c in snap.containers:
        if not c.compose_project or _runs_well(c):
            continue
        for dep in depends_on(c):
            failed = [(d, why) for d in services.get((c.compose_project, dep.service), ())
                      if (why := failure(d, dep.condition))]
            if not failed:
                continue
            d, why = failed[0]
            chain = _root(d, services, {c.compose_service, dep.service})
            yield _finding(c, dep, d, why, chain)


def _root(d: ContainerEvidence, services: Mapping[tuple[str, str], list[ContainerEvidence]],
          seen: set[str]) -> list[tuple[ContainerEvidence, str]]:
    """The failed dependencies of `d`, down to the one whose dependencies are all fine."""
    chain: list[tuple[ContainerEvidence, str]] = []
    current = d
    while True:
        nxt = None
        for dep in depends_on(current):
            if dep.service in seen:
                continue
            for cand in services.get((current.compose_project, dep.service), ()):
                why = failure(cand, dep.condition)
                if why:
                    nxt = (cand, why)
                    break
            if nxt:
                seen.add(dep.service)
                break
        if nxt is None:
            return chain
        chain.append(nxt)
        current = nxt[0]


def _finding(c: ContainerEvidence, dep: Dependency, d: ContainerEvidence, why: str,
             chain: list[tuple[ContainerEvidence, str]]) -> Finding:
    root, root_why = chain[-1] if chain else (d, why)
    path = " -> ".join([c.compose_service, d.compose_service,
                        *(x.compose_service for x, _ in chain)])
    title = (f"service {c.compose_service} did not run because {d.compose_service} {why}"
             + (f"; the root is {root.compose_service}, which {root_why}" if chain else ""))
    facts = [
        fact("service", c.compose_service),
        fact("project", c.compose_project),
        fact("state", c.status),
        fact("depends on", f"{dep.service} (condition {dep.condition})"),
        fact(f"{d.compose_service}", f"{d.name}: {why}"),
        fact("dependency chain", path),
        fact("root service", f"{root.compose_service} ({root.name}): {root_why}"),
    ]
    evidence = [Evidence(file=c.path(layout.INSPECT),
                         pointer=f"/Config/Labels/{LABEL}", excerpt=str(c.labels.get(LABEL))),
                Evidence(file=d.path(layout.INSPECT), pointer="/State/Status",
                         excerpt=f"{d.status} (exit {d.exit_code})")]
    if root is not d:
        evidence.append(Evidence(file=root.path(layout.INSPECT), pointer="/State/Status",
                                 excerpt=f"{root.status} (exit {root.exit_code})"))
    project = q(c.compose_project)
    return Finding(
        title=title,
        target=c.key,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            f"Fix {root.compose_service} first (see its own findings), then bring the project "
            "up again.",
            (f"docker logs --tail 50 {q(root.name)}",
             f"diagnose {q(root.name)}",
             f"docker compose -p {project} ps -a",
             f"docker compose -p {project} up -d"),
        ),
    )
