"""What every diagnosed target holds, a container or a Swarm service: its files as the bundle
stores them, its collectors' records, and the engine it was collected from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from diagnose.evidence.engine import EngineFacts
from diagnose.evidence.records import CollectorRecord
from diagnose.model.jsonview import load_json


@dataclass(frozen=True)
class CollectedTarget:
    """One target's evidence, read-only: `files` maps paths relative to its directory (see
    :mod:`diagnose.evidence.layout`) to bytes; `records` maps collector names to what each
    did."""

    key: str
    files: Mapping[str, bytes]
    records: Mapping[str, CollectorRecord]
    engine: EngineFacts
    collected_at: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", MappingProxyType(dict(self.files)))
        object.__setattr__(self, "records", MappingProxyType(dict(self.records)))

    @property
    def directory(self) -> str:
        """Bundle-relative directory of this target."""
        raise NotImplementedError

    def path(self, rel: str) -> str:
        """Bundle-relative path of one of this target's files."""
        return f"{self.directory}/{rel}"

    def has(self, collector: str) -> bool:
        """True when `collector` ran and succeeded for this target."""
        rec = self.records.get(collector)
        return rec is not None and rec.ok

    def json(self, rel: str) -> Any:
        """Parse one of this target's JSON files (None when absent or invalid)."""
        return load_json(self.files.get(rel))
