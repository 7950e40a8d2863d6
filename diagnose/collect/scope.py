"""What a run may keep of the engine's objects: the whole engine, or its targets' own.

A bundle is attached to bug reports, so it holds what the user asked about and nothing else.
`diagnose engine` and `diagnose --all` asked about the whole engine: they keep the full view.
Every other run (containers named, `--filter`, `--project`, `diagnose service`) keeps its
targets' data and, of the rest of the engine, only totals (counts and sizes): never the names,
commands, labels, env, mounts or addresses of containers, images, volumes or networks the
targets do not use.  The run builds a :class:`Scope` from its targets' inspect documents and
passes it to collection, which drops what is out of scope as it reads each answer from the
engine, before anything is redacted, analysed or written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scope:
    """The run's targets and the objects they use (IDs and names), or the whole engine."""

    whole_engine: bool
    containers: frozenset[str] = frozenset()
    images: frozenset[str] = frozenset()
    volumes: frozenset[str] = frozenset()
    networks: frozenset[str] = frozenset()

    @classmethod
    def engine(cls) -> Scope:
        """`diagnose engine` and `--all`: every object of the engine is in scope."""
        return cls(True)

    @classmethod
    def of(cls, inspects: Iterable[Mapping[str, Any]]) -> Scope:
        """The targets (their `docker inspect` documents) and what they use: their images,
        their volumes, the networks they are attached to or name."""
        containers, images, volumes, networks = set(), set(), set(), set()
        for ins in inspects:
            containers.add(str(ins.get("Id") or ""))
            images.add(str(ins.get("Image") or ""))
            for m in ins.get("Mounts") or ():
                if (m or {}).get("Type") == "volume" and m.get("Name"):
                    volumes.add(str(m["Name"]))
            for name, ep in ((ins.get("NetworkSettings") or {}).get("Networks") or {}).items():
                networks.add(str(name))
                if (ep or {}).get("NetworkID"):
                    networks.add(str(ep["NetworkID"]))
            mode = str((ins.get("HostConfig") or {}).get("NetworkMode") or "")
            if mode and not mode.startswith("container:"):
                networks.add(mode)
        return cls(False, *(frozenset(s - {""}) for s in (containers, images, volumes,
                                                              networks)))

    def container(self, cid: Any) -> bool:
        """Is the container with this ID in scope?"""
        return self.whole_engine or str(cid or "") in self.containers

    def image(self, image_id: Any) -> bool:
        """Is the image with this ID in scope?"""
        return self.whole_engine or str(image_id or "") in self.images

    def volume(self, name: Any) -> bool:
        """Is the volume with this name in scope?"""
        return self.whole_engine or str(name or "") in self.volumes

    def network(self, net: Mapping[str, Any]) -> bool:
        """Is this network (a `docker network ls`/inspect document) in scope?"""
        return self.whole_engine or bool({str(net.get("Id") or ""), str(net.get("Name") or "")}
                                         & self.networks)

    def members(self, network: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """A `docker network inspect` document with only the in-scope containers among its
        `Containers` (their names and addresses), and how many others were left out."""
        members = network.get("Containers") or {}
        kept = {cid: m for cid, m in members.items() if self.container(cid)}
        return {**network, "Containers": kept}, len(members) - len(kept)
