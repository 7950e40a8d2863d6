"""The engine's and the host's evidence, as checks and the report's engine section read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from diagnose.evidence import layout
from diagnose.evidence.records import CollectorRecord
from diagnose.model.jsonview import as_map, as_maps, load_json

PODMAN = "Podman"
DOCKER = "Docker"


def product_of(version: Mapping[str, Any]) -> str:
    """`Podman` when `docker version`'s Components name the Podman Engine (Podman's
    Docker-compatible API answers /version with `{"Name": "Podman Engine", ...}` first, dockerd
    with `"Engine"`), else `Docker`.  Podman differs in what it records (start errors, OOM
    kills, healthchecks: docs/podman-notes.md), so checks and collectors ask."""
    for comp in as_maps(version.get("Components")):
        if str(comp.get("Name") or "").lower().startswith("podman"):
            return PODMAN
    return DOCKER


@dataclass(frozen=True)
class EngineFacts:
    """Engine-wide evidence: endpoint, version, info (with Warnings), disk usage."""

    files: Mapping[str, bytes]
    records: Mapping[str, CollectorRecord]
    endpoint: str = ""
    local: bool = False

    def json(self, path: str) -> Any:
        """Parse one of the engine's JSON files (None when absent or invalid)."""
        return load_json(self.files.get(path))

    @cached_property
    def version(self) -> Mapping[str, Any]:
        """`docker version` (server part), or {} when not collected."""
        return as_map(load_json(self.files.get(layout.ENGINE_VERSION)))

    @cached_property
    def info(self) -> Mapping[str, Any]:
        """`docker info`, or {} when not collected."""
        return as_map(load_json(self.files.get(layout.ENGINE_INFO)))

    @cached_property
    def df(self) -> Mapping[str, Any]:
        """`docker system df` (the Engine API /system/df document), or {}."""
        return as_map(load_json(self.files.get(layout.ENGINE_DF)))

    @cached_property
    def started_at(self) -> float | None:
        """When the engine's dockerd process started (Unix time), for a local engine."""
        doc = as_map(load_json(self.files.get(layout.ENGINE_PROCESS)))
        value = doc.get("started_at")
        return float(value) if isinstance(value, int | float) and value > 0 else None

    @property
    def product(self) -> str:
        """`Podman` or `Docker`: which engine serves the Docker Engine API here."""
        return product_of(self.version)

    @property
    def is_podman(self) -> bool:
        """True when Podman (`podman system service`) answered, not dockerd."""
        return self.product == PODMAN

    @property
    def architecture(self) -> str:
        """Engine host architecture as `docker info` reports it (x86_64, aarch64...)."""
        return str(self.info.get("Architecture") or self.version.get("Arch") or "")


@dataclass(frozen=True)
class HostFacts:
    """Facts about the machine diagnose ran on (psutil), when the engine is local."""

    files: Mapping[str, bytes]
    records: Mapping[str, CollectorRecord]

    @cached_property
    def data(self) -> Mapping[str, Any]:
        """The host/host.json document, or {}."""
        return as_map(load_json(self.files.get(layout.HOST_FACTS)))
