"""The live run: `diagnose CONTAINER...` on one engine or several at once.

Each engine is a session: connect, resolve its targets, then collect its engine section and
its containers on its own thread.  Every session hands what it collected to one queue; the
main thread alone redacts, analyses and streams it into the one bundle, so the redactor and
the archive writer are never shared between threads.  A run over several engines puts each
under `engines/<label>/` in the bundle; an engine that cannot be reached is recorded and the
others are still diagnosed (exit code 3 says some engines failed).

Order matters for speed: the docker SDK is imported and the engines are asked first; the
pipeline's own modules (checks, redaction rules, templates) load on a warm-up thread while the
engines answer, so this module imports none of them at the top.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from diagnose import layout
from diagnose.errors import DiagnoseError, EngineError, TargetNotFound, UsageError
from diagnose.limits import MAX_CONTAINERS, MAX_ENGINES
from diagnose.options import RunOptions

if TYPE_CHECKING:
    from diagnose.run import Pipeline, Progress, RunResult
    from diagnose.snapshot import CollectorRecord, EngineFacts, HostFacts

PROJECT_LABEL = "com.docker.compose.project"


@dataclass
class Session:
    """One engine of the run."""

    label: str
    endpoint: Any
    prefix: str = ""
    client: Any = None
    inspects: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    error: DiagnoseError | None = None
    pipe: Pipeline | None = None
    engine: EngineFacts | None = None
    host: HostFacts | None = None
    records: list[CollectorRecord] = field(default_factory=list)
    tail_files: dict[str, bytes] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """This engine in the report's `engines` list."""
        version = self.engine.version if self.engine is not None else {}
        return {
            "label": self.label,
            "endpoint": str(self.endpoint.host),
            "source": str(self.endpoint.source),
            "status": "failed" if self.error is not None else "ok",
            "reason": str(self.error) if self.error is not None else "",
            "prefix": self.prefix,
            "local": bool(self.endpoint.local),
            "targets": len(self.keys),
            "version": str(version.get("Version", "")),
            "api_version": str(version.get("ApiVersion", "")),
        }


def endpoints(opts: RunOptions) -> list[tuple[str, Any]]:
    """(label, endpoint) of every engine named; the CLI's default engine when none is."""
    from diagnose.collect.connect import resolve_endpoint

    if not opts.hosts and not opts.contexts:
        ep = resolve_endpoint()
        return [(_label_of(ep.host, ep.source), ep)]
    if len(opts.hosts) + len(opts.contexts) > MAX_ENGINES:
        raise UsageError(f"{len(opts.hosts) + len(opts.contexts)} engines named; a bundle "
                         f"holds at most {MAX_ENGINES} (what `diagnose analyze` reads)",
                         "diagnose them in several runs")
    out: list[tuple[str, Any]] = []
    for host in opts.hosts:
        out.append((_label_of(host, "--host"), resolve_endpoint(host=host)))
    for name in opts.contexts:
        out.append((name, resolve_endpoint(context=name)))
    seen: dict[str, int] = {}
    labelled = []
    for label, ep in out:
        base = layout.safe_component(label, "engine")
        n = seen.get(base, 0)
        seen[base] = n + 1
        labelled.append((base if n == 0 else f"{base}-{n + 1}", ep))
    return labelled


def _label_of(host: str, source: str) -> str:
    if source.startswith("--context") or source.startswith("context "):
        return source.split()[1]
    return host.split("://", 1)[-1].strip("/") or "engine"


def _open(session: Session, opts: RunOptions, several: bool) -> None:
    """Connect and resolve this engine's targets; failures are kept on the session."""
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    from diagnose.collect.connect import connect, engine_error
    from diagnose.collect.targets import resolve, resolve_one, select

    try:
        session.client = connect(session.endpoint, opts.timeout, max(8, opts.jobs * 7))
        api = session.client.api
        api.ping()
        filters = list(opts.filters)
        if opts.project:
            filters.append(f"label={PROJECT_LABEL}={opts.project}")
        if not several:
            session.inspects = resolve(api, list(opts.targets), opts.select_all, filters,
                                       opts.jobs)
            return
        # Several engines: a name only needs to exist on one of them.
        seen: set[str] = set()
        for ref in opts.targets:
            try:
                data = resolve_one(api, ref)
            except TargetNotFound:
                session.missing.append(ref)
                continue
            if data["Id"] not in seen:
                seen.add(data["Id"])
                session.inspects.append(data)
        if opts.select_all or filters:
            try:
                ids = [i for i in select(api, opts.select_all, filters) if i not in seen]
            except TargetNotFound:
                ids = []
            from diagnose.collect.targets import inspect_many

            session.inspects.extend(inspect_many(api, ids, opts.jobs))
    except (DockerException, RequestException) as exc:
        session.error = engine_error(session.endpoint, exc)
    except EngineError as exc:
        session.error = exc


