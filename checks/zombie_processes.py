"""D305: Zombie processes pile up: their parent never reaps them.

What went wrong
    A process that exits stays a zombie (`<defunct>`, state Z) until its parent calls
    wait().  In a container, orphaned processes are re-parented to the container's PID 1,
    which is normally the application: it was never written to be an init, so it never
    reaps them.  Zombies hold a PID each (hitting `--pids-limit` or the kernel's limit means
    `fork: Resource temporarily unavailable`), and `docker stop` can hang on them.
    The host-side process tree (`processes.json`, read through /proc on the engine host)
    says which process is the parent; `docker top` cannot show zombies, which have already
    left the container's cgroup.

    One zombie seen once can be a child that exited a moment before its parent's wait():
    that is reported as info; two or more under the same parent as a warning.  With
    `--init` PID 1 is docker-init (tini), which reaps every orphan.

How to confirm by hand
    ps -o pid,ppid,stat,args --ppid $(docker inspect -f '{{.State.Pid}}' NAME)   (STAT Z)
    docker inspect -f '{{.HostConfig.Init}}' NAME

Fix
    Run with an init as PID 1: `docker run --init` (Compose `init: true`), or tini /
    dumb-init as the image's entrypoint.  If the parent is not PID 1, fix that program to
    wait() for its children (or set SIGCHLD to SIG_IGN).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from diagnose.api import (command_text, inspect_evidence, q, check, ContainerEvidence, Evidence,
                          fact, Finding, layout, Remediation, Severity)


def _label(p: Mapping[str, Any]) -> str:
    cmd = " ".join(str(x) for x in p.get("cmdline") or ()) or str(p.get("name") or "?")
    return f"{cmd[:80]} (host PID {p.get('pid')})"


def _ps_command(name: str) -> str:
    return f"ps -o pid,ppid,stat,args --ppid $(docker inspect -f '{{{{.State.Pid}}}}' {name})"


@check("D305", "zombie-processes", severity=Severity.WARNING, requires=("inspect", "processes"))
def zombie_processes(c: ContainerEvidence) -> Iterator[Finding]:
    """Zombies in the container's process tree, grouped by the parent that does not reap."""
    doc = c.processes
    procs = [p for p in doc.get("processes") or () if isinstance(p, Mapping)]
    zombies = [(i, p) for i, p in enumerate(procs) if p.get("status") == "zombie"]
    if not zombies:
        return
    by_pid = {p.get("pid"): p for p in procs}
    pid1 = doc.get("pid1")
    init = bool(c.host_config.get("Init"))
    parents: dict[Any, list[tuple[int, Mapping[str, Any]]]] = {}
    for i, p in zombies:
        parents.setdefault(p.get("ppid"), []).append((i, p))
    for ppid, group in sorted(parents.items(), key=lambda kv: -len(kv[1])):
        parent = by_pid.get(ppid, {"pid": ppid})
        is_pid1 = ppid == pid1
        names = sorted({str(p.get("name") or "?") for _, p in group})
        facts = [
            fact("zombies", len(group)),
            fact("their names", ", ".join(names)),
            fact("parent", ("PID 1 of the container: " if is_pid1 else "") + _label(parent)),
            fact("--init", init),
            fact("PID 1 command", command_text(c)),
            fact("processes in the container", len(procs)),
        ]
        limit = c.host_config.get("PidsLimit")
        if isinstance(limit, int) and limit > 0:
            facts.append(fact("pids limit", limit))
        first = group[0][0]
        evidence = [
            Evidence(file=c.path(layout.PROCESSES), pointer=f"/processes/{first}/status",
                     excerpt=f"{group[0][1].get('name')} pid {group[0][1].get('pid')} "
                             f"ppid {ppid}: zombie"),
            inspect_evidence(c, "/HostConfig/Init", init),
        ]
        severity = Severity.WARNING if len(group) >= 2 else Severity.INFO
        n = q(c.name)
        commands: tuple[str, ...]
        if is_pid1 and not init:
            title = (f"{len(group)} zombie process{'es' if len(group) != 1 else ''}: PID 1 "
                     f"(`{command_text(c)[:60]}`) does not reap its children; run with --init")
            summary = ("Run an init as PID 1 that reaps orphans: `docker run --init` (Compose "
                       "`init: true`) or tini / dumb-init as the entrypoint.")
            commands = (_ps_command(n), f"docker run -d --init {q(c.image_ref or 'IMAGE')}")
        else:
            title = (f"{len(group)} zombie process{'es' if len(group) != 1 else ''} under "
                     f"{_label(parent)}, which does not wait() for its children")
            summary = ("Fix the parent program to wait() for its children (or ignore SIGCHLD); "
                       "--init only reaps orphans re-parented to PID 1.")
            commands = (f"ps -o pid,ppid,stat,args --ppid {parent.get('pid')}",)
        yield Finding(title=title, facts=tuple(facts), evidence=tuple(evidence),
                      remediation=Remediation(summary, commands), severity=severity)
