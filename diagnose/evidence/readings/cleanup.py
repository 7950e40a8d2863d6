"""What the cleanup checks (D604-D608) count, in either view of the engine's objects.

A bundle of `diagnose engine` or `diagnose --all` holds the full lists (engine/images.json,
containers.json, volumes.json, networks.json, and engine/df.json as the engine answered it).
A bundle of any other run holds only their totals, each file marked `"scope": "targets"`
(:mod:`diagnose.collect.scope`): collection computes them with these same functions from the
lists it read and then dropped, so a container run and `diagnose engine` count alike.  Checks
read a :class:`Litter` either way; its `listed` objects are empty in the totals view, where
no object may be named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from diagnose.evidence import layout
from diagnose.evidence.engine import EngineFacts
from diagnose.evidence.readings.engine import (
    TARGETS,
    build_cache_reclaimable,
    container_sizes,
    engine_evidence,
    image_sizes,
    totals_only,
    volume_sizes,
)
from diagnose.model.findings import Finding, Remediation, Severity, fact
from diagnose.model.jsonview import as_map, as_maps, integer

#: The built-in networks, never counted as unused.
BUILTIN_NETWORKS = frozenset({"bridge", "host", "none", "docker_gwbridge", "ingress"})


@dataclass(frozen=True)
class Litter:
    """One kind of leftover on the engine: how many, how many bytes, and (full view) which.

    `listed` pairs each object with its index in its engine file (for evidence pointers);
    `counts` holds what a kind counts besides (`in_use`, `anonymous`, `named`, `unlisted`,
    `local_bridges`, `records`).  `sized` is False when `docker system df` was not collected.
    """

    count: int
    size: int = 0
    listed: tuple[tuple[int, Mapping[str, Any]], ...] = ()
    sized: bool = True
    totals_only: bool = False
    counts: Mapping[str, int] = field(default_factory=dict)

    def of(self, name: str) -> int:
        """One of the kind's other counts (0 when it has none)."""
        return int(self.counts.get(name, 0))


def _from_totals(doc: Mapping[str, Any], *counts: str) -> Litter:
    return Litter(integer(doc.get("count")), integer(doc.get("bytes")), (),
                  bool(doc.get("sized", True)), True, {k: integer(doc.get(k)) for k in counts})


def dangling_images(engine: EngineFacts) -> Litter:
    """Dangling images no container uses (`docker rmi` would refuse the others)."""
    images = as_map(engine.json(layout.ENGINE_IMAGES))
    if totals_only(images):
        return _from_totals(images, "in_use")
    in_use = set(as_map(engine.json(layout.ENGINE_CONTAINERS)).get("images_in_use") or ())
    sizes = image_sizes(engine)
    dangling = as_maps(images.get("dangling"))
    listed = tuple((i, img) for i, img in enumerate(dangling) if img.get("Id") not in in_use)
    unlisted = max(integer(images.get("dangling_total")) - len(dangling), 0)
    size = sum(sizes.get(str(img.get("Id")), integer(img.get("Size"))) for _, img in listed)
    return Litter(len(listed) + unlisted, size, listed, bool(engine.df), False,
                  {"in_use": len(dangling) - len(listed), "unlisted": unlisted})


def exited_containers(engine: EngineFacts) -> Litter:
    """Exited containers, with their writable layers' size."""
    doc = as_map(engine.json(layout.ENGINE_CONTAINERS))
    if totals_only(doc):
        return _from_totals(as_map(doc.get("exited")))
    exited = as_maps(doc.get("exited"))
    sizes = container_sizes(engine)
    size = sum(sizes.get(str(c.get("Id")), 0) for c in exited)
    return Litter(integer(doc.get("exited_total")) or len(exited), size,
                  tuple(enumerate(exited)), bool(engine.df))


def anonymous_volume(volume: Mapping[str, Any]) -> bool:
    """An anonymous volume: the engine's label (Engine >= 23), or a 64-hex generated name."""
    if "com.docker.volume.anonymous" in as_map(volume.get("Labels")):
        return True
    name = str(volume.get("Name") or "")
    return len(name) == 64 and all(ch in "0123456789abcdef" for ch in name)


def dangling_volumes(engine: EngineFacts) -> Litter:
    """Volumes no container references, anonymous and named."""
    doc = as_map(engine.json(layout.ENGINE_VOLUMES))
    if totals_only(doc):
        return _from_totals(doc, "anonymous", "named")
    vols = as_maps(doc.get("dangling"))
    sizes = volume_sizes(engine)
    size = sum(max(sizes.get(str(v.get("Name")), 0), 0) for v in vols)
    anonymous = sum(1 for v in vols if anonymous_volume(v))
    return Litter(integer(doc.get("dangling_total")) or len(vols), size, tuple(enumerate(vols)),
                  bool(engine.df), False, {"anonymous": anonymous, "named": len(vols) - anonymous})


