"""What a Swarm service's report shows besides its findings: a one-line summary and the
overview (mode, replicas, update status, the tasks table, the nodes involved), as plain data
built from the same evidence the service checks read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from diagnose.analysis.registry import Registry
from diagnose.analysis.runner import run_service_checks
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.readings.swarm import desired_count, exit_code_of, is_running
from diagnose.evidence.service import ServiceEvidence
from diagnose.model.jsonview import dig
from diagnose.model.limits import MAX_REPORT_TASKS, REPORT_TEXT_CHARS
from diagnose.model.report import CheckError, ServiceReport
from diagnose.model.text import clip


def summary(ev: ServiceEvidence) -> str:
    """`replicated, 0/2 running; update paused` in one line."""
    desired, _ = desired_count(ev)
    running = sum(1 for t in ev.tasks if is_running(t))
    if not ev.inspect:
        return "not collected"
    counts = f"{running}/{desired} running" if desired is not None else f"{running} running"
    line = f"{ev.mode}, {counts}"
    state = str(ev.update_status.get("State") or "")
    if state:
        line += f"; update {state.replace('_', ' ')}"
    return line


def _container_keys(ev: ServiceEvidence, kept: Iterable[ContainerEvidence]) -> dict[str, str]:
    by_id = {c.id: c.key for c in kept if c.id}
    return {t.id: by_id[t.container_id] for t in ev.tasks if t.container_id in by_id}


def overview(ev: ServiceEvidence, kept: Iterable[ContainerEvidence]) -> dict[str, Any]:
    """Mode, replicas, update status, the tasks table and the nodes involved, as plain data."""
    desired, how = desired_count(ev)
    containers = _container_keys(ev, kept)
    update = ev.update_status
    tasks = []
    for t in ev.tasks[:MAX_REPORT_TASKS]:  # a report lists so many; tasks_total says how many
        slot = t.doc.get("Slot")
        tasks.append({k: clip(v, REPORT_TEXT_CHARS) for k, v in {
            "id": t.id,
            "name": f"{ev.name}.{slot if slot else t.node_id}",
            "node": ev.hostname(t.node_id),
            "state": t.state,
            "desired_state": t.desired,
            "exit_code": exit_code_of(t),
            "error": t.error,
            "since": t.changed,
            "container": containers.get(t.id, ""),
        }.items()})
    held = {t.node_id for t in ev.tasks if t.node_id}
    nodes: list[dict[str, str]] = []
    for n in ev.nodes:
        if n.get("ID") not in held or len(nodes) >= MAX_REPORT_TASKS:
            continue
        nodes.append({
            "id": str(n.get("ID", "")),
            "hostname": ev.hostname(str(n.get("ID", ""))),
            "role": str(dig(n, "Spec", "Role") or ""),
            "state": str(dig(n, "Status", "State") or ""),
            "availability": str(dig(n, "Spec", "Availability") or ""),
        })
    return {
        "mode": ev.mode,
        "image": ev.image,
        "replicas": {"desired": desired, "running": sum(1 for t in ev.tasks if is_running(t)),
                     "desired_from": how},
        "update_status": {"state": str(update.get("State", "")),
                   "message": str(update.get("Message", "")),
                   "started_at": str(update.get("StartedAt", "")),
                   "completed_at": str(update.get("CompletedAt", ""))} if update else None,
        "tasks": tasks,
        "tasks_total": len(ev.tasks),
        "nodes": nodes,
        "nodes_total": len(ev.nodes),
        "containers": sorted(set(containers.values())),
    }


def analyse_service(ev: ServiceEvidence, registry: Registry, kept: Iterable[ContainerEvidence],
                    debug: bool = False) -> tuple[ServiceReport, list[CheckError]]:
    """Service-scope analysis of one Swarm service; `kept` are the containers diagnosed so
    far (the service's task containers among them)."""
    outcomes, errors = run_service_checks(ev, registry.scoped("service"), debug)
    report = ServiceReport(
        key=ev.key, name=ev.name, id=ev.id, summary=summary(ev), outcomes=tuple(outcomes),
        overview=overview(ev, kept), collectors=tuple(r.to_dict() for r in ev.records.values()),
    )
    return report, errors
