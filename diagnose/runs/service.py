"""`diagnose service NAME`: one Swarm service through a manager, and its local task containers.

Collects what the engine section of every bundle holds, then per service its spec, task counts,
every task (current and past), the nodes and the service logs (:mod:`diagnose.collect.swarm`),
and gives the task containers that ran on this engine's own node the full per-container
diagnosis, as `diagnose CONTAINER` does.  Service files are redacted, analysed and streamed
through the same :class:`~diagnose.pipeline.sink.Pipeline`; `diagnose analyze` and `diagnose
redact` rebuild the same evidence from the bundle's services/<key>/ directories.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.errors import DockerException
from requests.exceptions import RequestException

from diagnose.analysis.registry import registry_for
from diagnose.bundle.naming import bundle_name, several, unique_keys
from diagnose.bundle.writer import BundleWriter, check_output_dir
from diagnose.collect import swarm as cs
from diagnose.collect.connect import Endpoint, engine_error
from diagnose.collect.container import LogOptions
from diagnose.collect.record import Deadline, GuardedAPI, Piece, run_collector
from diagnose.collect.runner import CollectOptions, collect_all, connections
from diagnose.collect.scope import Scope
from diagnose.evidence import layout
from diagnose.evidence.engine import EngineFacts
from diagnose.evidence.records import CollectorRecord
from diagnose.model.errors import UsageError
from diagnose.model.limits import MAX_SERVICES
from diagnose.model.options import Progress, RunOptions, run_date
from diagnose.model.report import Report
from diagnose.model.times import utc_stamp
from diagnose.pipeline.publish import publish
from diagnose.pipeline.report import RunFacts, RunResult
from diagnose.pipeline.sink import Pipeline
from diagnose.redact.redactor import Redactor
from diagnose.runs.sessions import collect_engine, connected, single_endpoint


def run_service(opts: RunOptions, progress: Progress) -> RunResult:
    """Collect, redact, analyse and archive the named Swarm services (opts.targets)."""
    started = time.time()
    check_output_dir(opts.output_dir)  # before any engine work: a bad -o fails at once
    registry = registry_for(opts.plugins, opts.skip, opts.only, opts.ignores,
                            run_date(started))
    for p in registry.problems:
        progress(f"warning: {p.line()}")
    endpoint = single_endpoint(opts, "diagnose service looks through one swarm manager at a "
                                     "time")
    named = len(dict.fromkeys(opts.targets))
    if named > MAX_SERVICES:
        raise UsageError(f"{named} services named; a bundle holds at most {MAX_SERVICES} "
                         "(what `diagnose analyze` reads)", "diagnose them in several runs")
    with connected(endpoint, opts.timeout, connections(opts.jobs)) as client:
        node_id, services = _services(client.api, endpoint, opts.targets)
        progress(f"engine {endpoint.host} ({endpoint.source}), swarm manager; "
                 f"{len(services)} service(s)")
        redactor = Redactor(opts.redact, opts.redact_patterns, opts.redact_names)
        for svc in services:
            redactor.learn_inspect(svc)
        # Directory and bundle names come from service names, which may hold a learned secret.
        keys = unique_keys([{"Name": redactor.plain(str((s.get("Spec") or {}).get("Name", ""))),
                             "Id": s["ID"]} for s in services])
        who = f"service-{several(keys)}"
        with BundleWriter(opts.output_dir, bundle_name([who], started, opts.redact)) as writer:
            run = _ServiceRun(opts, progress, started, endpoint, client.api, node_id,
                              Pipeline(registry, redactor, writer, opts.debug))
            report, path = run.diagnose(dict(zip(keys, services, strict=True)))
    progress(f"bundle written: {path}")
    return RunResult(report, path, redactor)


def _services(api: Any, endpoint: Endpoint, refs: tuple[str, ...]
              ) -> tuple[str, list[dict[str, Any]]]:
    """This manager's node ID, and every service named (each once)."""
    try:
        api.ping()
        node_id = cs.require_manager(api.info(), endpoint.host)
        services: list[dict[str, Any]] = []
        for ref in dict.fromkeys(refs):
            svc = cs.resolve_service(api, ref)
            if all(s["ID"] != svc["ID"] for s in services):
                services.append(svc)
    except (DockerException, RequestException) as exc:
        raise engine_error(endpoint, exc) from exc
    return node_id, services