def open_sessions(opts: RunOptions, progress: Progress) -> list[Session]:
    """Every engine connected and its targets resolved, concurrently."""
    named = endpoints(opts)
    several = len(named) > 1
    sessions = [Session(label, ep, f"{layout.ENGINES_DIR}/{label}/" if several else "")
                for label, ep in named]
    errors: list[BaseException] = []

    def guarded(s: Session) -> None:
        try:
            _open(s, opts, several)
        except BaseException as exc:  # usage errors (ambiguous prefix...) end the run
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(s,), daemon=True) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        _close(sessions)
        raise errors[0]
    ok = [s for s in sessions if s.error is None]
    if not ok:
        _close(sessions)
        assert sessions[0].error is not None
        raise sessions[0].error
    for s in sessions:
        if s.error is not None:
            progress(f"warning: engine {s.label} ({s.endpoint.host}): {s.error}")
    if several:
        _check_found(opts, sessions, ok)
    count = sum(len(s.inspects) for s in ok)
    if count > MAX_CONTAINERS:
        _close(sessions)
        raise UsageError(f"{count} containers selected; a bundle holds at most "
                         f"{MAX_CONTAINERS:,} (what `diagnose analyze` reads)",
                         "narrow the selection with --filter or --project, or run several times")
    return sessions


def _check_found(opts: RunOptions, sessions: list[Session], ok: list[Session]) -> None:
    nowhere = [ref for ref in opts.targets if all(ref in s.missing for s in ok)]
    if nowhere:
        _close(sessions)
        raise TargetNotFound(f"no such container on any engine: {', '.join(nowhere)}",
                             "`docker ps -a` on each engine lists its containers")
    if not any(s.inspects for s in ok):
        _close(sessions)
        what = f"Compose project {opts.project!r}" if opts.project else "the selection"
        raise TargetNotFound(f"no container matches {what} on any engine",
                             "`docker ps -a` lists containers")


def _close(sessions: list[Session]) -> None:
    for s in sessions:
        if s.client is not None:
            try:
                s.client.close()
            except Exception:  # closing is best effort
                pass


def _produce(s: Session, q: queue.Queue[tuple[str, Session, Any]], opts: RunOptions,
             deadline: Any, gate: Gate) -> None:
    """Collect one engine (engine section, then its containers once the run has named them
    and opened the bundle); everything goes to `q`."""
    from diagnose.app import _pool
    from diagnose.collect import container as cc
    from diagnose.collect import section
    from diagnose.collect.record import GuardedAPI
    from diagnose.collect.runner import CollectOptions, collect_all

    try:
        api = GuardedAPI(s.client.api, deadline)
        with _pool(4, f"engine-{s.label}") as epool:
            sec = section.start(api, s.endpoint.local, deadline, epool, s.prefix)
            q.put(("engine", s, sec))
            if not gate.wait():
                return
            copts = CollectOptions(
                logs=cc.LogOptions(opts.tail, opts.since, opts.max_log_bytes),
                jobs=opts.jobs,
                local=s.endpoint.local,
                engine_arch=str(sec.info.get("Architecture") or ""),
                deadline=deadline,
                probe=opts.probe,
            )
            for item in collect_all(api, list(zip(s.keys, s.inspects, strict=True)), copts):
                q.put(("container", s, item))
            q.put(("tail", s, section.finish(sec, deadline)))
    except BaseException as exc:  # recorded by the consumer; never lost in a thread
        q.put(("error", s, exc))
    finally:
        q.put(("end", s, None))


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


