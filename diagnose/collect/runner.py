"""Collect every target concurrently on bounded pools, through one shared client.

Targets run on a pool of `--jobs` workers; the pieces of one target (logs, top, history,
events, diff, stats, networks, probe...) run concurrently on a second pool, so one slow piece
never holds up the rest.  Results are handed back in completion order for the caller to
redact, analyse and stream into the archive.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import functools
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker.errors import NotFound

from diagnose.collect import container as cc
from diagnose.collect import past_events as pe
from diagnose.collect.host import collect_processes
from diagnose.collect.memo import Memo
from diagnose.collect.override import collect_override
from diagnose.collect.podman import collect_runtime
from diagnose.collect.ports import collect_port_holders
from diagnose.collect.record import Deadline, Piece, describe_failure, run_collector
from diagnose.collect.scope import Scope
from diagnose.evidence import layout
from diagnose.evidence.engine import PODMAN
from diagnose.evidence.records import CollectorRecord, CollectorStatus


@dataclass(frozen=True)
class CollectOptions:
    """What and how much to collect."""

    logs: cc.LogOptions = field(default_factory=cc.LogOptions)
    jobs: int = 4
    local: bool = True
    engine_arch: str = ""
    #: `Docker` or `Podman` (diagnose.evidence.engine.product_of): Podman is asked differently.
    product: str = ""
    deadline: Deadline | None = None
    probe: bool = False
    #: A `diagnose watch` journal whose events of a container join the engine's.
    journal: Path | None = None
    #: Logs read while a container ran (`diagnose watch`, `--rm` containers), by container
    #: ID: used when the engine no longer has them.
    seen_logs: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)
    #: Per-image answers shared by every target of the run.
    memo: Memo = field(default_factory=Memo)
    #: What of other containers may be kept (their names and addresses on a shared network,
    #: a port they hold): the run's targets (None: the targets given to collect_all), or the
    #: whole engine (`--all`).
    scope: Scope | None = None
    #: Every target's past events, asked in one call when the collection starts (dockerd;
    #: set by :class:`Collection`); None: each target asks for its own (Podman).
    events: cf.Future[pe.EventsAnswer] | None = None


Outcome = tuple[CollectorRecord, dict[str, bytes]]


@dataclass
class Collected:
    """One target's raw evidence: files relative to its directory, and collector records."""

    key: str
    inspect: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    records: dict[str, CollectorRecord] = field(default_factory=dict)
    #: Pieces still being asked when the rest was done (stats: the engine answers them at
    #: its next once-a-second sample), and since when: taken by :func:`settle`.
    pending: dict[str, cf.Future[Outcome]] = field(default_factory=dict)
    asked_at: float = 0.0

    def take(self, record: CollectorRecord, files: Mapping[str, bytes]) -> None:
        """Store one collector's outcome."""
        self.records[record.name] = record
        self.files.update(files)


_STATE_KEYS = ("Status", "Running", "Paused", "Restarting", "Pid", "ExitCode", "StartedAt",
               "FinishedAt", "OOMKilled")


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    b, a = before.get("State") or {}, after.get("State") or {}
    changed = {k: [b.get(k), a.get(k)] for k in _STATE_KEYS if b.get(k) != a.get(k)}
    if before.get("RestartCount") != after.get("RestartCount"):
        changed["RestartCount"] = [before.get("RestartCount"), after.get("RestartCount")]
    return changed


def _recheck(api: Any, cid: str, before: Mapping[str, Any], dl: Deadline | None
             ) -> dict[str, Any]:
    """Did the container change (restart, stop, removal) while we looked?"""
    if dl is not None and dl.expired():
        return {}  # no time left to look; the deadline is recorded on the collectors
    try:
        after = api.inspect_container(cid)
    except NotFound:
        return {"removed": True}
    except Exception as exc:  # the engine went away mid-run: recorded, the rest is kept
        return {"recheck_failed": describe_failure(exc)}
    return _changes(before, after)


def _late(name: str, key: str, started: float) -> tuple[CollectorRecord, dict[str, bytes]]:
    elapsed = (time.perf_counter() - started) * 1000
    return (CollectorRecord(name, key, CollectorStatus.FAILED,
                            "overall --deadline reached before it finished", elapsed), {})


def _seen_logs(key: str, failed: CollectorRecord, files: Mapping[str, bytes]
               ) -> CollectorRecord:
    """The logs record when the engine no longer had the logs and watch had read them."""
    return CollectorRecord("logs", key, CollectorStatus.OK,
                           "the engine no longer had them: as diagnose watch read them while "
                           "the container ran", failed.duration_ms, sum(map(len, files.values())),
                           False, tuple(files), {"source": "diagnose watch (followed)",
                                                 "engine": failed.reason})


