"""Shared readings of a Swarm service's evidence: the look-alike logic of the D51x checks.

A service whose tasks cannot run shows the same symptom whatever the cause (fewer running
tasks than asked for), so the checks that name a cause must agree on who claims which task:

- `image-unavailable` claims tasks rejected (or failed) because the node could not get the
  image: `No such image`, `pull access denied`, `manifest unknown`...;
- `no-suitable-node` claims pending tasks whose scheduler explanation names placement
  constraints, resources, platform, plugins, host ports or max-replicas;
- `node-down` claims pending tasks whose only explanation is nodes `not available for new
  tasks` (down, drained, paused), and nodes that are down while they hold tasks;
- `task-failing` claims the rest of the failed and rejected tasks: non-zero exits and
  containers that could not be started;
- `replicas-below-desired` reports the shortfall itself, naming which of the above explains it.

Everything is a pure function of one :class:`~diagnose.evidence.service.ServiceEvidence`
(swarmkit's own wording, from its scheduler filters and task errors, is matched here once).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from diagnose.evidence import layout
from diagnose.evidence.service import PRE_RUNNING, TERMINAL, ServiceEvidence, Task
from diagnose.model.causes import Cause
from diagnose.model.findings import Evidence
from diagnose.model.jsonview import as_list, as_map, dig
from diagnose.model.lazyre import lazy_compile
from diagnose.model.text import excerpt
from diagnose.model.times import parse_time

#: How a node that cannot get the image says so (engine, containerd and registry wordings).
IMAGE_ERROR = lazy_compile(
    r"No such image|pull access denied|manifest (?:for \S+ )?(?:unknown|not found)|"
    r"repository does not exist|requested access to the resource is denied|"
    r"failed to resolve reference|not found: manifest unknown|"
    r"error pulling image configuration|invalid reference format|"
    r"unauthorized: authentication required|image \S+ not found", re.IGNORECASE)
NO_SUITABLE_NODE = lazy_compile(r"no suitable node", re.IGNORECASE)
#: Scheduler explanations (swarmkit's filters) that are about the task's placement needs.
PLACEMENT_REASONS = ("scheduling constraints not satisfied", "insufficient resources",
                     "unsupported platform", "missing plugin", "host-mode port already in use",
                     "max replicas per node")
NON_ZERO_EXIT = lazy_compile(r"non-zero exit \((\d+)\)")
#: A task still starting this recently (seconds) is on its way, not stuck.
CONVERGE_SECONDS = 60.0
#: Node states in which a node runs nothing we can see.
NODE_DOWN_STATES = ("down", "unknown", "disconnected")


# -- tasks ------------------------------------------------------------------------------------


def reasons(error: str) -> list[str]:
    """The scheduler's explanations inside `no suitable node (a; b)`."""
    m = re.search(r"no suitable node \((.*)\)\s*$", error, re.IGNORECASE)
    return [r.strip() for r in m.group(1).split(";") if r.strip()] if m else []


def placement_reasons(error: str) -> list[str]:
    """The explanations that are about what the task asks for (not node availability)."""
    return [r for r in reasons(error) if any(p in r for p in PLACEMENT_REASONS)]


def task_kind(t: Task) -> str:
    """What went wrong with one task: `image`, `unplaceable`, `unavailable`, `exit`, `start`,
    or '' (nothing: running, complete, shut down on purpose, still on its way)."""
    err = t.error
    if t.state == "pending" and NO_SUITABLE_NODE.search(err):
        if placement_reasons(err) or not reasons(err):
            return "unplaceable"
        return "unavailable"
    if t.state not in ("failed", "rejected"):
        return ""
    if IMAGE_ERROR.search(err):
        return "image"
    code = t.exit_code
    if NON_ZERO_EXIT.search(err) or (code not in (None, 0) and "starting container" not in err):
        return "exit"
    return "start"


def tasks_of(s: ServiceEvidence, *kinds: str) -> list[Task]:
    """Tasks (current and past) of the given kinds, newest first."""
    return sorted((t for t in s.tasks if task_kind(t) in kinds), key=lambda t: t.created,
                  reverse=True)


def waiting(t: Task) -> bool:
    """Created but not running yet, without an error: on its way, or a replacement waiting
    out the restart delay (desired state `ready`)."""
    return t.state in PRE_RUNNING and not t.error


