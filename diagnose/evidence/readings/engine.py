"""Shared readings of the engine-wide evidence for the engine and cleanup checks (D6xx) and
the report's engine section: sizes from `docker system df`, the data root's free space, API
versions, and how big a cleanup is worth flagging.

Everything is a pure function of :class:`~diagnose.evidence.engine.EngineFacts` /
:class:`~diagnose.evidence.engine.HostFacts`; nothing here talks to the engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from diagnose.evidence.engine import EngineFacts, HostFacts
from diagnose.model.findings import Evidence, Severity
from diagnose.model.jsonview import as_list, as_map, as_maps, dig, integer
from diagnose.model.text import GiB, human_bytes

#: A reclaimable amount this large (or this share of the data root's filesystem) is a warning,
#: not just information: it is real disk, worth a cleanup now.
RECLAIM_WARNING_BYTES = 10 * GiB
RECLAIM_WARNING_SHARE = 0.10

#: Object ids/names per remediation command (long enough to be useful, short enough to read).
PER_COMMAND = 20

#: The value of `scope` in an engine file of a container run, which holds totals only (and
#: in engine/df.json the targets' own objects): see diagnose/evidence/readings/cleanup.py.
TARGETS = "targets"


def totals_only(doc: Any) -> bool:
    """Does this engine file hold totals only (the bundle of a container run)?"""
    return isinstance(doc, Mapping) and doc.get("scope") == TARGETS


def engine_evidence(path: str, pointer: str, excerpt: str) -> Evidence:
    """An evidence pointer into an engine or host file."""
    return Evidence(file=path, pointer=pointer, excerpt=excerpt)


def batched_commands(prefix: str, items: Sequence[str], per: int = PER_COMMAND) -> list[str]:
    """`prefix a b c`, split into several commands of at most `per` items each."""
    return [f"{prefix} {' '.join(items[i:i + per])}" for i in range(0, len(items), per)]


def listing(items: Sequence[str], limit: int = 12) -> str:
    """`a, b, c (+7 more)`."""
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit} more)" if len(items) > limit else "")


def short_id(image_id: Any) -> str:
    """`sha256:0123...` -> the 12-character ID `docker images` shows."""
    return str(image_id or "").removeprefix("sha256:")[:12]


# -- docker system df ------------------------------------------------------------------------


def image_sizes(engine: EngineFacts) -> dict[str, int]:
    """Image ID -> bytes its removal frees (its own layers: Size - SharedSize)."""
    out = {}
    for img in engine.df.get("Images") or ():
        size = int(img.get("Size") or 0)
        shared = int(img.get("SharedSize") if img.get("SharedSize") is not None else -1)
        out[str(img.get("Id"))] = max(size - shared, 0) if shared >= 0 else size
    return out


def container_sizes(engine: EngineFacts) -> dict[str, int]:
    """Container ID -> size of its writable layer (SizeRw)."""
    return {str(c.get("Id")): max(int(c.get("SizeRw") or 0), 0)
            for c in engine.df.get("Containers") or ()}


def volume_sizes(engine: EngineFacts) -> dict[str, int]:
    """Volume name -> bytes (local driver only; -1 when the engine could not tell)."""
    out = {}
    for v in engine.df.get("Volumes") or ():
        usage = v.get("UsageData") or {}
        out[str(v.get("Name"))] = int(usage.get("Size", -1) if usage else -1)
    return out


#: The kinds `docker system df` counts, in its order.
DF_KINDS = ("images", "containers", "volumes", "build cache")


def df_summary(df: Mapping[str, Any]) -> dict[str, tuple[int, int, int]]:
    """kind -> (count, total bytes, reclaimable bytes), computed like `docker system df`
    (a container run's df.json holds them as computed at collection)."""
    if totals_only(df):
        totals = as_map(df.get("totals"))
        return {kind: (integer(row[0]), integer(row[1]), integer(row[2]))
                for kind in DF_KINDS
                if isinstance(row := totals.get(kind), list) and len(row) == 3}
    images = as_maps(df.get("Images"))
    used = sum(integer(i.get("Size")) - integer(i.get("SharedSize")) for i in images
               if integer(i.get("Containers")) > 0 and integer(i.get("SharedSize")) >= 0)
    layers = integer(df.get("LayersSize"))
    if not layers:  # Podman answers LayersSize 0 (and SharedSize 0); its images' Size is right
        layers = sum(max(integer(i.get("Size")), 0) for i in images)
    containers = as_maps(df.get("Containers"))
    c_total = sum(max(integer(c.get("SizeRw")), 0) for c in containers)
    c_free = sum(max(integer(c.get("SizeRw")), 0) for c in containers
                 if c.get("State") != "running")
    volumes = as_maps(df.get("Volumes"))
    v_sizes = [(integer(dig(v, "UsageData", "Size"), -1),
                integer(dig(v, "UsageData", "RefCount"))) for v in volumes]
    cache = as_maps(df.get("BuildCache"))
    return {  # the order of DF_KINDS
        "images": (len(images), layers, max(layers - used, 0)),
        "containers": (len(containers), c_total, c_free),
        "volumes": (len(volumes), sum(s for s, _ in v_sizes if s > 0),
                    sum(s for s, r in v_sizes if s > 0 and r == 0)),
        "build cache": (len(cache), sum(integer(b.get("Size")) for b in cache
                                        if not b.get("Shared")),
                        build_cache_reclaimable(cache)),
    }


def build_cache_reclaimable(cache: Iterable[Mapping[str, Any]]) -> int:
    """Bytes of build cache neither in use nor shared (what `docker system df` reclaims)."""
    return sum(integer(b.get("Size")) for b in cache
               if isinstance(b, Mapping) and not b.get("InUse") and not b.get("Shared"))


def disk_usage_line(df: Mapping[str, Any]) -> str:
    """One line for the report's engine section ('' when df was not collected)."""
    if not df:
        return ""
    parts = []
    for kind, (count, total, free) in df_summary(df).items():
        parts.append(f"{kind} {count} ({human_bytes(total)}, {human_bytes(free)} reclaimable)")
    return "; ".join(parts)


def storage_status(info: Mapping[str, Any]) -> str:
    """The storage driver's own facts (`Backing Filesystem: extfs, Supports d_type: true`)."""
    pairs = [f"{k}: {v}" for k, v in (tuple(p) for p in as_list(info.get("DriverStatus"))
                                      if isinstance(p, list | tuple) and len(p) == 2)]
    return ", ".join(pairs)


# -- the data root ---------------------------------------------------------------------------


def data_root(host: HostFacts) -> Mapping[str, Any] | None:
    """host/host.json's measurement of the engine's data root (None when not measured)."""
    root = host.data.get("data_root")
    if not isinstance(root, Mapping) or "free" not in root:
        return None
    return root


def free_share(root: Mapping[str, Any]) -> float:
    """Free bytes as a share of what non-root users can use (like `df`: used + free)."""
    used, free = int(root.get("used") or 0), int(root.get("free") or 0)
    return free / (used + free) if used + free > 0 else 1.0


#: The data root is low on space below 10% or 5 GiB free (a warning), critically below 5%.
DISK_WARNING_SHARE = 0.10
DISK_WARNING_BYTES = 5 * GiB
DISK_ERROR_SHARE = 0.05


def disk_low(host: HostFacts) -> bool:
    """Is the data root's filesystem below the warning thresholds of `engine-disk-low`?"""
    root = data_root(host)
    if root is None:
        return False
    return (free_share(root) < DISK_WARNING_SHARE
            or int(root.get("free") or 0) < DISK_WARNING_BYTES)


def reclaim_severity(reclaimable: int, host: HostFacts) -> Severity:
    """Cleanup findings are information, a warning once the space is worth having back:
    at least 10 GiB, or 10% of the data root's filesystem, or whenever the disk is low."""
    root = data_root(host)
    total = int(root.get("total") or 0) if root else 0
    if reclaimable >= RECLAIM_WARNING_BYTES or (reclaimable > 0 and disk_low(host)):
        return Severity.WARNING
    if total and reclaimable >= RECLAIM_WARNING_SHARE * total:
        return Severity.WARNING
    return Severity.INFO


# -- API versions ----------------------------------------------------------------------------


def api_minor(value: Any) -> int | None:
    """`1.41` -> 41 (None for anything that is not a 1.x API version)."""
    m = re.fullmatch(r"1\.(\d+)", str(value or "").strip())
    return int(m.group(1)) if m else None
