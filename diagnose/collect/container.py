"""Per-container collectors: everything `docker inspect/logs/top/history/diff/stats` would
show by hand, plus networks, mounts, the host-side process tree and the entrypoint probe
(past events: :mod:`diagnose.collect.past_events`).

Every collector is read-only: none starts, stops, execs in or otherwise alters the container.
"""

from __future__ import annotations

import collections
import functools
import itertools
import operator
import os
import struct
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from docker.errors import NotFound

from diagnose.collect.memo import Memo
from diagnose.collect.probe import probe_entrypoint
from diagnose.collect.record import Piece, Skip, dump_json
from diagnose.collect.scope import Scope
from diagnose.evidence import layout
from diagnose.model.limits import MAX_DIFF_ENTRIES


@dataclass(frozen=True)
class LogOptions:
    """How much log to take: `tail` lines (None = all), `since`, and a byte cap per stream."""

    tail: int | None = 2000
    since: float | None = None
    max_bytes: int = 8 * 1024 * 1024


class TailBuffer:
    """The *last* `cap` bytes of a stream fed chunk by chunk (memory: about `cap` + a chunk)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.kept: collections.deque[bytes] = collections.deque()
        self.size = 0
        self.total = 0
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        """Take one chunk, dropping the oldest whole chunks beyond the cap."""
        if not chunk:
            return
        self.kept.append(chunk)
        self.size += len(chunk)
        self.total += len(chunk)
        while self.size - len(self.kept[0]) >= self.cap and len(self.kept) > 1:
            self.size -= len(self.kept.popleft())
            self.truncated = True

    def result(self) -> tuple[bytes, bool, int]:
        """(data starting at a line boundary when cut, truncated, total bytes seen)."""
        data = b"".join(self.kept)
        truncated = self.truncated
        if len(data) > self.cap:
            data = data[-self.cap:]
            truncated = True
        if truncated:
            cut = data.find(b"\n")
            if 0 <= cut < len(data) - 1:
                data = data[cut + 1 :]
        return data, truncated, self.total


def collect_logs(api: Any, inspect: Mapping[str, Any], opts: LogOptions) -> Piece:
    """stdout and stderr kept apart, with timestamps, under --tail, --since and the byte cap."""
    driver = ((inspect.get("HostConfig") or {}).get("LogConfig") or {}).get("Type", "")
    if driver in ("none",):
        raise Skip(f"logging driver {driver!r} keeps no logs")
    cid = inspect["Id"]
    files: dict[str, bytes] = {}
    detail: dict[str, Any] = {"driver": driver, "tail": opts.tail, "since": opts.since,
                              "max_bytes": opts.max_bytes}
    truncated = False
    lines_total = 0
    tty = bool((inspect.get("Config") or {}).get("Tty"))
    results = _both_streams(api, cid, opts, tty)
    for stream, rel in (("stdout", layout.LOG_STDOUT), ("stderr", layout.LOG_STDERR)):
        data, cut, total = results[stream]
        files[rel] = data
        lines = data.count(b"\n")
        lines_total += lines
        detail[stream] = {"bytes": len(data), "bytes_seen": total, "lines": lines,
                          "truncated_by_bytes": cut}
        truncated = truncated or cut
    if tty:
        detail["tty"] = "TTY containers merge stderr into stdout"
    if opts.tail is not None and lines_total >= opts.tail:
        detail["tail_reached"] = True
        truncated = True
    return Piece(files, truncated, detail)


def _both_streams(api: Any, cid: str, opts: LogOptions, tty: bool
                  ) -> dict[str, tuple[bytes, bool, int]]:
    """The log in ONE request, split by the multiplexed frame headers (what the docker CLI
    does; a TTY log is all stdout).

    The engine applies --tail to both streams together and filters afterwards, so this is
    exactly what `docker logs --tail N` shows per stream.  Two filtered requests would make
    the engine read a huge json-file log twice, and the stderr one would send nothing for as
    long as that scan takes.  Frames are split from 64 KiB reads: docker-py's stream helper
    reads each frame with two small reads, which costs more than the engine's own work.
    """
    params: dict[str, Any] = {"stdout": 1, "stderr": 1, "timestamps": 1, "follow": 0,
                              "tail": "all" if opts.tail is None else opts.tail}
    if opts.since is not None:
        params["since"] = opts.since
    response = api._get(api._url("/containers/{0}/logs", cid), params=params, stream=True)
    api._raise_for_status(response)
    bufs = {1: TailBuffer(opts.max_bytes), 2: TailBuffer(opts.max_bytes)}
    try:
        # read(), not stream(): the engine flushes every log line as an HTTP chunk of its
        # own, and stream() hands each one over separately (2,000 handovers per log).
        raw = response.raw
        chunks = iter(lambda: raw.read(64 * 1024, decode_content=False), b"")
        if tty:
            for chunk in chunks:
                bufs[1].add(chunk)
        else:
            for kind, data in demux_runs(chunks):
                bufs.get(kind, bufs[1]).add(data)
    finally:
        response.close()
    return {"stdout": bufs[1].result(), "stderr": bufs[2].result()}


_HEADER = struct.Struct(">BxxxL")


def _frames(chunks: Iterable[bytes]) -> Iterator[list[tuple[int, bytes]]]:
    """The Engine API's multiplexed stream (8-byte header: stream id, 3 zero bytes, big-endian
    length; then the payload) as the (stream id, payload) frames each chunk completes,
    whatever the chunking (a frame cut at the end of the stream is dropped)."""
    pending = b""
    unpack = _HEADER.unpack_from
    for chunk in chunks:
        pending = pending + chunk if pending else chunk
        pos = 0
        end = len(pending)
        frames = []
        while end - pos >= 8:
            kind, length = unpack(pending, pos)
            stop = pos + 8 + length
            if stop > end:
                break
            frames.append((kind, pending[pos + 8:stop]))
            pos = stop
        pending = pending[pos:]
        yield frames


def demux(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Split the multiplexed stream into (stream id, payload), frame by frame."""
    for frames in _frames(chunks):
        yield from frames


