"""D410: The application could not start a process or thread (fork failed).

What went wrong
    fork(2), clone(2) or pthread_create failed with EAGAIN: busybox `sh: can't fork: Resource
    temporarily unavailable`, bash `fork: retry: Resource temporarily unavailable`, nginx
    `fork() failed while spawning "worker process" (11: Resource temporarily unavailable)`,
    Java `OutOfMemoryError: unable to create native thread`, Go `runtime: failed to create new
    OS thread`, while no pids limit of the container binds: the `nproc` ulimit of its user
    (counted host-wide over that user's processes) or a host-wide limit (kernel.pid_max,
    threads-max, systemd's TasksMax of the engine).  A PID 1 that never reaps exited
    children fills the same table with zombies.

How to confirm by hand
    docker inspect -f '{{.HostConfig.PidsLimit}} {{json .HostConfig.Ulimits}}' NAME
    docker stats --no-stream NAME            # the PIDS column against the limit
    docker top NAME                          # many processes? <defunct> ones?

Look-alikes told apart
    `pids-limit-reached` (the container's own `--pids-limit` is what it reached);
    `too-many-open-files` (EMFILE: descriptors, not processes); `zombie-processes` (the cause
    when the table is full of `<defunct>` entries); `oom-killed` (memory, exit 137).

Fix
    Raise the limit (recreate with a bigger `--ulimit nproc=`, or raise the host's limits),
    reduce worker and thread counts, and run with `--init`
    when zombies pile up.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (defunct_in_top, hits_evidence, hits_facts, inspect_evidence, log_severity,
                          logs_command, q, scan_log, ulimit, Cause, check, ContainerEvidence, fact,
                          Finding, Remediation, Severity)

SLUG = Cause.FORK_FAILED


@check("D410", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def fork_failed(c: ContainerEvidence) -> Iterator[Finding]:
    """EAGAIN from fork/clone/pthread_create, joined with PidsLimit, nproc and stats."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    pids_limit = int(c.host_config.get("PidsLimit") or 0)
    nproc = ulimit(c, "nproc")
    current = (c.stats.get("pids_stats") or {}).get("current")
    procs = c.top.get("Processes") or ()
    zombies = defunct_in_top(c)

    facts = [fact("HostConfig.PidsLimit", pids_limit if pids_limit > 0 else "unlimited")]
    if nproc:
        facts.append(fact("nproc ulimit", f"{nproc.get('Soft')} soft, {nproc.get('Hard')} hard"))
    if current is not None:
        facts.append(fact("pids in the cgroup now", current))
    if procs:
        facts.append(fact("processes (docker top)", f"{len(procs)}, {zombies} defunct"))
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits)
    evidence.append(inspect_evidence(c, "/HostConfig/PidsLimit", pids_limit))

    # A binding pids limit is pids-limit-reached's (the signature hands it over): here it is
    # unset or above the nproc ulimit.
    if nproc:
        title = f"could not fork: the nproc ulimit ({nproc.get('Soft')}) was reached"
    else:
        title = ("could not fork: the container sets no pids limit or nproc ulimit, so a "
                 "host-wide limit was reached (kernel.pid_max, threads-max, TasksMax)")
    if zombies:
        title += f"; {zombies} zombie processes hold entries"
    name = q(c.name)
    cmds = [logs_command(c), f"docker stats --no-stream {name}", f"docker top {name}"]
    if zombies:
        cmds.append(f"docker run --init {q(c.image_ref or 'IMAGE')}")
    if not nproc:
        cmds.append("cat /proc/sys/kernel/pid_max /proc/sys/kernel/threads-max")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Raise the process limit or lower the application's worker/thread count; if "
            "defunct processes pile up, run with --init so PID 1 reaps them.",
            tuple(cmds),
        ),
        severity=log_severity(c, hits),
    )
