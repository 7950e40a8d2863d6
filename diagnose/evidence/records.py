"""What each collector did: the record every piece of evidence comes with.

A collector (inspect, logs, the entrypoint probe...) leaves one :class:`CollectorRecord` per
owner (a container key, a service directory, `engine` or `host`), ok, skipped or failed with
its reason; the manifest lists them and checks that need a missing piece are skipped with it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class CollectorStatus:
    """Collector status values (plain strings in the manifest)."""

    OK = "ok"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CollectorRecord:
    """What one collector did for one owner (a container key, or `engine` / `host`)."""

    name: str
    owner: str
    status: str
    reason: str = ""
    duration_ms: float = 0.0
    bytes: int = 0
    truncated: bool = False
    files: tuple[str, ...] = ()
    detail: Mapping[str, Any] = field(default_factory=dict)

    def owned_by(self, owner: str) -> CollectorRecord:
        """This record with `owner` as its owner (a container renamed, an engine's prefix)."""
        return self if self.owner == owner else dataclasses.replace(self, owner=owner)

    @property
    def ok(self) -> bool:
        """True when the collector produced its evidence."""
        return self.status == CollectorStatus.OK

    def to_dict(self) -> dict[str, Any]:
        """Manifest form."""
        return {
            "name": self.name,
            "owner": self.owner,
            "status": self.status,
            "reason": self.reason,
            "duration_ms": round(self.duration_ms, 3),
            "bytes": self.bytes,
            "truncated": self.truncated,
            "files": list(self.files),
            "detail": dict(self.detail),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CollectorRecord:
        """Inverse of :meth:`to_dict`."""
        return cls(
            name=data["name"],
            owner=data.get("owner", ""),
            status=data.get("status", CollectorStatus.FAILED),
            reason=data.get("reason", ""),
            duration_ms=float(data.get("duration_ms", 0.0)),
            bytes=int(data.get("bytes", 0)),
            truncated=bool(data.get("truncated", False)),
            files=tuple(data.get("files", ())),
            detail=dict(data.get("detail") or {}),
        )
