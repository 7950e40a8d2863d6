"""Where the engine's disk goes: dangling images, exited containers, dangling volumes, networks.

Only the low-level list endpoints are used (`docker images -f dangling=true`, `docker ps -a`,
`docker volume ls -f dangling=true`, `docker network ls`): one call each, never an inspect per
object.  Sizes come from `docker system df` (engine/df.json), which the engine computes once.
Every list is bounded (newest first) and says how many objects there were in all; only the
fields the cleanup checks and a human need are kept (no commands, no arbitrary labels), so
these files stay small and carry no secrets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from diagnose.collect.record import Deadline, Piece, dump_json, run_collector
from diagnose.evidence import layout
from diagnose.evidence.records import CollectorRecord

#: At most this many objects of each kind are listed (newest first); totals are always kept.
MAX_LISTED = 500
#: Label prefixes worth keeping (Compose project/service, the anonymous-volume marker).
_KEPT_LABEL_PREFIX = "com.docker."


def _labels(labels: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: v for k, v in (labels or {}).items() if str(k).startswith(_KEPT_LABEL_PREFIX)}


def collect_images(api: Any) -> Piece:
    """Dangling images (untagged, not an intermediate build layer), newest first."""
    dangling = list(api.images(filters={"dangling": True}) or ())
    dangling.sort(key=lambda i: int(i.get("Created") or 0), reverse=True)
    kept = [
        {"Id": i.get("Id"), "Created": i.get("Created"), "Size": i.get("Size"),
         "ParentId": i.get("ParentId"), "RepoDigests": i.get("RepoDigests") or [],
         "Labels": _labels(i.get("Labels"))}
        for i in dangling[:MAX_LISTED]
    ]
    doc = {"dangling_total": len(dangling), "truncated": len(dangling) > MAX_LISTED,
           "dangling": kept}
    return Piece({layout.ENGINE_IMAGES: dump_json(doc)}, truncated=bool(doc["truncated"]),
                 detail={"dangling": len(dangling)})


def _mounts(c: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"Type": m.get("Type"), "Name": m.get("Name"), "Destination": m.get("Destination")}
            for m in c.get("Mounts") or () if m.get("Type") == "volume"]


def collect_containers(api: Any) -> Piece:
    """Container counts by state, the exited ones (bounded), and what every container uses.

    `images_in_use` and `networks_in_use` are read from *all* containers (running or not), so
    a cleanup suggestion can never name an image or network that some container still needs.
    """
    every = list(api.containers(all=True) or ())
    by_state = Counter(str(c.get("State") or "unknown") for c in every)
    images_in_use: set[str] = set()
    net_ids: set[str] = set()
    net_names: set[str] = set()
    for c in every:
        if c.get("ImageID"):
            images_in_use.add(str(c["ImageID"]))
        for name, ep in ((c.get("NetworkSettings") or {}).get("Networks") or {}).items():
            net_names.add(str(name))
            if (ep or {}).get("NetworkID"):
                net_ids.add(str(ep["NetworkID"]))
        mode = str((c.get("HostConfig") or {}).get("NetworkMode") or "")
        if mode and not mode.startswith("container:"):
            net_names.add(mode)
    exited = [c for c in every if c.get("State") == "exited"]
    exited.sort(key=lambda c: int(c.get("Created") or 0), reverse=True)
    kept = [
        {"Id": c.get("Id"), "Names": [str(n).lstrip("/") for n in c.get("Names") or ()],
         "Image": c.get("Image"), "ImageID": c.get("ImageID"), "Created": c.get("Created"),
         "Status": c.get("Status"), "Mounts": _mounts(c), "Labels": _labels(c.get("Labels"))}
        for c in exited[:MAX_LISTED]
    ]
    doc = {
        "total": len(every),
        "by_state": dict(sorted(by_state.items())),
        "exited_total": len(exited),
        "truncated": len(exited) > MAX_LISTED,
        "exited": kept,
        "images_in_use": sorted(images_in_use),
        "networks_in_use": {"ids": sorted(net_ids), "names": sorted(net_names)},
    }
    return Piece({layout.ENGINE_CONTAINERS: dump_json(doc)}, truncated=bool(doc["truncated"]),
                 detail={"containers": len(every), "exited": len(exited)})


def collect_volumes(api: Any) -> Piece:
    """Dangling volumes (referenced by no container, running or stopped), newest first."""
    answer = api.volumes(filters={"dangling": True}) or {}
    vols = list(answer.get("Volumes") or ())
    vols.sort(key=lambda v: str(v.get("CreatedAt") or ""), reverse=True)
    kept = [
        {"Name": v.get("Name"), "Driver": v.get("Driver"), "Scope": v.get("Scope"),
         "CreatedAt": v.get("CreatedAt"), "Labels": _labels(v.get("Labels"))}
        for v in vols[:MAX_LISTED]
    ]
    doc = {"dangling_total": len(vols), "truncated": len(vols) > MAX_LISTED, "dangling": kept,
           "warnings": answer.get("Warnings") or []}
    return Piece({layout.ENGINE_VOLUMES: dump_json(doc)}, truncated=bool(doc["truncated"]),
                 detail={"dangling": len(vols)})


def collect_networks(api: Any) -> Piece:
    """Every network (`docker network ls`; the list carries no per-container detail)."""
    nets = list(api.networks() or ())
    nets.sort(key=lambda n: str(n.get("Created") or ""), reverse=True)
    kept = [
        {"Id": n.get("Id"), "Name": n.get("Name"), "Driver": n.get("Driver"),
         "Scope": n.get("Scope"), "Created": n.get("Created"), "Internal": n.get("Internal"),
         "Ingress": n.get("Ingress"), "ConfigOnly": n.get("ConfigOnly"),
         "Subnets": [c.get("Subnet") for c in (n.get("IPAM") or {}).get("Config") or ()
                     if c.get("Subnet")],
         "Labels": _labels(n.get("Labels"))}
        for n in nets[:MAX_LISTED]
    ]
    doc = {"total": len(nets), "truncated": len(nets) > MAX_LISTED, "networks": kept}
    return Piece({layout.ENGINE_NETWORKS: dump_json(doc)}, truncated=bool(doc["truncated"]),
                 detail={"networks": len(nets)})


#: Collector name (owner `engine`) -> function; names are what checks `require` as engine-NAME.
COLLECTORS = {
    "images": collect_images,
    "containers": collect_containers,
    "volumes": collect_volumes,
    "networks": collect_networks,
}


def collect_cleanup(
    api: Any, deadline: Deadline | None = None
) -> list[tuple[CollectorRecord, dict[str, bytes]]]:
    """Run every cleanup collector (each isolated: one failing never stops the others)."""
    return [run_collector(name, "engine", _bound(fn, api), deadline)
            for name, fn in COLLECTORS.items()]


def _bound(fn: Callable[[Any], Piece], api: Any) -> Callable[[], Piece]:
    return lambda: fn(api)
