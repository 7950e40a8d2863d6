"""Replay a bundle through the pipeline: what `diagnose analyze` and `diagnose redact` share.

Members are walked once, in archive order, exactly as the live run produced them: each
engine's version and info come before its containers, so every container is analysed with
the engine facts its live run saw; df and the cleanup lists come after and reach only the
run-scope checks.  Swarm service directories (`diagnose service`) come after the containers,
as live, so tasks link to their diagnosed containers.  A several-engine bundle
(engines/<label>/...) gets one pipeline per engine.  One container or service is held at a
time, and a large log only as its analysed window (:mod:`diagnose.evidence.logwindow`).
When given a writer, every file is redacted and written again (`diagnose redact`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnose.analysis.registry import Registry
from diagnose.bundle.reader import BundleParts, Member
from diagnose.bundle.writer import BundleWriter
from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.engine import EngineFacts, HostFacts
from diagnose.evidence.logwindow import LogBody, stream_log
from diagnose.evidence.records import CollectorRecord
from diagnose.model.findings import CheckOutcome
from diagnose.model.jsonview import load_object
from diagnose.model.report import TargetReport
from diagnose.pipeline.report import RunFacts
from diagnose.pipeline.sink import Pipeline
from diagnose.redact.redactor import Redactor


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

    def merged(self, registry: Registry, redactor: Redactor, writer: BundleWriter | None,
               debug: bool) -> Pipeline:
        """One pipeline view over every engine's (for the report): check errors, services."""
        return Pipeline(registry, redactor, writer, debug,
                        errors=[e for er in self.engines for e in er.pipe.errors],
                        services=[s for er in self.engines for s in er.pipe.services])

    def facts(self, started: float, manifest: Mapping[str, Any],
              records: list[CollectorRecord]) -> RunFacts:
        """The run's facts for its report, with the bundle's own engine list and source."""
        first = self.engines[0]
        assert first.engine is not None and first.host is not None
        return RunFacts(started, first.engine, str(engine_source(manifest)), first.host, records,
                        self.reports, self.run_outcomes, manifest.get("engines") or None)


def engine_source(manifest: Mapping[str, Any]) -> str:
    """How the bundle's (first) engine was named (`--host`, a context...)."""
    return str((manifest.get("engine") or {}).get("source", ""))


def regenerated(name: str) -> bool:
    """Files a replay writes anew rather than carrying over (check tracebacks)."""
    return layout.split_engine(name)[1].startswith(f"{layout.ERRORS_DIR}/checks/")


@dataclass
class _Group:
    """The directory of one container or service being read."""

    prefix: str
    kind: str
    key: str
    new_key: str
    files: dict[str, bytes | LogBody] = field(default_factory=dict)


