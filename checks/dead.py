"""D304: The container is dead: its removal failed half-way.

What went wrong
    `docker rm` marked the container `Dead` (`Removal In Progress`) before deleting its
    filesystem, and the deletion failed, so it stays: `State.Status` is `dead`, `State.Dead`
    true, and `State.Error` usually says why (`driver "overlay2" failed to remove root
    filesystem: ... device or resource busy` when another process still holds one of its
    mounts, `operation not permitted` for an immutable file, `unable to remove filesystem`).
    A dead container cannot be started (`container is marked for removal and cannot be
    started`), its logs cannot be read, and its name stays taken.

How to confirm by hand
    docker inspect -f '{{.State.Status}} {{.State.Dead}} {{.State.Error}}' NAME
    grep -l CONTAINER_ID /proc/*/mountinfo        (on the engine host: who holds its mounts)

Fix
    Free what blocks the removal (stop the process that holds its mounts: often a process
    started while the container ran, with `/var/lib/docker` mounted into another container;
    clear an immutable attribute with `chattr -i`); the removal someone already asked for can
    then go through.  Restarting the engine releases stale mounts as a last resort.  diagnose
    names no removal command: the container is what is being diagnosed, and whether to remove
    it (after its evidence is saved) is the user's call.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (inspect_evidence, lazy_compile, q, check, ContainerEvidence, fact,
                          Finding, Remediation, Severity)

_PATH = lazy_compile(r"(?:unlinkat|remove|unlink|rmdir) (?P<path>/\S+?):? (?P<why>[a-z][a-z ]+)$")


@check("D304", "dead", severity=Severity.ERROR, requires=("inspect",))
def dead(c: ContainerEvidence) -> Iterator[Finding]:
    """Status dead: removal failed and left the container behind."""
    if c.status != "dead" and not c.state.get("Dead"):
        return
    error = str(c.state.get("Error") or "")
    facts = [fact("status", c.status), fact("State.Dead", bool(c.state.get("Dead"))),
             fact("removal error", error or "(not recorded)")]
    commands = []
    m = _PATH.search(error)
    why = m.group("why") if m else ""
    if m:
        facts.append(fact("blocked on", f"{m.group('path')}: {why}"))
    if "busy" in error or not error:
        commands.append(f"grep -l {c.id or c.name} /proc/*/mountinfo")
    if m and "not permitted" in why:
        commands += [f"lsattr -d {q(m.group('path'))}", f"chattr -i {q(m.group('path'))}"]
    title = "dead: a `docker rm` failed half-way and left it behind"
    if error:
        title += f" ({error.rsplit(': ', 1)[-1] if ': ' in error else error})"
    evidence = [inspect_evidence(c, "/State/Status")]
    if error:
        evidence.append(inspect_evidence(c, "/State/Error"))
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Free what blocks the removal that failed (a process holding its mounts, an "
            "immutable file); it cannot run again before that.",
            tuple(commands),
        ),
    )
