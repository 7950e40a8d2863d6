"""Replay a bundle through the pipeline: what `diagnose analyze` and `diagnose redact` share.

Members are walked once, in archive order, exactly as the live run produced them: each
engine's version and info come before its containers, so every container is analysed with
the engine facts its live run saw; df and the cleanup lists come after and reach only the
run-scope checks.  Swarm service directories (`diagnose service`) are analysed after the
containers, as live, so tasks link to their diagnosed containers.  A several-engine
bundle (engines/<label>/...) gets one pipeline per engine.
When given a writer, every file is redacted and written again (`diagnose redact`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from diagnose import layout
from diagnose.analyse import TargetReport
from diagnose.archive import BundleWriter
from diagnose.bundle import HEAD_FILES, BundleParts
from diagnose.model import CheckOutcome
from diagnose.redact import Redactor
from diagnose.registry import Registry
from diagnose.run import Pipeline
from diagnose.service_run import analyse_service
from diagnose.snapshot import CollectorRecord, EngineFacts, HostFacts


@dataclass
class EngineReplay:
    """One engine of the replayed bundle."""

    prefix: str
    label: str
    endpoint: str
    local: bool
    pipe: Pipeline
    engine_files: dict[str, bytes] = field(default_factory=dict)
    host_files: dict[str, bytes] = field(default_factory=dict)
    service_files: dict[str, dict[str, bytes]] = field(default_factory=dict)
    engine: EngineFacts | None = None
    host: HostFacts | None = None


@dataclass
class Replayed:
    """What a replay produced, ready for the report."""

    engines: list[EngineReplay]
    reports: list[TargetReport]
    run_outcomes: list[CheckOutcome]
    records: list[CollectorRecord]


def _json(data: bytes | None) -> dict[str, Any]:
    try:
        doc = json.loads(data or b"{}")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def regenerated(name: str) -> bool:
    """Files a replay writes anew rather than carrying over (check tracebacks)."""
    return layout.split_engine(name)[1].startswith(f"{layout.ERRORS_DIR}/checks/")


def replay(
    parts: BundleParts, members: Iterable[tuple[str, bytes]], registry: Registry,
    redactor: Redactor, *, writer: BundleWriter | None = None, debug: bool = False,
    rename: Callable[[str], str] | None = None,
) -> Replayed:
    """Feed a bundle's members to one pipeline per engine; analyse and (optionally) rewrite."""
    manifest = parts.manifest
    meta = {str(e.get("prefix", "")): e for e in manifest.get("engines") or ()}
    single = manifest.get("engine") or {}
    several = any(p for p in meta)
    collected_at = str(manifest.get("started_at", ""))
    engines: dict[str, EngineReplay] = {}
    owners: dict[str, str] = {}

    def engine_for(prefix: str) -> EngineReplay:
        if prefix not in engines:
            m = meta.get(prefix) or single
            label = str(m.get("label") or prefix.strip("/").split("/")[-1] or "engine")
            pipe = Pipeline(registry, redactor, writer, debug, prefix=prefix,
                            engine_label=label if several else "")
            engines[prefix] = EngineReplay(prefix, label, str(m.get("endpoint", "")),
                                           bool(m.get("local", False)), pipe)
        return engines[prefix]

    group: tuple[str, str, dict[str, bytes]] | None = None

    def close_group() -> None:
        nonlocal group
        if group is None:
            return
        prefix, key, files = group
        group = None
        er = engine_for(prefix)
        new_key = rename(key) if rename is not None else key
        owners[key] = new_key
        records = {n: _owned(r, new_key) for n, r in parts.records(key).items()}
        redactor.learn_inspect(_json(files.get(layout.INSPECT)))
        engine = EngineFacts(dict(er.engine_files), parts.records(f"{prefix}engine"),
                             er.endpoint, er.local)
        er.pipe.container(new_key, files, records, engine, collected_at,
                          redact=redactor.enabled)

    containers = layout.CONTAINERS_DIR + "/"
    services = layout.SERVICES_DIR + "/"
    for name, data in members:
        prefix, rest = layout.split_engine(name)
        if rest.startswith(containers) and rest.count("/") >= 2:
            key, _, rel = rest[len(containers):].partition("/")
            if group is not None and (group[0], group[1]) != (prefix, key):
                close_group()
            if group is None:
                group = (prefix, key, {})
            group[2][rel] = data
            continue
        close_group()
        if name in HEAD_FILES or regenerated(name):
            continue
        if rest.startswith(services) and rest.count("/") >= 2:
            key, _, rel = rest[len(services):].partition("/")
            engine_for(prefix).service_files.setdefault(key, {})[rel] = data
            continue
        er = engine_for(prefix) if rest.startswith(("engine/", "host/")) else None
        if er is None:
            if writer is not None:  # anything else is carried over, redacted
                writer.add_many(redactor.files({name: data}, "").items())
            continue
        clean = er.pipe.add_files({rest: data}, redact=redactor.enabled)
        (er.engine_files if rest.startswith("engine/") else er.host_files).update(clean)
    close_group()
    if not engines:
        engine_for("")

    # The live run's engine order (the archive interleaves engines collected concurrently).
    rank = {p: i for i, p in enumerate(meta)}
    engines = dict(sorted(engines.items(), key=lambda kv: rank.get(kv[0], len(rank))))
    reports: list[TargetReport] = []
    outcomes: list[CheckOutcome] = []
    records: list[CollectorRecord] = []
    order = [owners.get(str(t.get("key")), str(t.get("key")))
             for t in manifest.get("targets") or ()]
    for prefix, er in engines.items():
        er.engine = EngineFacts(dict(er.engine_files), parts.records(f"{prefix}engine"),
                                er.endpoint, er.local)
        er.host = HostFacts(dict(er.host_files), parts.records(f"{prefix}host"))
        for key, files in er.service_files.items():
            analyse_service(er.pipe, key, files, parts.records(layout.service_dir(key)),
                            er.engine, collected_at, redactor.enabled)
        got, out = er.pipe.finish(er.engine, er.host, {"started_at": collected_at,
                                                       "mode": "offline"}, order)
        reports += got
        outcomes += out
        records += [*er.engine.records.values(), *er.host.records.values(), *er.pipe.records]
    return Replayed(list(engines.values()), reports, outcomes, records)


def _owned(rec: CollectorRecord, owner: str) -> CollectorRecord:
    import dataclasses

    return rec if rec.owner == owner else dataclasses.replace(rec, owner=owner)