def settled(s: ServiceEvidence) -> list[Task]:
    """Per slot, the newest task that got somewhere: a replacement still waiting out the
    restart delay says nothing yet, so the task before it speaks for the slot (a crash loop
    is failing now, whichever instant it is looked at)."""
    out = []
    for slot in dict.fromkeys(t.slot for t in s.current):
        tasks = s.slot_tasks(slot)
        out.append(next((t for t in tasks if not waiting(t)), tasks[0]))
    return out


def current_of(s: ServiceEvidence, *kinds: str) -> list[Task]:
    """What each slot shows now (see :func:`settled`), of the given kinds."""
    return [t for t in settled(s) if task_kind(t) in kinds]


def exit_code_of(t: Task) -> int | None:
    """The exit code of a failed task (from the container, else from `non-zero exit (N)`)."""
    if t.exit_code is not None:
        return t.exit_code
    m = NON_ZERO_EXIT.search(t.error)
    return int(m.group(1)) if m else None


def counted(values: Iterable[Any]) -> str:
    """`3 (x2), 137` style summary of values, most common first."""
    out = []
    for value, n in Counter(str(v) for v in values).most_common():
        out.append(f"{value} (x{n})" if n > 1 else value)
    return ", ".join(out)


def is_running(t: Task) -> bool:
    """Running and meant to be."""
    return t.state == "running" and t.desired == "running"


def converging(s: ServiceEvidence, t: Task) -> bool:
    """A current task on its way to running (created, scheduled, pulling, starting) that has
    not failed yet and changed state recently: a service still converging, not a stuck one.
    A slot that already has failed or rejected tasks is restarting after a failure."""
    if t.state not in PRE_RUNNING or t.error or t.desired not in ("running", "ready"):
        return False
    if t.desired == "ready" or any(x.state in ("failed", "rejected") for x in
                                   s.slot_tasks(t.slot)):
        return False
    changed, now = parse_time(t.changed), parse_time(s.collected_at)
    if changed is None or now is None:
        return False
    return (now - changed).total_seconds() < CONVERGE_SECONDS


# -- nodes ------------------------------------------------------------------------------------


def node_state(node: Mapping[str, Any]) -> tuple[str, str]:
    """(Status.State, Spec.Availability) of a node."""
    return (str(dig(node, "Status", "State") or "unknown"),
            str(dig(node, "Spec", "Availability") or "active"))


def node_usable(node: Mapping[str, Any]) -> bool:
    """Ready and active: the scheduler may place new tasks there."""
    return node_state(node) == ("ready", "active")


_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i386": "386"}


def _node_values(node: Mapping[str, Any], key: str) -> list[str] | None:
    desc = as_map(node.get("Description"))
    plat = as_map(desc.get("Platform"))
    spec = as_map(node.get("Spec"))
    if key == "node.id":
        return [str(node.get("ID", ""))]
    if key == "node.hostname":
        return [str(desc.get("Hostname", ""))]
    if key == "node.role":
        return [str(spec.get("Role", ""))]
    if key == "node.platform.os":
        return [str(plat.get("OS", ""))]
    if key == "node.platform.arch":
        arch = str(plat.get("Architecture", ""))
        return [arch, _ARCH.get(arch, arch)]
    if key.startswith("node.labels."):
        return [str(as_map(spec.get("Labels")).get(key[len("node.labels."):], ""))]
    if key.startswith("engine.labels."):
        labels = as_map(dig(desc, "Engine", "Labels"))
        return [str(labels.get(key[len("engine.labels."):], ""))]
    return None


def constraint_holds(constraint: str, node: Mapping[str, Any]) -> bool | None:
    """Does `node` satisfy one placement constraint (`key==value`, `key!=value`, as swarmkit
    reads it: values case-insensitive, a missing label is the empty string)?  None when the
    constraint is not one this reading knows."""
    m = re.match(r"^\s*([\w.-]+)\s*(==|!=)\s*(.*?)\s*$", constraint)
    if not m:
        return None
    key, op, want = m.groups()
    values = _node_values(node, key.lower() if not key.startswith(("node.labels.",
                                                                    "engine.labels.")) else key)
    if values is None:
        return None
    match = any(v.lower() == want.lower() for v in values)
    return match if op == "==" else not match


def unmet_constraints(s: ServiceEvidence, node: Mapping[str, Any]) -> list[str] | None:
    """The service's constraints `node` does not satisfy (None: one could not be judged)."""
    out = []
    for c in as_list(s.placement.get("Constraints")):
        holds = constraint_holds(str(c), node)
        if holds is None:
            return None
        if not holds:
            out.append(str(c))
    return out


