"""D511: No node can take the service's tasks: placement constraints or reservations fail.

What went wrong
    The scheduler places each task on a node that passes all its filters: the service's
    placement constraints (`--constraint node.labels.zone==eu`), its resource reservations
    (`--reserve-cpu`, `--reserve-memory` against what each node has left), platform, plugins,
    host-mode ports and max-replicas-per-node.  When no node passes, the task stays `pending`
    with `no suitable node (scheduling constraints not satisfied on 3 nodes)` or
    `(insufficient resources on 1 node)`, and it waits there for as long as nothing changes:
    no error, no restart, no container, no log.  This finding quotes the scheduler's
    explanation and lays the service's constraints and reservations next to each node's labels,
    role and resources, saying which constraint each node fails.

How to confirm by hand
    docker service ps --no-trunc NAME        # pending, ERROR: no suitable node (...)
    docker service inspect --format '{{json .Spec.TaskTemplate.Placement}}' NAME
    docker service inspect --format '{{json .Spec.TaskTemplate.Resources}}' NAME
    docker node ls
    docker node inspect --format '{{json .Spec.Labels}} {{json .Description.Resources}}' NODE

Look-alikes told apart
    `no suitable node (1 node not available for new tasks)` alone means the nodes are down,
    drained or paused: that is `node-down`, not a placement problem.  Tasks that were placed
    and then failed are `task-failing` or `image-unavailable`.

Fix
    Make a node satisfy the constraint (`docker node update --label-add KEY=VALUE NODE`) or
    change the service (`docker service update --constraint-rm EXPR NAME`, lower
    `--reserve-memory`/`--reserve-cpu`), or add capacity.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (current_of, node_evidence, node_usable, placement_reasons, q,
                          spec_evidence, task_evidence, unmet_constraints, check, Evidence, fact,
                          Finding, Remediation, ServiceEvidence, Severity)

GiB = 1024 ** 3


@check("D511", "no-suitable-node", severity=Severity.ERROR, requires=("service", "tasks"),
       scope="service")
def no_suitable_node(s: ServiceEvidence) -> Iterator[Finding]:
    """Pending tasks the scheduler cannot place, with the constraints and reservations."""
    stuck = [t for t in current_of(s, "unplaceable") if t.desired in ("running", "ready")]
    if not stuck:
        return
    error = stuck[0].error
    why = placement_reasons(error)
    constraints = [str(c) for c in s.placement.get("Constraints") or ()]
    res = s.reservations
    cpus, mem = res.get("NanoCPUs") or 0, res.get("MemoryBytes") or 0
    facts = [
        fact("pending tasks", len(stuck)),
        fact("scheduler says", error),
        fact("placement constraints", "; ".join(constraints) or "none"),
        fact("reservations", _amounts(cpus, mem) or "none"),
        fact("nodes", f"{len(s.nodes)} ({sum(1 for n in s.nodes if node_usable(n))} ready "
             f"and active)"),
    ]
    evidence = [task_evidence(s, t, "Status", "Err") for t in stuck[:3]]
    if constraints:
        evidence.append(spec_evidence(s, "/Spec/TaskTemplate/Placement/Constraints",
                                      constraints))
    if cpus or mem:
        evidence.append(spec_evidence(s, "/Spec/TaskTemplate/Resources/Reservations",
                                      dict(res)))
    node_facts, nodes_ev, node_commands = _nodes(s, constraints, cpus, mem)
    facts += node_facts
    evidence += nodes_ev
    commands = [f"docker service ps --no-trunc {q(s.name)}", "docker node ls", *node_commands]
    commands += [f"docker service update --constraint-rm {q(c)} {q(s.name)}"
                 for c in constraints]
    if mem:
        commands.append(f"docker service update --reserve-memory 0 {q(s.name)}")
    if cpus:
        commands.append(f"docker service update --reserve-cpu 0 {q(s.name)}")
    what = "; ".join(why) if why else "no node passes the scheduler's filters"
    yield Finding(
        title=f"{len(stuck)} task(s) of {s.name} stay pending: no suitable node ({what})",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Make a node satisfy the service's placement (label it, free or add capacity), "
            "or relax the service's constraints and reservations.", tuple(commands)),
    )


def _nodes(s: ServiceEvidence, constraints: list[str], cpus: int, mem: int
           ) -> tuple[list[tuple[str, str]], list[Evidence], list[str]]:
    """What each node (the first five) lacks: facts, evidence and the commands to fix it."""
    facts: list[tuple[str, str]] = []
    evidence: list[Evidence] = []
    commands: list[str] = []
    for node in s.nodes[:5]:
        host = str((node.get("Description") or {}).get("Hostname") or node.get("ID", ""))
        unmet = unmet_constraints(s, node) if constraints else []
        have = (node.get("Description") or {}).get("Resources") or {}
        short = (cpus and cpus > (have.get("NanoCPUs") or 0)) or \
            (mem and mem > (have.get("MemoryBytes") or 0))
        verdict = []
        if unmet:
            verdict.append(f"fails {'; '.join(unmet)}")
        elif unmet is None:
            verdict.append("constraints not judged here")
        if short:
            total = _amounts(have.get("NanoCPUs") or 0, have.get("MemoryBytes") or 0)
            verdict.append(f"has {total} in all, less than reserved")
        if verdict:
            facts.append(fact(f"node {host}", ", ".join(verdict)))
            evidence.append(node_evidence(s, node, "Description", "Resources") if short
                            else node_evidence(s, node, "Spec", "Labels"))
        commands += [_label_command(c, host) for c in unmet or ()]
    return facts, evidence, commands


def _amounts(nano_cpus: int, mem: int) -> str:
    parts = []
    if nano_cpus:
        parts.append(f"{nano_cpus / 1e9:g} CPU")
    if mem:
        parts.append(f"{mem / GiB:.1f} GiB memory")
    return ", ".join(parts)


def _label_command(constraint: str, host: str) -> str:
    """`docker node update --label-add k=v NODE` for an unmet `node.labels.k==v`."""
    key, op, value = constraint.partition("==")
    if op and key.strip().startswith("node.labels."):
        label = key.strip()[len("node.labels."):]
        return f"docker node update --label-add {q(f'{label}={value.strip()}')} {q(host)}"
    return f"docker node inspect --format '{{{{json .Spec}}}}' {q(host)}"