def run_live(opts: RunOptions, progress: Progress) -> RunResult:
    """Collect, redact, analyse and archive the named containers of every engine."""
    from diagnose.archive import check_output_dir
    from diagnose.collect.record import Deadline

    started = time.time()
    check_output_dir(opts.output_dir)  # before any engine work: a bad -o fails at once
    import diagnose.collect.connect  # noqa: F401 - the SDK first: the warm-up overlaps waits
    from diagnose.warmup import Warmup

    warm = Warmup(opts.plugins)  # pipeline, checks and templates load while engines answer
    sessions = open_sessions(opts, progress)
    ok = [s for s in sessions if s.error is None]
    # The engines start on their engine sections now; containers wait for their names.
    # Bounded: collection waits for analysis rather than piling collected logs up in memory.
    q: queue.Queue[tuple[str, Session, Any]] = queue.Queue(maxsize=max(2, opts.jobs))
    gate = Gate()
    deadline = Deadline(opts.deadline)
    for s in ok:
        threading.Thread(target=_produce, args=(s, q, opts, deadline, gate), daemon=True,
                         name=f"session-{s.label}").start()
    try:
        from diagnose.redact import Redactor
        from diagnose.run import Pipeline, unique_keys, utc_stamp
        from diagnose.snapshot import EngineFacts

        redactor = Redactor(opts.redact, opts.redact_patterns, opts.redact_names)
        for s in ok:
            for ins in s.inspects:
                redactor.learn_inspect(ins)
        # Directory and bundle names come from container names, which may hold a learned
        # secret; keys are unique across every engine of the run.
        all_keys = unique_keys([{**ins, "Name": redactor.plain(str(ins.get("Name", "")))}
                                for s in ok for ins in s.inspects])
        at = 0
        for s in ok:
            s.keys, at = all_keys[at:at + len(s.inspects)], at + len(s.inspects)
        from diagnose.app import _open_writer, publish

        writer = _open_writer(opts, all_keys, started)
    except BaseException:
        gate.release(False)
        _close(sessions)
        raise
    gate.release(True)
    try:
        registry = warm.registry()
        for p in registry.problems:
            progress(f"warning: plugin {p.source}: {p.message}")
        progress(", ".join(f"engine {s.endpoint.host} ({s.endpoint.source}): "
                           f"{len(s.inspects)} target(s)" for s in ok))
        several = len(sessions) > 1
        for s in ok:
            s.pipe = Pipeline(registry, redactor, writer, opts.debug, prefix=s.prefix,
                              engine_label=s.label if several else "")
        collected_at = utc_stamp(started)
        _consume(ok, q, collected_at, progress, len(all_keys))
        reports: list[Any] = []
        run_outcomes: list[Any] = []
        records: list[CollectorRecord] = []
        for s in ok:
            assert s.pipe is not None and s.engine is not None and s.host is not None
            engine = EngineFacts({**s.engine.files, **s.pipe.add_files(s.tail_files)},
                                 s.engine.records, s.engine.endpoint, s.engine.local)
            s.engine = engine
            got, outcomes = s.pipe.finish(engine, s.host, {"started_at": collected_at,
                                                           "mode": "live"}, s.keys)
            reports += got
            run_outcomes += outcomes
            records += [*engine.records.values(), *s.host.records.values(), *s.pipe.records]
        first = ok[0]
        assert first.engine is not None and first.host is not None
        pipe = _merged(ok)
        report, path = publish(
            pipe=pipe, started=started, engine=first.engine, source=first.endpoint.source,
            host=first.host, records=records, reports=reports, run_outcomes=run_outcomes,
            argv=opts.argv,
            options={"tail": opts.tail, "since": opts.since, "max_log_bytes": opts.max_log_bytes,
                     "timeout": opts.timeout, "deadline": opts.deadline, "jobs": opts.jobs,
                     "probe": opts.probe, "project": opts.project},
            engines=[s.summary() for s in sessions],
        )
    except BaseException:
        writer.abort()
        raise
    finally:
        _close(sessions)
    progress(f"bundle written: {path}")
    from diagnose.run import RunResult

    return RunResult(report, path, redactor)


def _merged(ok: list[Session]) -> Pipeline:
    """One pipeline view over every engine's (for the report tail): errors and records."""
    base = ok[0].pipe
    assert base is not None
    if len(ok) == 1:
        return base
    merged = dataclasses.replace(base, prefix="", engine_label="")
    merged.errors = [e for s in ok if s.pipe is not None for e in s.pipe.errors]
    return merged


def _consume(ok: list[Session], q: queue.Queue[tuple[str, Session, Any]], collected_at: str,
             progress: Progress, total: int) -> None:
    """The main thread: redact, analyse and write whatever the sessions hand over."""
    from diagnose.snapshot import EngineFacts, HostFacts

    running = len(ok)
    done = 0
    while running:
        kind, s, payload = q.get()
        pipe = s.pipe
        assert pipe is not None
        if kind == "engine":
            sec = payload
            if not sec.answered:
                # The targets were resolved: what was seen is still worth a (partial) bundle.
                progress(f"warning: engine {s.label} stopped answering: {sec.reason()}; "
                         "the bundle will be partial")
            s.engine = EngineFacts(pipe.add_files(sec.files), sec.records, s.endpoint.host,
                                   s.endpoint.local)
            assert sec.host_record is not None
            s.host = HostFacts(pipe.add_files(sec.host_files), {"host": sec.host_record})
        elif kind == "container":
            assert s.engine is not None
            done += 1
            target = pipe.container(payload.key, payload.files, payload.records, s.engine,
                                    collected_at)
            progress(f"[{done}/{total}] {payload.key}: {target.summary}")
        elif kind == "tail":
            records, files = payload
            s.tail_files = files
            if s.engine is not None:
                s.engine = EngineFacts(s.engine.files, {**s.engine.records,
                                                        **{r.name: r for r in records}},
                                       s.engine.endpoint, s.engine.local)
        elif kind == "error":
            raise payload
        elif kind == "end":
            running -= 1