def eligible_nodes(s: ServiceEvidence) -> list[Mapping[str, Any]] | None:
    """Nodes where a global service should run one task: ready, active, and satisfying its
    constraints (None when a constraint cannot be judged from the evidence)."""
    out = []
    for node in s.nodes:
        if not node_usable(node):
            continue
        unmet = unmet_constraints(s, node)
        if unmet is None:
            return None
        if not unmet:
            out.append(node)
    return out


def desired_count(s: ServiceEvidence) -> tuple[int | None, str]:
    """(how many tasks should be running, how that was worked out)."""
    if s.mode == "replicated":
        return s.replicas, "Spec.Mode.Replicated.Replicas"
    if s.mode != "global":
        return None, f"{s.mode} services run to completion"
    eligible = eligible_nodes(s)
    if eligible is not None:
        return len(eligible), "one per node that is ready, active and meets the constraints"
    nodes = {t.node_id for t in s.tasks if t.node_id and node_usable(s.node(t.node_id))}
    return len(nodes), "one per ready, active node that has run one of its tasks"


def down_nodes_holding_tasks(s: ServiceEvidence) -> list[tuple[Mapping[str, Any], list[Task]]]:
    """Nodes that are down (or unknown, disconnected) while tasks of this service are assigned
    to them and not finished, or meant to run there."""
    out = []
    for node in s.nodes:
        state, _ = node_state(node)
        if state not in NODE_DOWN_STATES:
            continue
        held = [t for t in s.tasks if t.node_id == node.get("ID") and (
            t.state not in TERMINAL or t.desired == "running")]
        if held:
            out.append((node, held))
    return out


def unavailable_nodes(s: ServiceEvidence) -> list[Mapping[str, Any]]:
    """Nodes the scheduler may not use for new tasks (down, drained or paused)."""
    return [n for n in s.nodes if not node_usable(n)]


def shortfall_cause(s: ServiceEvidence) -> Cause | None:
    """Which check explains the current tasks that do not run (None: none does)."""
    kinds = Counter(task_kind(t) for t in settled(s))
    if down_nodes_holding_tasks(s) or kinds["unavailable"]:
        return Cause.NODE_DOWN
    for kind, slug in (("image", Cause.IMAGE_UNAVAILABLE), ("unplaceable", Cause.NO_SUITABLE_NODE),
                       ("exit", Cause.TASK_FAILING), ("start", Cause.TASK_FAILING)):
        if kinds[kind]:
            return slug
    return None


# -- evidence ---------------------------------------------------------------------------------


def spec_evidence(s: ServiceEvidence, pointer: str, value: Any) -> Evidence:
    """A pointer into service.json, quoting its value."""
    return Evidence(file=s.path(layout.SERVICE_SPEC), pointer=pointer, excerpt=excerpt(value))


def task_evidence(s: ServiceEvidence, t: Task, *parts: str) -> Evidence:
    """A pointer into tasks.json for one task, quoting the task's state line."""
    where = f" on {s.hostname(t.node_id)}" if t.node_id else ""
    code = exit_code_of(t)
    line = (f"task {t.id[:12]} (slot {t.slot}){where}: {t.state} (desired {t.desired})"
            + (f", exit {code}" if code is not None else "")
            + (f": {t.error}" if t.error else ""))
    return Evidence(file=s.path(layout.SERVICE_TASKS), pointer=t.pointer(*parts), excerpt=line)


def node_evidence(s: ServiceEvidence, node: Mapping[str, Any], *parts: str) -> Evidence:
    """A pointer into nodes.json for one node, quoting its state and availability."""
    index = s.node_index(str(node.get("ID", "")))
    state, avail = node_state(node)
    host = dig(node, "Description", "Hostname") or str(node.get("ID", ""))[:12]
    role = dig(node, "Spec", "Role") or "?"
    message = dig(node, "Status", "Message") or ""
    line = f"node {host} ({role}): state {state}, availability {avail}" + (
        f": {message}" if message else "")
    value: Any = node
    for part in parts:
        value = value.get(part) if isinstance(value, Mapping) else None
    if parts and parts[-1] not in ("State", "Availability"):
        line += f"; {'.'.join(parts)} = {excerpt(value if value is not None else {})}"
    pointer = "/" + "/".join((str(index if index is not None else 0), *parts))
    return Evidence(file=s.path(layout.SERVICE_NODES), pointer=pointer, excerpt=line)


def newest(tasks: Sequence[Task], limit: int = 3) -> list[Task]:
    """The newest `limit` tasks."""
    return sorted(tasks, key=lambda t: t.created, reverse=True)[:limit]
