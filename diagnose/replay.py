"""Replay a bundle through the pipeline: what `diagnose analyze` and `diagnose redact` share.

Members are walked once, in archive order, exactly as the live run produced them: each
engine's version and info come before its containers, so every container is analysed with
the engine facts its live run saw; df and the cleanup lists come after and reach only the
run-scope checks.  Swarm service directories (`diagnose service`) come after the containers,
as live, so tasks link to their diagnosed containers.  A several-engine bundle
(engines/<label>/...) gets one pipeline per engine.  One container or service is held at a
time, and a large log only as its analysed window (:mod:`diagnose.logwindow`).
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
from diagnose.bundle import BundleParts, Member
from diagnose.logwindow import LogBody, stream_log
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
    parts: BundleParts, members: Iterable[Member], registry: Registry, redactor: Redactor, *,
    writer: BundleWriter | None = None, debug: bool = False,
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

    group: _Group | None = None

    def close_group() -> None:
        nonlocal group
        if group is None:
            return
        g, group = group, None
        er = engine_for(g.prefix)
        engine = EngineFacts(dict(er.engine_files), parts.records(f"{g.prefix}engine"),
                             er.endpoint, er.local)
        if g.kind == layout.SERVICES_DIR:
            analyse_service(er.pipe, g.key, g.files, parts.records(layout.service_dir(g.key)),
                            engine, collected_at, redactor.enabled)
            return
        owners[g.key] = g.new_key
        records = {n: _owned(r, g.new_key) for n, r in parts.records(g.key).items()}
        inspect = g.files.get(layout.INSPECT)
        redactor.learn_inspect(_json(inspect if isinstance(inspect, bytes) else None))
        er.pipe.container(g.new_key, g.files, records, engine, collected_at,
                          redact=redactor.enabled)

    for m in members:
        name = m.name
        prefix, rest = layout.split_engine(name)
        kind, _, tail = rest.partition("/")
        if kind in (layout.CONTAINERS_DIR, layout.SERVICES_DIR) and "/" in tail:
            key, _, rel = tail.partition("/")
            if group is not None and (group.prefix, group.kind, group.key) != (prefix, kind, key):
                close_group()
            if group is None:
                new_key = rename(key) if rename is not None and kind == layout.CONTAINERS_DIR \
                    else key
                group = _Group(prefix, kind, key, new_key)
            where = f"{prefix}{kind}/{group.new_key}/{rel}"
            group.files[rel] = _body(m, where, redactor, writer)
            continue
        close_group()
        if regenerated(name):
            continue
        er = engine_for(prefix) if rest.startswith(("engine/", "host/")) else None
        if er is None:
            if writer is not None:  # anything else the manifest lists is carried over, redacted
                writer.add_many(redactor.files({name: m.data}, "").items())
            continue
        clean = er.pipe.add_files({rest: m.data}, redact=redactor.enabled)
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
        got, out = er.pipe.finish(er.engine, er.host, {"started_at": collected_at,
                                                       "mode": "offline"}, order)
        reports += got
        outcomes += out
        records += [*er.engine.records.values(), *er.host.records.values(), *er.pipe.records]
    return Replayed(list(engines.values()), reports, outcomes, records)


@dataclass
class _Group:
    """The directory of one container or service being read."""

    prefix: str
    kind: str
    key: str
    new_key: str
    files: dict[str, bytes | LogBody] = field(default_factory=dict)


def _body(m: Member, where: str, redactor: Redactor,
          writer: BundleWriter | None) -> bytes | LogBody:
    """A member's bytes; a log read as a stream becomes its window (redacted in pieces of
    whole lines when redaction is on, and spooled whole for the writer)."""
    if m.stream is None:
        return m.data
    transform = ((lambda piece: redactor.text_file(where, piece)) if redactor.enabled
                 else None)
    return stream_log(m.stream, transform, writer.spool() if writer is not None else None)


def _owned(rec: CollectorRecord, owner: str) -> CollectorRecord:
    import dataclasses

    return rec if rec.owner == owner else dataclasses.replace(rec, owner=owner)
