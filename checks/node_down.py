"""D515: Nodes that hold the service's tasks are down, or no node is available for new tasks.

What went wrong
    A task lives on one node.  When that node stops answering the managers (engine stopped,
    machine gone, network to port 2377 cut) it turns `down` (or `unknown`, `disconnected`)
    and its tasks are out of reach: the managers cannot see whether they still run and, for
    replicated services, start replacements elsewhere only if another node can take them.  A
    node drained (`docker node update --availability drain`) shuts its tasks down on purpose,
    and a paused one takes no new task.  When every node is down, drained or paused, new tasks
    stay `pending` with `no suitable node (1 node not available for new tasks)`.  This
    finding names those nodes with their state, availability and the tasks they hold or held.

    Proven on a real engine for a drained node (the single-node test swarm drains its own
    node); a node that is really down needs a second machine, so that case is proven on the
    node documents the engine reports (tests/unit/checks/test_swarm.py).

How to confirm by hand
    docker node ls                                  # STATUS Down, AVAILABILITY Drain
    docker node inspect --pretty NODE
    docker service ps --no-trunc NAME

Look-alikes told apart
    Pending tasks whose scheduler explanation names constraints or resources are
    `no-suitable-node`; a node that is `ready` and `active` but whose tasks fail is
    `task-failing`.  A drained node that only holds finished tasks while the service runs
    elsewhere is not reported.

Fix
    Bring the node back (start its engine, check the network between nodes: TCP 2377, TCP/UDP
    7946, UDP 4789), make it available again (`docker node update --availability active
    NODE`), or add nodes; remove a node that is gone for good (`docker node rm NODE`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from diagnose.api import (current_of, down_nodes_holding_tasks, is_running, node_evidence,
                          node_state, q, task_evidence, unavailable_nodes, check, fact, Finding,
                          Remediation, ServiceEvidence, Severity, Task)


@check("D515", "node-down", severity=Severity.ERROR, requires=("service", "tasks", "nodes"),
       scope="service")
def node_down(s: ServiceEvidence) -> Iterator[Finding]:
    """Down nodes holding tasks, or tasks pending because no node is available."""
    holding = down_nodes_holding_tasks(s)
    waiting = [t for t in current_of(s, "unavailable") if t.desired in ("running", "ready")]
    if not holding and not waiting:
        return
    culprits: list[tuple[Mapping[str, Any], list[Task]]] = list(holding)
    seen = {str(n.get("ID")) for n, _ in culprits}
    if waiting:
        for node in unavailable_nodes(s):
            if str(node.get("ID")) in seen:
                continue
            held = [t for t in s.tasks if t.node_id == node.get("ID")]
            culprits.append((node, held))
            seen.add(str(node.get("ID")))
    facts = []
    evidence = []
    commands = ["docker node ls", f"docker service ps --no-trunc {q(s.name)}"]
    for node, held in culprits[:5]:
        state, avail = node_state(node)
        host = str((node.get("Description") or {}).get("Hostname") or node.get("ID", ""))
        role = (node.get("Spec") or {}).get("Role", "?")
        message = (node.get("Status") or {}).get("Message") or ""
        facts.append(fact(f"node {host}", f"{role}, state {state}, availability {avail}"
                          + (f" ({message})" if message else "")
                          + f"; holds {len(held)} task(s) of this service"))
        evidence.append(node_evidence(s, node, "Status", "State") if state != "ready"
                        else node_evidence(s, node, "Spec", "Availability"))
        commands.append(f"docker node inspect --pretty {q(host)}")
        if avail != "active":
            commands.append(f"docker node update --availability active {q(host)}")
    if waiting:
        facts.append(fact("pending tasks", f"{len(waiting)}: {waiting[0].error}"))
        evidence.append(task_evidence(s, waiting[0], "Status", "Err"))
    for _, held in holding[:2]:
        evidence += [task_evidence(s, t, "Status", "State") for t in held[:2]]
    running = sum(1 for t in s.tasks if is_running(t))
    facts.append(fact("tasks running elsewhere", running))
    down = [n for n, _ in culprits if node_state(n)[0] != "ready"]
    names = ", ".join(str((n.get("Description") or {}).get("Hostname") or n.get("ID", ""))
                      for n, _ in culprits[:3])
    if down:
        title = (f"node(s) {names} holding tasks of {s.name} are "
                 f"{'/'.join(sorted({node_state(n)[0] for n in down}))}")
    elif not culprits:  # every node is back by now; the tasks still wait for the scheduler
        title = f"tasks of {s.name} wait for a node: {waiting[0].error}"
    else:
        title = (f"tasks of {s.name} cannot be placed: node(s) {names} not available for new "
                 f"tasks ({'/'.join(sorted({node_state(n)[1] for n, _ in culprits}))})")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Bring the node back or make it available again (or add nodes); remove a node "
            "that is gone for good with `docker node rm`.", tuple(commands)),
        severity=Severity.ERROR if (down or not running) else Severity.WARNING,
    )