def _pieces(api: Any, inspect: dict[str, Any], opts: CollectOptions, image: dict[str, Any],
            started: float) -> dict[str, Callable[[], Piece]]:
    """The collectors of one container that run concurrently (after inspect and image)."""
    podman = opts.product == PODMAN
    jobs: dict[str, Callable[[], Piece]] = {
        "logs": lambda: cc.collect_logs(api, inspect, opts.logs),
        "top": lambda: cc.collect_top(api, inspect, podman),
        "processes": lambda: collect_processes(inspect, opts.local),
        "history": lambda: cc.collect_history(api, inspect, opts.memo),
        "events": lambda: pe.collect_events(api, inspect, started, opts.journal, podman,
                                            opts.events.result() if opts.events else None),
        "diff": lambda: cc.collect_diff(api, inspect),
        "stats": lambda: cc.collect_stats(api, inspect),
        "networks": lambda: cc.collect_networks(api, inspect, opts.memo, opts.scope),
        "mounts": lambda: cc.collect_mounts(inspect, opts.local),
        "entrypoint": lambda: cc.collect_entrypoint(api, inspect, image, opts.engine_arch,
                                                    opts.memo),
        "ports": lambda: collect_port_holders(api, inspect, opts.local, opts.scope),
    }
    if podman:  # what Podman keeps off its API (diagnose/collect/podman.py); dockerd has it
        jobs["runtime"] = lambda: collect_runtime(inspect, opts.product, opts.local)
    return jobs


class TargetAPI:
    """The client as one target's collectors see it: `docker diff` is asked of the engine
    once and its answer shared by the diff collector and the entrypoint probe (which needs
    the files the container changed); the engine walks the whole writable layer for it.
    A failed answer is not kept: the other asker asks again."""

    def __init__(self, api: Any) -> None:
        self.api = api
        self.answers = Memo()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.api, name)

    def diff(self, container: str) -> Any:
        """`docker diff`, asked once."""
        return self.answers.get("diff", container, lambda: self.api.diff(container))


def collect_one(
    api: Any, key: str, inspect: dict[str, Any], opts: CollectOptions, pool: cf.Executor,
    early: Mapping[str, cf.Future[Outcome]] | None = None,
) -> Collected:
    """All collectors for one container (`early`: pieces started already); never raises."""
    out = Collected(key, inspect)
    dl = opts.deadline
    cid = inspect["Id"]
    out.take(*run_collector("inspect", key, lambda: Piece({layout.INSPECT: cc.dump_json(inspect)}),
                            dl))

    image: dict[str, Any] = {}

    def image_piece() -> Piece:
        got, piece = cc.collect_image(api, inspect, opts.memo)
        image.update(got)
        return piece

    out.take(*run_collector("image", key, image_piece, dl))
    jobs = _pieces(api, inspect, opts, image, time.time())
    submitted = time.perf_counter()
    futures = {name: (early or {}).get(name) or pool.submit(run_collector, name, key, fn, dl)
               for name, fn in jobs.items()}
    out.asked_at = submitted
    for name in jobs:
        if name in LATE and not futures[name].done():
            out.pending[name] = futures[name]  # see settle()
            continue
        _take(out, name, futures[name], dl)
    if cid in opts.seen_logs and not out.records["logs"].ok:
        out.take(_seen_logs(key, out.records["logs"], opts.seen_logs[cid]), opts.seen_logs[cid])
    # The override probe plans from the static probe, so it runs once that is done.
    out.take(*run_collector("probe", key, lambda: collect_override(
        api, inspect, out.files.get(layout.ENTRYPOINT), opts.probe), dl))

    # Did the container change (restart, stop, removal) while we looked?  Recorded, not hidden.
    changed = _recheck(api, cid, inspect, dl)
    if changed:
        rec = out.records["inspect"]
        out.records["inspect"] = CollectorRecord(
            rec.name, rec.owner, rec.status, "container changed while being collected",
            rec.duration_ms, rec.bytes, rec.truncated, rec.files,
            {**rec.detail, "changed_during_collection": changed},
        )
    return out


#: Pieces a target is handed over without, while the engine is still to answer them: stats
#: wait for the engine's next once-a-second sample, and a target worker waiting for them
#: (all eight did, at a fleet's first sample) keeps the engine idle.
LATE = frozenset({"stats"})


def _take(item: Collected, name: str, fut: cf.Future[Outcome], deadline: Deadline | None
          ) -> None:
    """One piece's outcome into `item`.  At the deadline a collector still waiting on the
    engine is given up on (its thread ends by itself: every call is bounded by --timeout and
    the guarded client starts no new call)."""
    try:
        item.take(*fut.result(timeout=deadline.remaining() if deadline else None))
    except cf.TimeoutError:
        fut.cancel()
        item.take(*_late(name, item.key, item.asked_at))


def settle(item: Collected, deadline: Deadline | None) -> Collected:
    """`item` with its late pieces taken (waiting for them, no longer than the deadline)."""
    for name, fut in item.pending.items():
        _take(item, name, fut, deadline)
    item.pending = {}
    return item


#: Stats requests asked at once (x --jobs).  Every target's is asked when the collection
#: starts: the engine answers each at its next once-a-second sample, so the more are waiting
#: for one sample, the fewer samples the run waits for (a request costs a connection that
#: waits, and a few KB of answer).
STATS_WORKERS = 8