def demux_runs(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """:func:`demux` with the consecutive frames of one stream in each chunk joined: the same
    bytes per stream, in the same order, as a few items per read instead of one per frame.
    The engine sends every log line as a frame of its own, and a log keeps only each
    stream's bytes: handing 2,000 frames one by one to the tail buffers cost more CPU than
    reading them (docs/performance.md)."""
    for frames in _frames(chunks):
        for kind, run in itertools.groupby(frames, key=_KIND):
            yield kind, b"".join(map(_PAYLOAD, run))


_KIND, _PAYLOAD = operator.itemgetter(0), operator.itemgetter(1)


def _is_running(inspect: Mapping[str, Any]) -> bool:
    state = inspect.get("State") or {}
    return bool(state.get("Running")) and not state.get("Restarting")


#: `docker top` columns Podman reads from the host (psgo's AIX-format descriptors).  Without
#: ps_args, or with ps options such as `-ef`, Podman runs `ps` INSIDE the container (an exec in
#: the target, which diagnose never does, and which fails on images without ps).
PODMAN_TOP_ARGS = "user,pid,ppid,hpid,state,args"


def collect_top(api: Any, inspect: Mapping[str, Any], podman: bool = False) -> Piece:
    """`docker top` (the engine runs ps on the host; zombies are not visible this way)."""
    if not _is_running(inspect):
        raise Skip(f"container is {(inspect.get('State') or {}).get('Status')}, not running")
    if podman:
        return Piece({layout.TOP: dump_json(api.top(inspect["Id"], ps_args=PODMAN_TOP_ARGS))},
                     detail={"ps_args": PODMAN_TOP_ARGS,
                             "why": "Podman execs ps in the container unless given these"})
    return Piece({layout.TOP: dump_json(api.top(inspect["Id"]))})


def collect_image(api: Any, inspect: Mapping[str, Any], memo: Memo | None = None
                  ) -> tuple[dict[str, Any], Piece]:
    """Image inspect and `docker image history` (full commands)."""
    image_id = inspect.get("Image") or (inspect.get("Config") or {}).get("Image")
    if not image_id:
        raise Skip("container names no image")
    image = (memo or Memo()).get("image", str(image_id), lambda: api.inspect_image(image_id))
    return image, Piece({layout.IMAGE_INSPECT: dump_json(image)})


def collect_history(api: Any, inspect: Mapping[str, Any], memo: Memo | None = None) -> Piece:
    """`docker image history --no-trunc` as the Engine API returns it."""
    image_id = inspect.get("Image")
    if not image_id:
        raise Skip("container names no image")
    history = (memo or Memo()).get("history", str(image_id), lambda: api.history(image_id))
    return Piece({layout.IMAGE_HISTORY: dump_json(history)})


def collect_diff(api: Any, inspect: Mapping[str, Any]) -> Piece:
    """`docker diff`: files added (1), changed (0) or deleted (2) in the writable layer (the
    first MAX_DIFF_ENTRIES, in the engine's order)."""
    changes = api.diff(inspect["Id"]) or []
    kept = changes[:MAX_DIFF_ENTRIES]
    detail: dict[str, Any] = {"changes": len(changes)}
    if len(kept) < len(changes):
        detail["kept"] = len(kept)
    return Piece({layout.DIFF: dump_json(kept)}, truncated=len(kept) < len(changes),
                 detail=detail)


def collect_stats(api: Any, inspect: Mapping[str, Any]) -> Piece:
    """One stats sample without the 2 s priming wait (`one-shot`, API >= 1.41)."""
    if not _is_running(inspect):
        raise Skip(f"container is {(inspect.get('State') or {}).get('Status')}, not running")
    try:
        stats = api.stats(inspect["Id"], stream=False, one_shot=True)
    except Exception as exc:  # API < 1.41 has no one-shot: fall back to a plain sample
        if "one_shot" not in str(exc) and "1.41" not in str(exc):
            raise
        stats = api.stats(inspect["Id"], stream=False)
    return Piece({layout.STATS: dump_json(stats)})


_BUILTIN_MODES = ("bridge", "host", "none", "default", "")


def collect_networks(api: Any, inspect: Mapping[str, Any], memo: Memo | None = None,
                     scope: Scope | None = None) -> Piece:
    """Each network the container is attached to (or names), and whether it still exists.

    Asked once per network per run (`memo`): a fleet shares a few networks, and a default
    bridge with a hundred containers is a large answer to parse a hundred times.  Of the
    containers attached to it, only those in `scope` (the run's targets; every one in
    `diagnose --all`) keep their names and addresses; the others are only counted
    (`other_containers`), before the answer is kept."""
    memo = memo or Memo()
    scope = scope or Scope.of([inspect])
    settings = (inspect.get("NetworkSettings") or {}).get("Networks") or {}
    wanted: dict[str, str] = {name: (n or {}).get("NetworkID") or name
                              for name, n in settings.items()}
    mode = str((inspect.get("HostConfig") or {}).get("NetworkMode") or "")
    if mode not in _BUILTIN_MODES and not mode.startswith("container:") and mode not in wanted:
        wanted[mode] = mode
    out: dict[str, Any] = {}
    for name, ref in wanted.items():
        try:
            net, others = memo.get("network", ref or name,
                                   functools.partial(_network, api, scope, ref or name))
            out[name] = {"found": True, "id": net.get("Id"), "inspect": net}
            if not scope.whole_engine:
                out[name]["other_containers"] = others
        except NotFound as exc:
            out[name] = {"found": False, "ref": ref, "error": exc.explanation or str(exc)}
    return Piece({layout.NETWORKS: dump_json(out)}, detail={"networks": len(out)})


def _network(api: Any, scope: Scope, ref: str) -> tuple[dict[str, Any], int]:
    return scope.members(api.inspect_network(ref))


def collect_mounts(inspect: Mapping[str, Any], local: bool) -> Piece:
    """Mounts, and for bind mounts on a local engine whether the host source exists."""
    mounts = []
    declared = {
        str(b).split(":", 1)[0]
        for b in ((inspect.get("HostConfig") or {}).get("Binds") or ())
    }
    for hc_mount in (inspect.get("HostConfig") or {}).get("Mounts") or ():
        if hc_mount.get("Type") == "bind" and hc_mount.get("Source"):
            declared.add(str(hc_mount["Source"]))
    sources = {str(m.get("Source")) for m in inspect.get("Mounts") or ()}
    for m in inspect.get("Mounts") or ():
        item = dict(m)
        if local and m.get("Type") == "bind" and m.get("Source"):
            item["source_exists"] = os.path.exists(str(m["Source"]))
            item["source_kind"] = _kind(str(m["Source"]))
        mounts.append(item)
    # HostConfig.Mounts entries that never made it into .Mounts (the container never started).
    for hc_mount in (inspect.get("HostConfig") or {}).get("Mounts") or ():
        src = str(hc_mount.get("Source") or "")
        if hc_mount.get("Type") == "bind" and src and src not in sources:
            item = {"Type": "bind", "Source": src, "Destination": hc_mount.get("Target"),
                    "RW": not hc_mount.get("ReadOnly", False), "declared_only": True}
            if local:
                item["source_exists"] = os.path.exists(src)
                item["source_kind"] = _kind(src)
            mounts.append(item)
    return Piece({layout.MOUNTS: dump_json(mounts)},
                 detail={"mounts": len(mounts), "checked_on_host": local,
                         "declared_sources": sorted(declared)})


def _kind(path: str) -> str:
    if os.path.isdir(path):
        return "directory"
    if os.path.isfile(path):
        return "file"
    if os.path.lexists(path):
        return "other"
    return "missing"


def collect_entrypoint(
    api: Any, inspect: Mapping[str, Any], image: Mapping[str, Any], arch: str,
    memo: Memo | None = None,
) -> Piece:
    """The static entrypoint probe (reads files through the archive endpoint, runs nothing)."""
    status = (inspect.get("State") or {}).get("Status")
    if status in ("dead", "removing"):
        raise Skip(f"container is {status}: its filesystem cannot be read")
    result = probe_entrypoint(api, inspect, image, arch, memo)
    return Piece({layout.ENTRYPOINT: dump_json(result)},
                 detail={"archive_calls": result.get("archive_calls", 0)})
