"""The live run: `diagnose CONTAINER...` on one engine or several at once.

Each engine is a session (:mod:`diagnose.runs.sessions`): connect, resolve its targets, then
collect its engine section and its containers on its own thread.  Every session hands what it
collected to one queue; the main thread alone redacts, analyses and streams it into the one
bundle, so the redactor and the archive writer are never shared between threads.  A run over
several engines puts each under `engines/<label>/` in the bundle; an engine that cannot be
reached is recorded and the others are still diagnosed (exit code 3 says some engines failed).

Order matters for speed: the docker SDK is imported and the engines are asked first; the
pipeline's own modules (checks, redaction rules, templates) load on a warm-up thread while the
engines answer (:mod:`diagnose.runs.warmup`), so this module imports none of them at the top.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagnose.bundle.naming import bundle_name, unique_keys
from diagnose.bundle.writer import BundleWriter, check_output_dir
from diagnose.collect import section
from diagnose.collect.connect import Endpoint, connect
from diagnose.collect.container import LogOptions
from diagnose.collect.journal import default_dir
from diagnose.collect.pool import engine_pool
from diagnose.collect.record import Deadline, GuardedAPI
from diagnose.collect.runner import Collection, CollectOptions, connections, settle
from diagnose.evidence.engine import EngineFacts, HostFacts, product_of
from diagnose.evidence.records import CollectorRecord
from diagnose.model.findings import CheckOutcome
from diagnose.model.options import Progress, RunOptions, run_date
from diagnose.model.report import Report, TargetReport
from diagnose.model.times import utc_stamp
from diagnose.runs.sessions import Session, close_sessions, open_sessions, scope_of
from diagnose.runs.warmup import Warmup

if TYPE_CHECKING:  # types only: the pipeline loads on the warm-up thread
    from diagnose.pipeline.report import RunResult
    from diagnose.pipeline.sink import Pipeline
    from diagnose.redact.redactor import Redactor

#: What a session hands the main thread: (kind, session, payload).
Item = tuple[str, Session, Any]


@dataclass
class Gate:
    """Containers are collected once the run has named them and opened the bundle (or never,
    when that failed): the engine sections are collected meanwhile."""

    _event: threading.Event = field(default_factory=threading.Event)
    _open: bool = False

    def release(self, go: bool) -> None:
        """Let the producers go on (`go`), or tell them to stop."""
        self._open = go
        self._event.set()

    def wait(self) -> bool:
        """Whether to collect the containers (waits for the run to decide)."""
        self._event.wait()
        return self._open


def _produce(s: Session, q: queue.Queue[Item], opts: RunOptions, deadline: Deadline,
             gate: Gate) -> None:
    """Collect one engine (engine section, then its containers once the run has named them
    and opened the bundle); everything goes to `q`."""
    try:
        api = GuardedAPI(s.client.api, deadline)
        scope = scope_of(opts, s.inspects)
        with engine_pool(4, f"engine-{s.label}") as epool:
            # Containers are collected once version and info are in (their product and
            # architecture); the host facts and the engine's process are read meanwhile.
            sec = section.start(api, s.endpoint.local, deadline, epool, s.prefix, scope)
            if not gate.wait():
                return
            copts = CollectOptions(
                logs=LogOptions(opts.tail, opts.since, opts.max_log_bytes),
                jobs=opts.jobs,
                local=s.endpoint.local,
                engine_arch=str(sec.info.get("Architecture") or ""),
                product=product_of(sec.version),
                deadline=deadline,
                probe=opts.probe,
                scope=scope,
                journal=opts.journal if opts.journal is not None else default_dir(),
                seen_logs=opts.seen_logs,
            )
            with Collection(api, list(zip(s.keys, s.inspects, strict=True)), copts) as got:
                q.put(("engine", s, section.settle(sec)))  # before any container: they read it
                for item in got:
                    q.put(("container", s, item))
            q.put(("tail", s, section.finish(sec, deadline)))
    except BaseException as exc:  # recorded by the consumer; never lost in a thread
        q.put(("error", s, exc))
    finally:
        q.put(("end", s, None))


def run_live(opts: RunOptions, progress: Progress) -> RunResult:
    """Collect, redact, analyse and archive the named containers of every engine."""
    started = time.time()
    if opts.bundle:
        check_output_dir(opts.output_dir)  # before any engine work: a bad -o fails at once
    # The checks load while the engines answer.
    warm = Warmup(opts.plugins, opts.skip, opts.only, opts.ignores, run_date(started))
    if opts.skip or opts.only or opts.ignores:
        warm.registry()  # an unknown check named is a usage error before any engine work
    return LiveRun(opts, progress, started, open_sessions(opts, progress)).run(warm)


def run_inspected(opts: RunOptions, progress: Progress, label: str, endpoint: Endpoint,
                  inspect: dict[str, Any]) -> RunResult:
    """`diagnose CONTAINER` for one container already resolved (its inspect): what
    `diagnose watch` runs for each incident.  The same collection, redaction, checks, reports
    and bundle as :func:`run_live`, on a client of its own, closed at the end."""
    started = time.time()
    check_output_dir(opts.output_dir)
    warm = Warmup(opts.plugins)
    client = connect(endpoint, opts.timeout, connections(opts.jobs))
    session = Session(label, endpoint, client=client, inspects=[inspect])
    return LiveRun(opts, progress, started, [session]).run(warm)


class LiveRun:
    """One live run over its sessions: collection on the sessions' threads, the rest here."""

    def __init__(self, opts: RunOptions, progress: Progress, started: float,
                 sessions: list[Session]) -> None:
        self.opts, self.progress, self.started = opts, progress, started
        self.sessions = sessions
        self.ok = [s for s in sessions if s.error is None]
        # Bounded: collection waits for analysis rather than piling collected logs up.
        self.q: queue.Queue[Item] = queue.Queue(maxsize=max(2, opts.jobs))
        self.gate = Gate()
        self.collected_at = utc_stamp(started)
        self.total = 0  # containers of the run, once named
        self.deadline = Deadline(opts.deadline)

    def run(self, warm: Warmup) -> RunResult:
        """Start the engines on their engine sections; name the targets and open the bundle;
        then let the containers come, analyse them and publish."""
        deadline = self.deadline
        for s in self.ok:
            threading.Thread(target=_produce, args=(s, self.q, self.opts, deadline, self.gate),
                             daemon=True, name=f"session-{s.label}").start()
        try:
            redactor, writer = self.open_bundle()
        except BaseException:
            self.gate.release(False)
            close_sessions(self.sessions)
            raise
        self.gate.release(True)
        try:
            with writer if writer is not None else contextlib.nullcontext():
                report, path = self.diagnose(warm, redactor, writer)
        finally:
            close_sessions(self.sessions)
        if path is not None:
            self.progress(f"bundle written: {path}")
        from diagnose.pipeline.report import RunResult  # startup: loaded by the warm-up

        return RunResult(report, path, redactor)

    def open_bundle(self) -> tuple[Redactor, BundleWriter | None]:
        """Learn the targets' secrets, name their directories and open the bundle (none with
        --no-bundle: nothing is written)."""
        from diagnose.redact.redactor import Redactor  # startup: loaded by the warm-up

        opts = self.opts
        redactor = Redactor(opts.redact, opts.redact_patterns, opts.redact_names)
        for s in self.ok:
            for ins in s.inspects:
                redactor.learn_inspect(ins)
        # Directory and bundle names come from container names, which may hold a learned
        # secret; keys are unique across every engine of the run.
        keys = unique_keys([{**ins, "Name": redactor.plain(str(ins.get("Name", "")))}
                            for s in self.ok for ins in s.inspects])
        at = 0
        for s in self.ok:
            s.keys, at = keys[at:at + len(s.inspects)], at + len(s.inspects)
        self.total = len(keys)
        if not opts.bundle:
            return redactor, None
        group = (redactor.plain(opts.project) if opts.project
                 else "all" if opts.select_all and not opts.filters else None)
        return redactor, BundleWriter(opts.output_dir,
                                      bundle_name(keys, self.started, opts.redact, group))

    def diagnose(self, warm: Warmup, redactor: Redactor, writer: BundleWriter | None
                 ) -> tuple[Report, Path | None]:
        """Analyse what the sessions collect, run the run-scope checks and publish."""
        from diagnose.pipeline.publish import publish  # startup: loaded by the warm-up
        from diagnose.pipeline.report import RunFacts  # startup: loaded by the warm-up
        from diagnose.pipeline.sink import Pipeline  # startup: loaded by the warm-up

        registry = warm.registry()
        for p in registry.problems:
            self.progress(f"warning: {p.line()}")
        self.progress(", ".join(f"engine {s.endpoint.host} ({s.endpoint.source}): "
                                f"{len(s.inspects)} target(s)" for s in self.ok))
        several = len(self.sessions) > 1
        for s in self.ok:
            s.pipe = Pipeline(registry, redactor, writer, self.opts.debug, prefix=s.prefix,
                              engine_label=s.label if several else "")
        self.consume()
        reports, outcomes, records = self.finish()
        first = self.ok[0]
        assert first.engine is not None and first.host is not None
        facts = RunFacts(self.started, first.engine, first.endpoint.source, first.host,
                         records, reports, outcomes, [s.summary() for s in self.sessions])
        opts = self.opts
        return publish(_merged(self.ok), facts, opts.argv, {
            "tail": opts.tail, "since": opts.since, "max_log_bytes": opts.max_log_bytes,
            "timeout": opts.timeout, "deadline": opts.deadline, "jobs": opts.jobs,
            "probe": opts.probe, "project": opts.project})

    def finish(self) -> tuple[list[TargetReport], list[CheckOutcome], list[CollectorRecord]]:
        """Every engine's run-scope checks: the reports, run outcomes and records of all."""
        reports: list[TargetReport] = []
        outcomes: list[CheckOutcome] = []
        records: list[CollectorRecord] = []
        for s in self.ok:
            assert s.pipe is not None and s.engine is not None and s.host is not None
            engine = EngineFacts({**s.engine.files, **s.pipe.add_files(s.tail_files)},
                                 s.engine.records, s.engine.endpoint, s.engine.local)
            s.engine = engine
            got, out = s.pipe.finish(engine, s.host, {"started_at": self.collected_at,
                                                      "mode": "live"}, s.keys)
            reports += got
            outcomes += out
            records += [*engine.records.values(), *s.host.records.values(), *s.pipe.records]
        return reports, outcomes, records

    def consume(self) -> None:
        """The main thread: redact, analyse and write whatever the sessions hand over."""
        running = len(self.ok)
        done = 0
        while running:
            kind, s, payload = self.q.get()
            pipe = s.pipe
            assert pipe is not None
            if kind == "engine":
                _engine_section(s, pipe, payload, self.progress)
            elif kind == "container":
                assert s.engine is not None
                done += 1
                item = settle(payload, self.deadline)  # its stats, meanwhile asked of the engine
                target = pipe.container(item.key, item.files, item.records, s.engine,
                                        self.collected_at)
                self.progress(f"[{done}/{self.total}] {item.key}: {target.summary}")
            elif kind == "tail":
                records, s.tail_files = payload
                if s.engine is not None:
                    s.engine = dataclasses.replace(s.engine, records={
                        **s.engine.records, **{r.name: r for r in records}})
            elif kind == "error":
                raise payload
            elif kind == "end":
                running -= 1


def _engine_section(s: Session, pipe: Pipeline, sec: Any, progress: Progress) -> None:
    """One engine's section has come: its files into the bundle, its facts on the session."""
    if not sec.answered:
        # The targets were resolved: what was seen is still worth a (partial) bundle.
        progress(f"warning: engine {s.label} stopped answering: {sec.reason()}; "
                 "the bundle will be partial")
    s.engine = EngineFacts(pipe.add_files(sec.files), sec.records, s.endpoint.host,
                           s.endpoint.local)
    assert sec.host_record is not None
    s.host = HostFacts(pipe.add_files(sec.host_files), {"host": sec.host_record})


def _merged(ok: list[Session]) -> Pipeline:
    """One pipeline view over every engine's (for the report tail): errors and records."""
    base = ok[0].pipe
    assert base is not None
    if len(ok) == 1:
        return base
    merged = dataclasses.replace(base, prefix="", engine_label="")
    merged.errors = [e for s in ok if s.pipe is not None for e in s.pipe.errors]
    return merged
