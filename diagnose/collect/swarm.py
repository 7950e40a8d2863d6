"""Collect one Swarm service through a manager: spec, task counts, every task, the nodes, and
the service logs of every task on every node.

Everything is read-only (inspect, list and log endpoints of the Engine API, low-level client).
What a person would run by hand:

    docker service inspect NAME            -> service.json (with UpdateStatus)
    docker service ls --filter id=ID       -> status.json (running/desired counts, API 1.41+)
    docker service ps --no-trunc NAME      -> tasks.json (current and past, every field)
    docker node ls                         -> nodes.json (state, availability, resources)
    docker service logs --details -t NAME  -> logs/stdout.log, logs/stderr.log
"""

from __future__ import annotations

import concurrent.futures as cf
import difflib
import heapq
import itertools
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from docker.errors import APIError, NotFound

from diagnose.collect.container import LogOptions
from diagnose.collect.record import Deadline, Piece, Skip, dump_json, run_collector
from diagnose.evidence import layout
from diagnose.evidence.records import CollectorRecord
from diagnose.model.errors import AmbiguousTarget, TargetNotFound, UsageError
from diagnose.model.times import stamp_key

#: Local task containers given the full per-container diagnosis, newest first.
MAX_TASK_CONTAINERS = 12


# -- is this a manager? -------------------------------------------------------------------------


def require_manager(info: Mapping[str, Any], where: str) -> str:
    """The node ID of a swarm manager from `docker info`; a UsageError (exit 2) with what to do
    when the engine is not one: not in a swarm, a worker, locked, joining or in error."""
    swarm = info.get("Swarm") or {}
    state = str(swarm.get("LocalNodeState") or "inactive")
    hint = ("`diagnose service` reads services through a swarm manager: point --host or "
            "--context at one (`docker node ls` on a manager lists them)")
    if state == "inactive":
        raise UsageError(f"the engine at {where} is not part of a swarm (Swarm: inactive), "
                         "so it has no services", hint)
    if state == "locked":
        raise UsageError(f"the swarm manager at {where} is locked (autolock)",
                         "unlock it with `docker swarm unlock` and the unlock key, then retry")
    if state != "active":
        detail = f": {swarm.get('Error')}" if swarm.get("Error") else ""
        raise UsageError(f"the engine at {where} is not an active swarm member "
                         f"(Swarm: {state}{detail})", hint)
    if not swarm.get("ControlAvailable"):
        managers = ", ".join(str(m.get("Addr", "")) for m in swarm.get("RemoteManagers") or ()
                             if m.get("Addr"))
        raise UsageError(f"the engine at {where} is a swarm worker, not a manager",
                         f"{hint}" + (f"; this swarm's managers: {managers}" if managers
                                      else ""))
    return str(swarm.get("NodeID") or "")


# -- which service ------------------------------------------------------------------------------


def _name(svc: Mapping[str, Any]) -> str:
    return str((svc.get("Spec") or {}).get("Name", ""))


def service_suggestions(ref: str, listing: Sequence[Mapping[str, Any]], limit: int = 5
                        ) -> list[str]:
    """Service names a person who typed `ref` probably meant: names containing it (a stack's
    `shop_web` for `web`), shortest first, then names within a typo of it."""
    names = sorted({_name(s) for s in listing if _name(s)})
    low = ref.lower()
    containing = sorted((n for n in names if low in n.lower()), key=lambda n: (len(n), n))
    close = difflib.get_close_matches(ref, names, n=limit, cutoff=0.6)
    return list(dict.fromkeys([*containing[:limit], *close]))[:limit]


def resolve_service(api: Any, ref: str) -> dict[str, Any]:
    """Inspect one service by name, ID or unique ID prefix, or explain why not."""
    ref = ref.strip()
    if not ref:
        raise TargetNotFound("an empty service name was given", "name a service")
    try:
        # With defaults filled in, as `docker service inspect` prints it (restart, update and
        # rollback policies the engine applies although the spec leaves them out).
        return dict(api.inspect_service(ref, insert_defaults=True))
    except NotFound:
        pass
    except APIError as exc:
        text = str(exc.explanation or exc)
        if "ambiguous" in text.lower() or "multiple" in text.lower():
            raise AmbiguousTarget(f"service {ref!r} is ambiguous: {text}",
                                  "give the full name or more characters of the ID") from exc
        raise
    close = service_suggestions(ref, api.services())
    hint = (f"did you mean {', '.join(close)}? (`docker service ls` lists them all)" if close
            else "`docker service ls` lists services")
    raise TargetNotFound(f"no such service: {ref}", hint)


