"""The engines of a run: naming, connecting and resolving them, and their engine sections.

Every command that talks to engines starts here: :func:`endpoints` names them (the CLI's
default engine when none is), :func:`open_sessions` connects to each and resolves its targets
concurrently (`diagnose CONTAINER`), :func:`single_endpoint` names the one engine of
`diagnose engine` and `diagnose service`, and :func:`collect_engine` collects the engine
section every bundle has.  The commands themselves are :mod:`diagnose.runs.live`,
:mod:`diagnose.runs.engine` and :mod:`diagnose.runs.service`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from docker.errors import DockerException
from requests.exceptions import RequestException

from diagnose.bundle.manifest import engine_entry
from diagnose.collect import section
from diagnose.collect.connect import Endpoint, connect, engine_error, resolve_endpoint
from diagnose.collect.pool import engine_pool
from diagnose.collect.record import Deadline
from diagnose.collect.runner import connections
from diagnose.collect.scope import Scope
from diagnose.collect.targets import inspect_many, resolve, resolve_one, select
from diagnose.evidence import layout
from diagnose.evidence.engine import EngineFacts, HostFacts
from diagnose.evidence.records import CollectorRecord
from diagnose.model.errors import DiagnoseError, EngineError, TargetNotFound, UsageError
from diagnose.model.limits import MAX_CONTAINERS, MAX_ENGINES
from diagnose.model.options import Progress, RunOptions

if TYPE_CHECKING:  # a type only: the pipeline loads on the warm-up thread (runs/warmup.py)
    from diagnose.pipeline.sink import Pipeline

PROJECT_LABEL = "com.docker.compose.project"


@dataclass
class Session:
    """One engine of the run."""

    label: str
    endpoint: Endpoint
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
        return engine_entry(self.label, str(self.endpoint.host), str(self.endpoint.source),
                            bool(self.endpoint.local), len(self.keys), version, self.prefix,
                            str(self.error) if self.error is not None else "")


def endpoints(opts: RunOptions) -> list[tuple[str, Endpoint]]:
    """(label, endpoint) of every engine named; the CLI's default engine when none is."""
    if not opts.hosts and not opts.contexts:
        ep = resolve_endpoint()
        return [(_label_of(ep.host, ep.source), ep)]
    if len(opts.hosts) + len(opts.contexts) > MAX_ENGINES:
        raise UsageError(f"{len(opts.hosts) + len(opts.contexts)} engines named; a bundle "
                         f"holds at most {MAX_ENGINES} (what `diagnose analyze` reads)",
                         "diagnose them in several runs")
    out = [(_label_of(host, "--host"), resolve_endpoint(host=host)) for host in opts.hosts]
    out += [(name, resolve_endpoint(context=name)) for name in opts.contexts]
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


def single_endpoint(opts: RunOptions, refusal: str) -> Endpoint:
    """The one engine a command looks at (`refusal`: what it says when several are named)."""
    named = endpoints(opts)
    if len(named) > 1:
        raise UsageError(refusal, "give one --host or --context")
    return named[0][1]


def close_client(client: Any) -> None:
    """Close a client; closing is best effort."""
    with contextlib.suppress(Exception):
        client.close()


@contextlib.contextmanager
def connected(endpoint: Endpoint, timeout: float, pool_size: int) -> Iterator[Any]:
    """A client of `endpoint`, closed when the block ends whatever happened."""
    client = connect(endpoint, timeout, pool_size)
    try:
        yield client
    finally:
        close_client(client)


def _open(session: Session, opts: RunOptions, several: bool) -> None:
    """Connect and resolve this engine's targets; failures are kept on the session."""
    try:
        session.client = connect(session.endpoint, opts.timeout, connections(opts.jobs))
        api = session.client.api
        api.ping()
        filters = list(opts.filters)
        if opts.project:
            filters.append(f"label={PROJECT_LABEL}={opts.project}")
        if several:
            _resolve_somewhere(session, api, opts, filters)
        else:
            session.inspects = resolve(api, list(opts.targets), opts.select_all, filters,
                                       opts.jobs)
    except (DockerException, RequestException) as exc:
        session.error = engine_error(session.endpoint, exc)
    except EngineError as exc:
        session.error = exc


def _resolve_somewhere(session: Session, api: Any, opts: RunOptions,
                       filters: list[str]) -> None:
    """Several engines: a name only needs to exist on one of them."""
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
        session.inspects.extend(inspect_many(api, ids, opts.jobs))


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
    try:
        _check_opened(opts, sessions, errors, progress)
    except BaseException:
        close_sessions(sessions)
        raise
    return sessions


def _check_opened(opts: RunOptions, sessions: list[Session], errors: list[BaseException],
                  progress: Progress) -> None:
    """Raise what ends the run before collection: a usage error, no engine answering, a
    name found nowhere, more containers than a bundle holds."""
    if errors:
        raise errors[0]
    ok = [s for s in sessions if s.error is None]
    if not ok:
        assert sessions[0].error is not None
        raise sessions[0].error
    for s in sessions:
        if s.error is not None:
            progress(f"warning: engine {s.label} ({s.endpoint.host}): {s.error}")
    if len(sessions) > 1:
        nowhere = [ref for ref in opts.targets if all(ref in s.missing for s in ok)]
        if nowhere:
            raise TargetNotFound(f"no such container on any engine: {', '.join(nowhere)}",
                                 "`docker ps -a` on each engine lists its containers")
        if not any(s.inspects for s in ok):
            what = f"Compose project {opts.project!r}" if opts.project else "the selection"
            raise TargetNotFound(f"no container matches {what} on any engine",
                                 "`docker ps -a` lists containers")
    count = sum(len(s.inspects) for s in ok)
    if count > MAX_CONTAINERS:
        raise UsageError(f"{count} containers selected; a bundle holds at most "
                         f"{MAX_CONTAINERS:,} (what `diagnose analyze` reads)",
                         "narrow the selection with --filter or --project, or run several times")


def close_sessions(sessions: list[Session]) -> None:
    """Close every session's client."""
    for s in sessions:
        if s.client is not None:
            close_client(s.client)


def scope_of(opts: RunOptions, inspects: list[dict[str, Any]]) -> Scope:
    """What of the engine a run keeps: all of it when the user asked for every container
    (`--all`, unfiltered), else its targets' own objects and totals (see collect/scope.py)."""
    if opts.select_all and not opts.filters and not opts.project:
        return Scope.engine()
    return Scope.of(inspects)


def collect_engine(api: Any, local: bool, endpoint: str, pipe: Pipeline, deadline: Deadline,
                   scope: Scope) -> tuple[EngineFacts, HostFacts, list[CollectorRecord]]:
    """The engine section (as every bundle has it, of the whole engine or of `scope`'s
    targets), redacted and streamed into the bundle."""
    with engine_pool(4, "engine") as pool:
        sec = section.settle(section.start(api, local, deadline, pool, scope=scope))
        if not sec.answered:
            raise EngineError(f"the engine at {endpoint} stopped answering: {sec.reason()}",
                              "check dockerd")
        _, tail_files = section.finish(sec, deadline)
    assert sec.host_record is not None
    engine = EngineFacts(pipe.add_files({**sec.files, **tail_files}), sec.records, endpoint,
                         local)
    host = HostFacts(pipe.add_files(sec.host_files), {"host": sec.host_record})
    return engine, host, [*sec.records.values(), sec.host_record]