def removable_network(net: Mapping[str, Any]) -> bool:
    """A local, user-defined network (one a cleanup may suggest removing)."""
    return (net.get("Scope") == "local" and net.get("Name") not in BUILTIN_NETWORKS
            and net.get("Driver") not in ("null", "host") and not net.get("Ingress")
            and not net.get("ConfigOnly"))


def unused_networks(engine: EngineFacts) -> Litter:
    """User-defined networks no container (running or stopped) is attached to, and how many
    local bridge networks take the address pools."""
    nets = as_map(engine.json(layout.ENGINE_NETWORKS))
    if totals_only(nets):
        return _from_totals(nets, "local_bridges")
    used = as_map(as_map(engine.json(layout.ENGINE_CONTAINERS)).get("networks_in_use"))
    ids, names = set(used.get("ids") or ()), set(used.get("names") or ())
    listed = as_maps(nets.get("networks"))
    unused = tuple((i, n) for i, n in enumerate(listed) if removable_network(n)
                   and n.get("Id") not in ids and n.get("Name") not in names)
    bridges = sum(1 for n in listed if n.get("Driver") == "bridge" and n.get("Scope") == "local")
    return Litter(len(unused), 0, unused, True, False, {"local_bridges": bridges})


def build_cache(engine: EngineFacts) -> Litter:
    """Build cache records neither in use nor shared (what `docker system df` reclaims)."""
    df = engine.df
    if totals_only(df):
        count, _, reclaimable = (integer(x) for x in (list(as_map(df.get("totals")).get(
            "build cache") or ()) + [0, 0, 0])[:3])
        return Litter(count, reclaimable, (), True, True, {"records": count})
    cache = as_maps(df.get("BuildCache"))
    free = sorted(((i, b) for i, b in enumerate(cache) if not b.get("InUse")
                   and not b.get("Shared")), key=lambda ib: -integer(ib[1].get("Size")))
    return Litter(len(free), build_cache_reclaimable(cache), tuple(free), bool(df), False,
                  {"records": len(cache)})


def totals_documents(engine: EngineFacts) -> dict[str, dict[str, Any]]:
    """The totals-only engine files of a container run (bundle path -> document), counted
    from the full lists in `engine` (only those it holds)."""
    out: dict[str, dict[str, Any]] = {}
    files = engine.files
    if layout.ENGINE_IMAGES in files:
        d = dangling_images(engine)
        out[layout.ENGINE_IMAGES] = {"scope": TARGETS, "count": d.count, "bytes": d.size,
                                     "in_use": d.of("in_use"), "sized": d.sized}
    if layout.ENGINE_CONTAINERS in files:
        doc = as_map(engine.json(layout.ENGINE_CONTAINERS))
        e = exited_containers(engine)
        out[layout.ENGINE_CONTAINERS] = {
            "scope": TARGETS, "total": integer(doc.get("total")),
            "by_state": dict(as_map(doc.get("by_state"))),
            "exited": {"count": e.count, "bytes": e.size, "sized": e.sized}}
    if layout.ENGINE_VOLUMES in files:
        v = dangling_volumes(engine)
        out[layout.ENGINE_VOLUMES] = {"scope": TARGETS, "count": v.count, "bytes": v.size,
                                      "anonymous": v.of("anonymous"), "named": v.of("named"),
                                      "sized": v.sized}
    if layout.ENGINE_NETWORKS in files:
        n = unused_networks(engine)
        out[layout.ENGINE_NETWORKS] = {
            "scope": TARGETS, "total": integer(as_map(engine.json(layout.ENGINE_NETWORKS))
                                               .get("total")),
            "count": n.count, "local_bridges": n.of("local_bridges")}
    return out


def totals_finding(path: str, litter: Litter, title: str, facts: Sequence[tuple[str, str]],
                   what: str, severity: Severity) -> Finding:
    """A cleanup finding of a container run: counts and sizes only, no object named, and
    `diagnose engine` for the list and the commands."""
    pointer = "/exited/count" if path == layout.ENGINE_CONTAINERS else "/count"
    return Finding(
        title=title,
        facts=(*facts, fact("which", f"not named here: this run diagnoses containers "
                                     f"(`diagnose engine` lists the {what})")),
        evidence=(engine_evidence(path, pointer, str(litter.count)),),
        remediation=Remediation(
            "This run diagnoses containers, so its bundle holds only the engine's totals. "
            f"`diagnose engine` lists exactly which {what} and the commands to remove them "
            "(shown, never run).",
            ("diagnose engine",)),
        severity=severity,
        target="engine",
    )