# -- the collectors -----------------------------------------------------------------------------


def _slot_key(task: Mapping[str, Any]) -> tuple[int, str]:
    slot = task.get("Slot")
    return (slot, "") if isinstance(slot, int) and slot else (1 << 30, str(task.get("NodeID")))


def sort_tasks(tasks: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """`docker service ps` order: by slot (global: by node), newest first within each."""
    newest_first = sorted(tasks, key=lambda t: stamp_key(str(t.get("CreatedAt", ""))),
                          reverse=True)
    return sorted(newest_first, key=_slot_key)


def collect_tasks(api: Any, service_id: str) -> tuple[list[Mapping[str, Any]], Piece]:
    """Every task the managers keep for the service (the running ones and the history)."""
    tasks = sort_tasks(api.tasks(filters={"service": service_id}))
    states: dict[str, int] = {}
    for t in tasks:
        st = str((t.get("Status") or {}).get("State", ""))
        states[st] = states.get(st, 0) + 1
    return tasks, Piece({layout.SERVICE_TASKS: dump_json(tasks)},
                        detail={"tasks": len(tasks), "states": states})


def collect_status(api: Any, service_id: str) -> Piece:
    """Running/desired/completed task counts as `docker service ls` shows them."""
    version = str(getattr(api, "_version", "") or "")
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        major, minor = 0, 0
    if (major, minor) < (1, 41):
        raise Skip(f"the engine API {version or '?'} predates service status (API 1.41)")
    found = [s for s in api.services(filters={"id": service_id}, status=True)
             if s.get("ID") == service_id]
    if not found:
        raise Skip("the service was removed while being collected")
    doc = {"ID": service_id, "ServiceStatus": found[0].get("ServiceStatus") or {}}
    return Piece({layout.SERVICE_STATUS: dump_json(doc)})


def collect_nodes(api: Any) -> Piece:
    """Every node: role, state, availability, resources, engine labels."""
    nodes = list(api.nodes())
    down = sum(1 for n in nodes if (n.get("Status") or {}).get("State") != "ready")
    return Piece({layout.SERVICE_NODES: dump_json(nodes)},
                 detail={"nodes": len(nodes), "not_ready": down})


class NewestLines:
    """The newest log lines (by their timestamp) that fit in `cap` bytes.

    A service log arrives from several tasks and nodes interleaved, not in time order, so
    "the last bytes" of the stream are not the latest lines: keep the latest by timestamp,
    drop the oldest, and write them back in time order (memory: about `cap`).
    """

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.heap: list[tuple[str, int, bytes]] = []
        self.size = 0
        self.total = 0
        self.dropped = 0
        self._seq = itertools.count()
        self._partial = b""

    def feed(self, chunk: bytes) -> None:
        """Take a chunk of the stream (lines may be split across chunks)."""
        self.total += len(chunk)
        data = self._partial + chunk
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            self._add(line + b"\n")

    def _add(self, line: bytes) -> None:
        stamp = line.split(b" ", 1)[0].decode("ascii", "replace") if line[:4].isdigit() else ""
        heapq.heappush(self.heap, (stamp_key(stamp), next(self._seq), line))
        self.size += len(line)
        while self.size > self.cap and len(self.heap) > 1:
            _, _, old = heapq.heappop(self.heap)
            self.size -= len(old)
            self.dropped += 1

    def result(self) -> tuple[bytes, bool, int]:
        """(the kept lines in time order, whether any were dropped, bytes seen)."""
        if self._partial:
            self._add(self._partial + b"\n")
            self._partial = b""
        lines = [line for _, _, line in sorted(self.heap)]
        return b"".join(lines), self.dropped > 0, self.total


def _frames(raw: Any, tty: bool) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) of a multiplexed log response (a TTY log is all stdout)."""
    if tty:
        for chunk in raw.stream(64 * 1024, decode_content=False):
            yield 1, chunk
        return
    while True:
        header = raw.read(8)
        if len(header) < 8:
            return
        kind, length = struct.unpack(">BxxxL", header)
        data = raw.read(length) if length else b""
        if length and not data:
            return
        yield kind, data


def collect_service_logs(api: Any, service: Mapping[str, Any], opts: LogOptions) -> Piece:
    """stdout and stderr of every task on every node, through the manager, kept apart, with
    timestamps and the task each line came from (`--details`), bounded by --tail (per task),
    --since and the byte cap per stream (the newest lines are kept)."""
    template = (service.get("Spec") or {}).get("TaskTemplate") or {}
    driver = str((template.get("LogDriver") or {}).get("Name") or "")
    if driver == "none":
        raise Skip("logging driver 'none' keeps no logs")
    tty = bool((template.get("ContainerSpec") or {}).get("TTY"))
    params: dict[str, Any] = {"details": 1, "follow": 0, "stdout": 1, "stderr": 1,
                              "timestamps": 1,
                              "tail": "all" if opts.tail is None else opts.tail}
    if opts.since is not None:
        params["since"] = f"{opts.since:.9f}"
    response = api._get(api._url("/services/{0}/logs", service["ID"]), params=params,
                        stream=True)
    api._raise_for_status(response)
    bufs = {1: NewestLines(opts.max_bytes), 2: NewestLines(opts.max_bytes)}
    try:
        for kind, data in _frames(response.raw, tty):
            bufs.get(kind, bufs[1]).feed(data)
    finally:
        response.close()
    files: dict[str, bytes] = {}
    detail: dict[str, Any] = {"driver": driver or "(engine default)", "tail_per_task": opts.tail,
                              "since": opts.since, "max_bytes": opts.max_bytes}
    truncated = False
    for stream, rel, buf in (("stdout", layout.LOG_STDOUT, bufs[1]),
                             ("stderr", layout.LOG_STDERR, bufs[2])):
        data, cut, total = buf.result()
        files[rel] = data
        detail[stream] = {"bytes": len(data), "bytes_seen": total, "lines": data.count(b"\n"),
                          "truncated_by_bytes": cut}
        truncated = truncated or cut
    if tty:
        detail["tty"] = "TTY services merge stderr into stdout"
    return Piece(files, truncated, detail)


def collect_service(
    api: Any, service: Mapping[str, Any], owner: str, logs: LogOptions,
    deadline: Deadline | None = None,
) -> tuple[dict[str, CollectorRecord], dict[str, bytes], list[Mapping[str, Any]]]:
    """Every service collector, concurrently: (records, files, tasks as collected)."""
    sid = str(service["ID"])
    tasks: list[Mapping[str, Any]] = []

    def tasks_piece() -> Piece:
        nonlocal tasks
        tasks, piece = collect_tasks(api, sid)
        return piece

    jobs: dict[str, Callable[[], Piece]] = {
        "service": lambda: Piece({layout.SERVICE_SPEC: dump_json(service)}),
        "status": lambda: collect_status(api, sid),
        "tasks": tasks_piece,
        "nodes": lambda: collect_nodes(api),
        "logs": lambda: collect_service_logs(api, service, logs),
    }
    records: dict[str, CollectorRecord] = {}
    files: dict[str, bytes] = {}
    pool = cf.ThreadPoolExecutor(len(jobs), thread_name_prefix="service")
    try:
        futures = {name: pool.submit(run_collector, name, owner, fn, deadline)
                   for name, fn in jobs.items()}
        for name, fut in futures.items():
            try:
                rec, got = fut.result(timeout=deadline.remaining() if deadline else None)
            except cf.TimeoutError:
                rec, got = CollectorRecord(name, owner, "failed", "overall --deadline reached "
                                           "before it finished"), {}
            records[name] = rec
            files.update(got)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return records, files, tasks


def local_task_containers(
    api: Any, tasks: Iterable[Mapping[str, Any]], node_id: str,
    limit: int = MAX_TASK_CONTAINERS,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Inspect the containers of the tasks that ran on this engine's own node (newest first,
    at most `limit`); the others live on other nodes, out of this engine's reach.  Returns the
    inspects and what was left out, for the record."""
    mine = [t for t in tasks if t.get("NodeID") == node_id and
            ((t.get("Status") or {}).get("ContainerStatus") or {}).get("ContainerID")]
    mine.sort(key=lambda t: stamp_key(str(t.get("CreatedAt", ""))), reverse=True)
    out: list[dict[str, Any]] = []
    gone: list[str] = []
    for t in mine[:limit]:
        cid = str(t["Status"]["ContainerStatus"]["ContainerID"])
        try:
            out.append(dict(api.inspect_container(cid)))
        except NotFound:
            gone.append(str(t.get("ID", ""))[:12])
    other = sum(1 for t in tasks if t.get("NodeID") and t.get("NodeID") != node_id)
    return out, {"local_tasks_with_containers": len(mine), "diagnosed": len(out),
                 "containers_gone": gone, "beyond_limit": max(0, len(mine) - limit),
                 "tasks_on_other_nodes": other}