@dataclass
class _Gathered:
    """One service's collected files and records, analysed after its task containers."""

    key: str
    records: dict[str, CollectorRecord]
    files: dict[str, bytes]


class _ServiceRun:
    """The collection and analysis of the services, once the bundle is open."""

    def __init__(self, opts: RunOptions, progress: Progress, started: float,
                 endpoint: Endpoint, api: Any, node_id: str, pipe: Pipeline) -> None:
        self.opts, self.progress, self.started = opts, progress, started
        self.endpoint, self.node_id, self.pipe = endpoint, node_id, pipe
        self.deadline = Deadline(opts.deadline)
        self.api = GuardedAPI(api, self.deadline)
        self.logs = LogOptions(opts.tail, opts.since, opts.max_log_bytes)
        self.collected_at = utc_stamp(started)

    def diagnose(self, services: dict[str, dict[str, Any]]) -> tuple[Report, Path]:
        """Collect each service (key -> service inspect), then the engine section (its
        objects in scope: the local task containers and what they use), diagnose the local
        task containers, then analyse the services and publish."""
        inspects: dict[str, dict[str, Any]] = {}
        gathered = [self.collect(key, svc, inspects) for key, svc in services.items()]
        scope = Scope.of(inspects.values())
        engine, host, records = collect_engine(self.api, self.endpoint.local,
                                               self.endpoint.host, self.pipe, self.deadline,
                                               scope)
        ckeys = self.containers(list(inspects.values()), engine, scope)
        for g in gathered:
            done = self.pipe.service(g.key, g.files, g.records, engine, self.collected_at)
            self.progress(f"service {done.name}: {done.summary}")
        reports, run_outcomes = self.pipe.finish(
            engine, host, {"started_at": self.collected_at, "mode": "live"}, ckeys)
        facts = RunFacts(self.started, engine, self.endpoint.source, host,
                         [*records, *self.pipe.records], reports, run_outcomes)
        opts = self.opts
        report, path = publish(self.pipe, facts, opts.argv, {
            "services": list(services), "tail": opts.tail, "since": opts.since,
            "max_log_bytes": opts.max_log_bytes, "timeout": opts.timeout,
            "deadline": opts.deadline, "jobs": opts.jobs})
        assert path is not None  # a service run always writes its bundle
        return report, path

    def collect(self, key: str, svc: dict[str, Any],
                inspects: dict[str, dict[str, Any]]) -> _Gathered:
        """One service's collectors, and its task containers on this node (into
        `inspects`, each container once)."""
        owner = layout.service_dir(key)
        recs, files, tasks = cs.collect_service(self.api, svc, owner, self.logs, self.deadline)
        found: list[dict[str, Any]] = []

        def containers_piece() -> Piece:
            got, detail = cs.local_task_containers(self.api, tasks, self.node_id)
            found.extend(got)
            return Piece({}, detail=detail)

        rec, _ = run_collector("task-containers", owner, containers_piece, self.deadline)
        recs[rec.name] = rec
        for ins in found:
            inspects.setdefault(ins["Id"], ins)
        self.progress(f"{key}: {len(tasks)} task(s), {len(found)} local task container(s)")
        return _Gathered(key, recs, files)

    def containers(self, targets: list[dict[str, Any]], engine: EngineFacts, scope: Scope
                   ) -> list[str]:
        """The full container diagnosis of the local task containers; their keys."""
        redactor = self.pipe.redactor
        for ins in targets:
            redactor.learn_inspect(ins)
        keys = unique_keys([{**ins, "Name": redactor.plain(str(ins.get("Name", "")))}
                            for ins in targets])
        copts = CollectOptions(logs=self.logs, jobs=self.opts.jobs, local=self.endpoint.local,
                               engine_arch=engine.architecture, product=engine.product,
                               deadline=self.deadline, scope=scope)
        for item in collect_all(self.api, list(zip(keys, targets, strict=True)), copts):
            target = self.pipe.container(item.key, item.files, item.records, engine,
                                         self.collected_at)
            self.progress(f"{item.key}: {target.summary}")
        return keys