class _Replay:
    """One pass over a bundle's members, one pipeline per engine."""

    def __init__(self, parts: BundleParts, registry: Registry, redactor: Redactor,
                 writer: BundleWriter | None, debug: bool,
                 rename: Callable[[str], str] | None,
                 whole: Callable[[ContainerEvidence], None] | None = None) -> None:
        self.parts, self.registry, self.redactor = parts, registry, redactor
        self.whole = whole
        self.writer, self.debug, self.rename = writer, debug, rename
        manifest = parts.manifest
        self.meta = {str(e.get("prefix", "")): e for e in manifest.get("engines") or ()}
        self.single = manifest.get("engine") or {}
        self.several = any(p for p in self.meta)
        self.collected_at = str(manifest.get("started_at", ""))
        self.engines: dict[str, EngineReplay] = {}
        self.owners: dict[str, str] = {}
        self.group: _Group | None = None

    def engine_for(self, prefix: str) -> EngineReplay:
        """The engine of `prefix` (its pipeline made on first use)."""
        if prefix not in self.engines:
            m = self.meta.get(prefix) or self.single
            label = str(m.get("label") or prefix.strip("/").split("/")[-1] or "engine")
            pipe = Pipeline(self.registry, self.redactor, self.writer, self.debug,
                            prefix=prefix, engine_label=label if self.several else "",
                            whole=self.whole)
            self.engines[prefix] = EngineReplay(prefix, label, str(m.get("endpoint", "")),
                                                bool(m.get("local", False)), pipe)
        return self.engines[prefix]

    def member(self, m: Member) -> None:
        """Take the next member: into its container's or service's group, or the engine's."""
        prefix, rest = layout.split_engine(m.name)
        kind, _, tail = rest.partition("/")
        if kind in (layout.CONTAINERS_DIR, layout.SERVICES_DIR) and "/" in tail:
            key, _, rel = tail.partition("/")
            g = self.group
            if g is not None and (g.prefix, g.kind, g.key) != (prefix, kind, key):
                self.close_group()
            if self.group is None:
                new_key = self.rename(key) if self.rename is not None and \
                    kind == layout.CONTAINERS_DIR else key
                self.group = _Group(prefix, kind, key, new_key)
            where = f"{prefix}{kind}/{self.group.new_key}/{rel}"
            self.group.files[rel] = self.body(m, where)
            return
        self.close_group()
        if regenerated(m.name):
            return
        if not rest.startswith(("engine/", "host/")):
            if self.writer is not None:  # anything else the manifest lists: carried, redacted
                self.writer.add_many(self.redactor.files({m.name: m.data}, "").items())
            return
        er = self.engine_for(prefix)
        clean = er.pipe.add_files({rest: m.data}, redact=self.redactor.enabled)
        (er.engine_files if rest.startswith("engine/") else er.host_files).update(clean)

    def body(self, m: Member, where: str) -> bytes | LogBody:
        """A member's bytes; a log read as a stream becomes its window (redacted in pieces of
        whole lines when redaction is on, and spooled whole for the writer)."""
        if m.stream is None:
            return m.data
        transform = ((lambda piece: self.redactor.text_file(where, piece))
                     if self.redactor.enabled else None)
        return stream_log(m.stream, transform,
                          self.writer.spool() if self.writer is not None else None)

    def close_group(self) -> None:
        """Analyse the container or service read so far."""
        g, self.group = self.group, None
        if g is None:
            return
        er = self.engine_for(g.prefix)
        engine = EngineFacts(dict(er.engine_files), self.parts.records(f"{g.prefix}engine"),
                             er.endpoint, er.local)
        if g.kind == layout.SERVICES_DIR:
            er.pipe.service(g.key, g.files, self.parts.records(layout.service_dir(g.key)),
                            engine, self.collected_at, self.redactor.enabled)
            return
        self.owners[g.key] = g.new_key
        records = {n: r.owned_by(g.new_key) for n, r in self.parts.records(g.key).items()}
        inspect = g.files.get(layout.INSPECT)
        self.redactor.learn_inspect(load_object(inspect if isinstance(inspect, bytes) else None))
        er.pipe.container(g.new_key, g.files, records, engine, self.collected_at,
                          redact=self.redactor.enabled)

    def finish(self) -> Replayed:
        """Run-scope checks of every engine, in the live run's engine order (the archive
        interleaves engines collected concurrently) and target order."""
        self.close_group()
        if not self.engines:
            self.engine_for("")
        rank = {p: i for i, p in enumerate(self.meta)}
        engines = sorted(self.engines.items(), key=lambda kv: rank.get(kv[0], len(rank)))
        done = Replayed([er for _, er in engines], [], [], [])
        order = [self.owners.get(str(t.get("key")), str(t.get("key")))
                 for t in self.parts.manifest.get("targets") or ()]
        run = {"started_at": self.collected_at, "mode": "offline"}
        for prefix, er in engines:
            er.engine = EngineFacts(dict(er.engine_files), self.parts.records(f"{prefix}engine"),
                                    er.endpoint, er.local)
            er.host = HostFacts(dict(er.host_files), self.parts.records(f"{prefix}host"))
            got, out = er.pipe.finish(er.engine, er.host, run, order)
            done.reports += got
            done.run_outcomes += out
            done.records += [*er.engine.records.values(), *er.host.records.values(),
                             *er.pipe.records]
        return done


def replay(
    parts: BundleParts, members: Iterable[Member], registry: Registry, redactor: Redactor, *,
    writer: BundleWriter | None = None, debug: bool = False,
    rename: Callable[[str], str] | None = None,
    whole: Callable[[ContainerEvidence], None] | None = None,
) -> Replayed:
    """Feed a bundle's members to one pipeline per engine; analyse and (optionally) rewrite;
    `whole` gets each container's whole evidence once analysed (`diagnose diff`)."""
    walk = _Replay(parts, registry, redactor, writer, debug, rename, whole)
    for m in members:
        walk.member(m)
    return walk.finish()
