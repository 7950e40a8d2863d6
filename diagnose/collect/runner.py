"""Collect every target concurrently on bounded pools, through one shared client.

Targets run on a pool of `--jobs` workers; the pieces of one target (logs, top, history,
events, diff, stats, networks, probe...) run concurrently on a second pool, so one slow piece
never holds up the rest.  Results are handed back in completion order for the caller to
redact, analyse and stream into the archive.
"""

from __future__ import annotations

import concurrent.futures as cf
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from docker.errors import NotFound

from diagnose import layout
from diagnose.collect import container as cc
from diagnose.collect.host import collect_processes
from diagnose.collect.override import collect_override
from diagnose.collect.ports import collect_port_holders
from diagnose.collect.record import Deadline, Piece, run_collector
from diagnose.snapshot import CollectorRecord


@dataclass(frozen=True)
class CollectOptions:
    """What and how much to collect."""

    logs: cc.LogOptions = field(default_factory=cc.LogOptions)
    jobs: int = 4
    local: bool = True
    engine_arch: str = ""
    deadline: Deadline | None = None
    probe: bool = False


@dataclass
class Collected:
    """One target's raw evidence: files relative to its directory, and collector records."""

    key: str
    inspect: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    records: dict[str, CollectorRecord] = field(default_factory=dict)

    def take(self, record: CollectorRecord, files: Mapping[str, bytes]) -> None:
        """Store one collector's outcome."""
        self.records[record.name] = record
        self.files.update(files)


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("Status", "StartedAt", "FinishedAt", "Pid")
    b, a = before.get("State") or {}, after.get("State") or {}
    changed = {k: [b.get(k), a.get(k)] for k in keys if b.get(k) != a.get(k)}
    if before.get("RestartCount") != after.get("RestartCount"):
        changed["RestartCount"] = [before.get("RestartCount"), after.get("RestartCount")]
    return changed


def collect_one(
    api: Any, key: str, inspect: dict[str, Any], opts: CollectOptions, pool: cf.Executor
) -> Collected:
    """All collectors for one container.  Never raises: failures become records."""
    out = Collected(key, inspect)
    dl = opts.deadline
    cid = inspect["Id"]
    out.take(*run_collector("inspect", key, lambda: Piece({layout.INSPECT: cc.dump_json(inspect)}),
                            dl))

    image: dict[str, Any] = {}

    def image_piece() -> Piece:
        nonlocal image
        image, piece = cc.collect_image(api, inspect)
        return piece

    out.take(*run_collector("image", key, image_piece, dl))
    started = time.time()
    jobs: dict[str, Callable[[], Piece]] = {
        "logs": lambda: cc.collect_logs(api, inspect, opts.logs),
        "top": lambda: cc.collect_top(api, inspect),
        "processes": lambda: collect_processes(inspect, opts.local),
        "history": lambda: cc.collect_history(api, inspect),
        "events": lambda: cc.collect_events(api, inspect, started),
        "diff": lambda: cc.collect_diff(api, inspect),
        "stats": lambda: cc.collect_stats(api, inspect),
        "networks": lambda: cc.collect_networks(api, inspect),
        "mounts": lambda: cc.collect_mounts(inspect, opts.local),
        "entrypoint": lambda: cc.collect_entrypoint(api, inspect, image, opts.engine_arch),
        "ports": lambda: collect_port_holders(api, inspect, opts.local),
    }
    futures = {name: pool.submit(run_collector, name, key, fn, dl) for name, fn in jobs.items()}
    for name in jobs:
        out.take(*futures[name].result())
    # The override probe plans from the static probe, so it runs once that is done.
    out.take(*run_collector("probe", key, lambda: collect_override(
        api, inspect, out.files.get(layout.ENTRYPOINT), opts.probe), dl))

    # Did the container change (restart, stop, removal) while we looked?  Recorded, not hidden.
    try:
        after = api.inspect_container(cid)
        changed = _changes(inspect, after)
    except NotFound:
        changed = {"removed": True}
    except Exception as exc:  # the engine went away mid-run: recorded, the rest is kept
        changed = {"recheck_failed": f"{type(exc).__name__}: {exc}"}
    if changed:
        rec = out.records["inspect"]
        out.records["inspect"] = CollectorRecord(
            rec.name, rec.owner, rec.status, "container changed while being collected",
            rec.duration_ms, rec.bytes, rec.truncated, rec.files,
            {**rec.detail, "changed_during_collection": changed},
        )
    return out


def collect_all(
    api: Any, targets: list[tuple[str, dict[str, Any]]], opts: CollectOptions
) -> Iterator[Collected]:
    """Collect every (key, inspect) target; yields each as soon as it is complete."""
    jobs = max(1, opts.jobs)
    with (
        cf.ThreadPoolExecutor(jobs, thread_name_prefix="target") as tpool,
        cf.ThreadPoolExecutor(jobs * 6, thread_name_prefix="piece") as ppool,
    ):
        futures = [tpool.submit(collect_one, api, key, ins, opts, ppool) for key, ins in targets]
        try:
            for fut in cf.as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()
