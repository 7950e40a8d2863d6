"""D411: The container reached its pids limit: no new process or thread could start.

What went wrong
    `--pids-limit N` (Compose `pids_limit`, Kubernetes' pod pids limit) caps the tasks of the
    container's cgroup: processes *and* threads.  At the cap, fork(2), clone(2) and
    pthread_create fail with EAGAIN, and programs say so in their own words: busybox `sh:
    can't fork: Resource temporarily unavailable`, bash `fork: retry: Resource temporarily
    unavailable`, nginx `fork() failed while spawning "worker process" (11: Resource
    temporarily unavailable)`, Java `OutOfMemoryError: unable to create native thread`, Go
    `runtime: failed to create new OS thread`, `pthread_create failed ...`.  A thread pool or a
    pre-forking server that grows with load, or a PID 1 that never reaps exited children
    (zombies hold their entries), reaches it.

    For a running container the finding says how close it is now (the stats API's
    `pids_stats.current` against its limit); an exited one has no count left, only the limit.

How to confirm by hand
    docker inspect -f '{{.HostConfig.PidsLimit}} {{json .HostConfig.Ulimits}}' NAME
    docker stats --no-stream NAME            # the PIDS column against the limit
    docker top NAME                          # many processes? <defunct> ones?

Look-alikes told apart
    `fork-failed`: the same EAGAIN with no pids limit, or with an `nproc` ulimit below it
    (RLIMIT_NPROC counts the user's processes host-wide, not the container's), or a host-wide
    limit (kernel.pid_max, threads-max); `too-many-open-files` (descriptors, not tasks);
    `zombie-processes` (why the table is full when it is full of `<defunct>` entries);
    `oom-killed` (memory, exit 137).

Fix
    Raise the limit (`docker update --pids-limit 1024 NAME`, or recreate with a bigger
    `--pids-limit`), or bound the program's workers and threads; run with `--init` when
    zombies pile up.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (defunct_in_top, hits_evidence, hits_facts, inspect_evidence, log_severity,
                          logs_command, q, scan_log, Cause, check, ContainerEvidence, fact, Finding,
                          Remediation, Severity)

SLUG = Cause.PIDS_LIMIT_REACHED


@check("D411", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def pids_limit_reached(c: ContainerEvidence) -> Iterator[Finding]:
    """EAGAIN from fork/clone/pthread_create in a container whose pids limit binds."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    limit = int(c.host_config.get("PidsLimit") or 0)
    pids = c.stats.get("pids_stats") or {}
    current = pids.get("current")
    procs = c.top.get("Processes") or ()
    zombies = defunct_in_top(c)
    facts = [fact("HostConfig.PidsLimit", limit)]
    if current is not None:
        facts.append(fact("tasks in the cgroup now", f"{current} of {pids.get('limit') or limit}"
                          " (processes and threads)"))
    elif c.status not in ("running", "paused"):
        facts.append(fact("tasks in the cgroup now", "none: the container has exited (how close "
                          "it came is known only from the failures in its log)"))
    if procs:
        facts.append(fact("processes (docker top)", f"{len(procs)}, {zombies} defunct"))
    facts += hits_facts(hits)
    title = f"could not start a process or thread: the container reached its pids limit of {limit}"
    if current is not None:
        title += f" ({current} in use now)"
    if zombies:
        title += f"; {zombies} zombie processes hold entries"
    name = q(c.name)
    cmds = [logs_command(c), f"docker stats --no-stream {name}", f"docker top {name}",
            f"docker update --pids-limit {max(1024, limit * 4)} {name}"]
    if zombies:
        cmds.append(f"docker run --init {q(c.image_ref or 'IMAGE')}")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(hits_evidence(c, hits)
                       + [inspect_evidence(c, "/HostConfig/PidsLimit", limit)]),
        remediation=Remediation(
            "Raise the pids limit or bound the program's workers and threads; if defunct "
            "processes pile up, run with --init so PID 1 reaps them.",
            tuple(cmds),
        ),
        severity=log_severity(c, hits),
    )
