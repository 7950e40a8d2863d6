"""`diagnose service NAME`: one Swarm service through a manager, and its local task containers.

Collects what the engine section of every bundle holds (through
:func:`diagnose.engine_run.collect_engine`), then per service its spec, task counts, every task
(current and past), the nodes and the service logs (:mod:`diagnose.collect.swarm`), and gives
the task containers that ran on this engine's own node the full per-container diagnosis
(:func:`diagnose.collect.runner.collect_all` and :meth:`diagnose.run.Pipeline.container`, as
`diagnose CONTAINER` does).  Service files are redacted and streamed through the same archive
writer; service-scope checks run on a :class:`~diagnose.service_evidence.ServiceEvidence`; the
report and archive tail is :func:`diagnose.app.publish`.

`diagnose analyze` and `diagnose redact` rebuild the same evidence from the bundle's
services/<key>/ directories with :func:`analyse_service` (the one analysis path, called from
:func:`diagnose.replay.replay`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from diagnose import layout
from diagnose.analyse import ServiceReport, clip, run_service_checks
from diagnose.archive import check_output_dir
from diagnose.errors import UsageError
from diagnose.jsonview import dig
from diagnose.limits import MAX_REPORT_TASKS, MAX_SERVICES, REPORT_TEXT_CHARS
from diagnose.logwindow import LogBody
from diagnose.redact import Redactor
from diagnose.run import (
    Pipeline,
    Progress,
    RunOptions,
    RunResult,
    bundle_name,
    now,
    registry_for,
    unique_keys,
    utc_stamp,
)
from diagnose.service_evidence import ServiceEvidence
from diagnose.snapshot import CollectorRecord, ContainerEvidence, EngineFacts
from diagnose.swarmsig import desired_count, exit_code_of, is_running


def run_service(opts: RunOptions, progress: Progress) -> RunResult:
    """Collect, redact, analyse and archive the named Swarm services (opts.targets)."""
    # Heavy imports only here, as in diagnose.app.
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    from diagnose.app import publish
    from diagnose.archive import BundleWriter
    from diagnose.collect import swarm as cs
    from diagnose.collect.connect import connect, engine_error
    from diagnose.collect.container import LogOptions
    from diagnose.collect.record import Deadline, GuardedAPI, Piece, run_collector
    from diagnose.collect.runner import CollectOptions, collect_all
    from diagnose.engine_run import collect_engine

    started = now()
    check_output_dir(opts.output_dir)  # before any engine work: a bad -o fails at once
    registry = registry_for(opts.plugins)
    for p in registry.problems:
        progress(f"warning: plugin {p.source}: {p.message}")
    from diagnose.live import endpoints

    named = endpoints(opts)
    if len(named) > 1:
        raise UsageError("diagnose service looks through one swarm manager at a time",
                         "give one --host or --context")
    if len(dict.fromkeys(opts.targets)) > MAX_SERVICES:
        raise UsageError(f"{len(dict.fromkeys(opts.targets))} services named; a bundle holds "
                         f"at most {MAX_SERVICES} (what `diagnose analyze` reads)",
                         "diagnose them in several runs")
    endpoint = named[0][1]
    client = connect(endpoint, opts.timeout, max(8, opts.jobs * 7))
    try:
        try:
            client.api.ping()
            node_id = cs.require_manager(client.api.info(), endpoint.host)
            services: list[dict[str, Any]] = []
            for ref in dict.fromkeys(opts.targets):
                svc = cs.resolve_service(client.api, ref)
                if all(s["ID"] != svc["ID"] for s in services):
                    services.append(svc)
        except (DockerException, RequestException) as exc:
            raise engine_error(endpoint, exc) from exc
        progress(f"engine {endpoint.host} ({endpoint.source}), swarm manager; "
                 f"{len(services)} service(s)")

        redactor = Redactor(opts.redact, opts.redact_patterns, opts.redact_names)
        for svc in services:
            redactor.learn_inspect(svc)
        # Directory and bundle names come from service names, which may hold a learned secret.
        keys = unique_keys([{"Name": redactor.plain(str((s.get("Spec") or {}).get("Name", ""))),
                             "Id": s["ID"]} for s in services])
        who = f"service-{keys[0]}" if len(keys) == 1 else "service-multi"
        writer = BundleWriter(opts.output_dir, bundle_name([who], started, opts.redact))
        pipe = Pipeline(registry, redactor, writer, opts.debug)
        try:
            deadline = Deadline(opts.deadline)
            api = GuardedAPI(client.api, deadline)
            engine, host, records = collect_engine(api, endpoint.local, endpoint.host, pipe,
                                                   deadline)
            collected_at = utc_stamp(started)
            logs = LogOptions(opts.tail, opts.since, opts.max_log_bytes)
            gathered: list[tuple[str, dict[str, CollectorRecord], dict[str, bytes]]] = []
            inspects: dict[str, dict[str, Any]] = {}
            for key, svc in zip(keys, services, strict=True):
                owner = layout.service_dir(key)
                recs, files, tasks = cs.collect_service(api, svc, owner, logs, deadline)
                found: list[dict[str, Any]] = []

                def containers_piece(tasks: Any = tasks, found: Any = found) -> Any:
                    got, detail = cs.local_task_containers(api, tasks, node_id)
                    found.extend(got)
                    return Piece({}, detail=detail)

                rec, _ = run_collector("task-containers", owner, containers_piece, deadline)
                recs[rec.name] = rec
                for ins in found:
                    inspects.setdefault(ins["Id"], ins)
                gathered.append((key, recs, files))
                progress(f"{key}: {len(tasks)} task(s), {len(found)} local task container(s)")

            targets = list(inspects.values())
            for ins in targets:
                redactor.learn_inspect(ins)
            ckeys = unique_keys([{**ins, "Name": redactor.plain(str(ins.get("Name", "")))}
                                 for ins in targets])
            copts = CollectOptions(logs=logs, jobs=opts.jobs, local=endpoint.local,
                                   engine_arch=engine.architecture, deadline=deadline)
            for item in collect_all(api, list(zip(ckeys, targets, strict=True)), copts):
                target = pipe.container(item.key, item.files, item.records, engine,
                                        collected_at)
                progress(f"{item.key}: {target.summary}")
            for key, recs, files in gathered:
                done = analyse_service(pipe, key, files, recs, engine, collected_at)
                progress(f"service {done.name}: {done.summary}")
            reports, run_outcomes = pipe.finish(
                engine, host, {"started_at": collected_at, "mode": "live"}, ckeys)
            report, path = publish(
                pipe=pipe, started=started, engine=engine, source=endpoint.source, host=host,
                records=[*records, *pipe.records], reports=reports, run_outcomes=run_outcomes,
                argv=opts.argv,
                options={"services": keys, "tail": opts.tail, "since": opts.since,
                         "max_log_bytes": opts.max_log_bytes, "timeout": opts.timeout,
                         "deadline": opts.deadline, "jobs": opts.jobs},
            )
        except BaseException:
            writer.abort()
            raise
    finally:
        with contextlib.suppress(Exception):
            client.close()
    progress(f"bundle written: {path}")
    return RunResult(report, path, redactor)


# -- analysis (live, analyze and redact alike) ----------------------------------------------------


def analyse_service(pipe: Pipeline, key: str, files: Mapping[str, bytes | LogBody],
                    records: Mapping[str, CollectorRecord], engine: EngineFacts,
                    collected_at: str, redact: bool = True) -> ServiceReport:
    """Redact one service's files, run the service-scope checks, stream the files out and
    keep the report in `pipe.services`.  Call it after the task containers went through
    `pipe.container`, so the report can link tasks to their diagnosed containers."""
    prefix = layout.service_dir(key)
    spec_data = files.get(layout.SERVICE_SPEC, b"{}")
    if redact and pipe.redactor.enabled and isinstance(spec_data, bytes):
        with contextlib.suppress(ValueError, UnicodeDecodeError):
            spec = json.loads(spec_data)
            if isinstance(spec, dict):
                pipe.redactor.learn_inspect(spec)
    clean, view, cuts = pipe.prepare(files, prefix, redact)
    ev = ServiceEvidence(key, view, records, engine, collected_at, cuts)
    outcomes, errors = run_service_checks(ev, pipe.registry.scoped("service"), pipe.debug)
    pipe.write(prefix, clean)
    report = ServiceReport(
        key=key, name=ev.name, id=ev.id, summary=summary(ev), outcomes=tuple(outcomes),
        overview=overview(ev, pipe.kept),
        collectors=tuple(r.to_dict() for r in records.values()),
    )
    pipe.services.append(report)
    pipe.errors.extend(errors)
    pipe.records.extend(records.values())  # into the manifest, as pipe.container does
    return report


# -- what the report shows besides findings -------------------------------------------------------


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