def connections(jobs: int) -> int:
    """Engine connections a collection at `jobs` uses at most: its targets, their pieces,
    the stats asked at once, and the engine section's four."""
    return max(1, jobs) * (1 + 6 + STATS_WORKERS) + 4


def collect_all(
    api: Any, targets: list[tuple[str, dict[str, Any]]], opts: CollectOptions
) -> Iterator[Collected]:
    """Collect every (key, inspect) target; yields each as soon as it is complete (a
    :class:`Collection` started at the first `next()`)."""
    with Collection(api, targets, opts) as collection:
        for item in collection:
            yield settle(item, opts.deadline)


class Collection:
    """Every target being collected, from the moment this is made: iterate for each target
    as soon as all but its LATE pieces are in (:func:`settle` takes those); `close()` (or
    leaving the `with` block) stops asking.

    At most 2 x `jobs` targets are in flight: the next one starts when one has been taken,
    so a consumer slower than the engine (analysis is CPU work) holds the collection back
    instead of a backlog of collected logs piling up in memory.

    Stats are asked for every target when the collection starts, on a pool of their own
    (STATS_WORKERS x `jobs` at once): the engine answers a stats request at its stats
    collector's next once-a-second sample (every subscriber at once), so one asked with the
    rest of its target held a target worker for up to a second, and stats asked a few at a
    time made the run wait for one sample after another.  A target is handed over once its
    stats are in, in the order targets are ready (see __iter__).

    Past events are asked once for every target too (dockerd): the engine answers each
    events call from the same ring of recent events, so one call filtered by all targets
    gives each target what its own call gave, as of the start of the collection (when the
    targets were inspected).  Podman's endpoint has no `until`: each target asks its own.
    """

    def __init__(self, api: Any, targets: list[tuple[str, dict[str, Any]]],
                 opts: CollectOptions) -> None:
        self.api, self.targets = api, targets
        self.jobs = jobs = max(1, opts.jobs)
        if opts.scope is None:
            opts = dataclasses.replace(opts, scope=Scope.of(ins for _, ins in targets))
        self.tpool = cf.ThreadPoolExecutor(jobs, thread_name_prefix="target")
        self.ppool = cf.ThreadPoolExecutor(jobs * 6, thread_name_prefix="piece")
        self.spool = cf.ThreadPoolExecutor(jobs * STATS_WORKERS, thread_name_prefix="stats")
        if opts.product != PODMAN:  # Podman's events endpoint is asked per target (no until)
            opts = dataclasses.replace(opts, events=self.spool.submit(
                pe.ask_events, api, [ins for _, ins in targets], time.time()))
        self.opts = opts
        # Every target's stats, asked now (a target not running is answered at once).
        self.stats: dict[int, cf.Future[Outcome]] = {
            i: self.spool.submit(run_collector, "stats", key, functools.partial(
                cc.collect_stats, api, inspect), opts.deadline)
            for i, (key, inspect) in enumerate(targets)}
        self.started = 0
        self.running: set[cf.Future[Collected]] = set()
        self._fill()

    def _fill(self, waiting: int = 0) -> None:
        while (len(self.running) + waiting < 2 * self.jobs
               and self.started < len(self.targets)):
            key, inspect = self.targets[self.started]
            self.running.add(self.tpool.submit(
                collect_one, TargetAPI(self.api), key, inspect, self.opts, self.ppool,
                {"stats": self.stats.pop(self.started)}))
            self.started += 1

    def __iter__(self) -> Iterator[Collected]:
        """Targets in the order they are ready: collected, and their LATE pieces answered (a
        running container's stats wait for the engine's next sample; a target whose stats
        came is not held back by one whose stats did not); with `jobs` 1, in the order
        given.  At the deadline, what still waits is handed over as it is (settle() records
        its late pieces as late).  Targets waiting count against the 2 x `jobs` in flight:
        memory stays bounded."""
        dl = self.opts.deadline
        waiting: list[Collected] = []
        while self.running or waiting:
            expired = dl is not None and dl.expired()
            if expired and waiting:
                yield from waiting
                waiting = []
                continue
            watch: set[cf.Future[Any]] = {f for item in waiting for f in item.pending.values()}
            watch |= self.running
            done, _ = cf.wait(watch, return_when=cf.FIRST_COMPLETED,
                              timeout=None if dl is None or expired else dl.remaining())
            for fut in done & self.running:
                self.running.discard(fut)
                waiting.append(fut.result())
            ready = [i for i in waiting if all(f.done() for f in i.pending.values())]
            if self.jobs == 1:
                # One at a time means in the order given (what a secret learned from one
                # target's files before another's are written relies on): the first only.
                ready = ready[:1] if ready and ready[0] is waiting[0] else []
            for item in ready:
                waiting.remove(item)
                yield item
            self._fill(len(waiting))

    def close(self) -> None:
        """Ask nothing more.  Never waits for calls the engine does not answer (Ctrl-C, or
        collectors given up at the deadline): each ends by itself within --timeout."""
        self.tpool.shutdown(wait=False, cancel_futures=True)
        self.ppool.shutdown(wait=False, cancel_futures=True)
        self.spool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Collection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
