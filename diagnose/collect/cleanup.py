"""Where the engine's disk goes: dangling images, exited containers, dangling volumes, networks.

Only the low-level list endpoints are used (`docker images -f dangling=true`, `docker ps -a`,
`docker volume ls -f dangling=true`, `docker network ls`): one call each, never an inspect per
object.  Sizes come from `docker system df` (engine/df.json), which the engine computes once.
Every list is bounded (newest first) and says how many objects there were in all; only the
fields the cleanup checks and a human need are kept (no commands, no arbitrary labels), so
these files stay small and carry no secrets.

That is the view of `diagnose engine` and `--all`, which asked about the whole engine.  Any
other run (a :class:`~diagnose.collect.scope.Scope` of targets) keeps only the totals of these
lists and of `docker system df` (counted by :mod:`diagnose.evidence.readings.cleanup`, as the
checks count the full lists) and, in df.json, the targets' own objects: the full answers are
reduced here, as they arrive, and never reach redaction, analysis or the bundle.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from diagnose.collect.engine_facts import collect_df
from diagnose.collect.record import Deadline, Piece, dump_json, oversized, run_collector
from diagnose.collect.scope import Scope
from diagnose.evidence import layout
from diagnose.evidence.engine import EngineFacts
from diagnose.evidence.readings.cleanup import totals_documents
from diagnose.evidence.readings.engine import TARGETS, df_summary
from diagnose.evidence.records import CollectorRecord, CollectorStatus
from diagnose.model.jsonview import as_maps

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
#: Every collector of the engine's usage, `docker system df` first (the bundle's order).
USAGE = ("df", *COLLECTORS)


def collect_cleanup(api: Any, deadline: Deadline | None = None, scope: Scope | None = None
                    ) -> list[tuple[CollectorRecord, dict[str, bytes]]]:
    """`docker system df` and every cleanup list, each isolated (one failing never stops the
    others).  Out of the whole engine's scope (a container run), only their totals and the
    targets' own objects are kept: see :func:`scoped`."""
    scope = scope or Scope.engine()
    whole = scope.whole_engine
    # df (the engine sizes everything: the slow one) alongside the lists.
    with cf.ThreadPoolExecutor(1, thread_name_prefix="df") as pool:
        df = pool.submit(run_collector, "df", "engine", lambda: collect_df(api), deadline, whole)
        lists = [run_collector(name, "engine", _bound(fn, api), deadline, bounded=whole)
                 for name, fn in COLLECTORS.items()]
        got = [df.result(), *lists]
    return got if whole else scoped(got, scope)


def scoped(got: list[tuple[CollectorRecord, dict[str, bytes]]], scope: Scope
           ) -> list[tuple[CollectorRecord, dict[str, bytes]]]:
    """The usage files of a container run: the full answers, read moments ago, become their
    totals (and df.json the targets' own images, containers and volumes) before anything
    else sees them; the full answers are dropped here."""
    full = EngineFacts({p: d for rec, files in got if rec.ok for p, d in files.items()}, {})
    docs: dict[str, Any] = totals_documents(full)
    if layout.ENGINE_DF in full.files:
        docs[layout.ENGINE_DF] = targets_df(full.df, scope)
    out = []
    for rec, files in got:
        if not rec.ok:
            out.append((rec, files))
            continue
        kept = {p: dump_json(docs[p]) for p in files if p in docs}
        too_big = oversized(kept)
        if too_big:
            out.append((dataclasses.replace(rec, status=CollectorStatus.FAILED, reason=too_big,
                                            bytes=0, files=()), {}))
            continue
        out.append((dataclasses.replace(rec, bytes=sum(len(d) for d in kept.values()),
                                        files=tuple(kept), detail={**rec.detail,
                                                                   "scope": TARGETS}), kept))
    return out


def targets_df(df: Mapping[str, Any], scope: Scope) -> dict[str, Any]:
    """`docker system df` of a container run: the totals of every kind (count, bytes,
    reclaimable bytes), and the entries of the targets' own images, containers and volumes."""
    return {
        "scope": TARGETS,
        "totals": {kind: list(row) for kind, row in df_summary(df).items()},
        "LayersSize": df.get("LayersSize"),
        "Images": [i for i in as_maps(df.get("Images")) if scope.image(i.get("Id"))],
        "Containers": [c for c in as_maps(df.get("Containers")) if scope.container(c.get("Id"))],
        "Volumes": [v for v in as_maps(df.get("Volumes")) if scope.volume(v.get("Name"))],
        "BuildCache": [],
    }


def _bound(fn: Callable[[Any], Piece], api: Any) -> Callable[[], Piece]:
    return lambda: fn(api)
