"""D513: Fewer tasks of the service run than it asks for.

What went wrong
    A replicated service asks for N replicas (`--replicas N`); a global service asks for one
    task on every node that is ready, active and meets its placement constraints.  Counting
    the tasks that are running (and meant to) against that number says whether the service
    has the capacity it was given: `docker service ls` shows the same as REPLICAS `1/3`.  This
    finding gives both numbers, the state of the newest task of each slot that does not run,
    and which finding explains them (`task-failing`, `image-unavailable`, `no-suitable-node`,
    `node-down`), so the shortfall and its cause read together.

    Severity: error when none runs, a warning when some do.

How to confirm by hand
    docker service ls --filter name=NAME      # REPLICAS running/desired
    docker service ps NAME                    # the newest task of each slot
    docker node ls                            # global services: the eligible nodes

Look-alikes told apart
    A service that is still converging (its tasks were created, scheduled, are pulling or
    starting, without an error, less than a minute ago, and no task of that slot has failed)
    is on its way, not short: not reported.  Jobs (`replicated-job`, `global-job`) run to
    completion and have no replicas to keep.  A service scaled to 0 asks for nothing.

Fix
    Fix what the cause finding names; then `docker service update --force NAME` starts fresh
    tasks where the restart policy gave up (`--restart-max-attempts`).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (converging, counted, desired_count, is_running, q, shortfall_cause,
                          spec_evidence, task_evidence, check, fact, Finding, Remediation,
                          ServiceEvidence, Severity)


@check("D513", "replicas-below-desired", severity=Severity.ERROR,
       requires=("service", "tasks"), scope="service")
def replicas_below_desired(s: ServiceEvidence) -> Iterator[Finding]:
    """Running tasks against desired replicas (global: eligible nodes)."""
    desired, how = desired_count(s)
    if not desired:
        return
    running = [t for t in s.tasks if is_running(t)]
    on_way = [t for t in s.current if converging(s, t)]
    if len(running) + len(on_way) >= desired:
        return
    idle = [t for t in s.current if not is_running(t) and not converging(s, t)]
    cause = shortfall_cause(s)
    facts = [
        fact("mode", s.mode),
        fact("desired", f"{desired} ({how})"),
        fact("running", len(running)),
        fact("starting (converging)", len(on_way)),
        fact("newest task of each slot not running", counted(
            f"{t.state}" + (f" (desired {t.desired})" if t.desired != "running" else "")
            for t in idle) or "none: no task was created"),
        fact("explained by", cause or "no other finding: see the task states"),
    ]
    status = s.service_status
    if status:
        facts.append(fact("docker service ls", f"{status.get('RunningTasks', '?')}/"
                          f"{status.get('DesiredTasks', '?')}"))
    evidence = []
    if s.mode == "replicated":
        evidence.append(spec_evidence(s, "/Spec/Mode/Replicated/Replicas", desired))
    else:
        evidence.append(spec_evidence(s, "/Spec/Mode", dict(s.spec.get("Mode") or {})))
    evidence += [task_evidence(s, t, "Status", "State") for t in idle[:3]]
    commands = [f"docker service ls --filter name={q(s.name)}",
                f"docker service ps --no-trunc {q(s.name)}"]
    if s.mode == "global":
        commands.append("docker node ls")
    commands.append(f"docker service update --force {q(s.name)}")
    yield Finding(
        title=(f"{s.name}: {len(running)} of {desired} task(s) running"
               + (f" ({cause})" if cause else "")),
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Fix the cause named above, then start fresh tasks with --force where the restart "
            "policy gave up.", tuple(commands)),
        severity=Severity.ERROR if not running else Severity.WARNING,
    )
