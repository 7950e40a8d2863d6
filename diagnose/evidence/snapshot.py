"""A whole run's evidence for the run-scope checks: the engine, the host and every container.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.engine import EngineFacts, HostFacts


@dataclass(frozen=True)
class Snapshot:
    """A whole run's evidence: engine, host and containers, plus the manifest's run facts."""

    engine: EngineFacts
    host: HostFacts
    containers: tuple[ContainerEvidence, ...]
    run: Mapping[str, Any] = field(default_factory=dict)

    def container(self, key: str) -> ContainerEvidence | None:
        """Find a container by its bundle key."""
        return next((c for c in self.containers if c.key == key), None)


def without_logs(container: ContainerEvidence) -> ContainerEvidence:
    """The same container with only its inspect.json kept.

    Once container-scope checks have read a container's files and the archive writer has
    streamed them out, run-scope checks get this lighter view (live and offline alike): the
    run-scope checks read a container's inspect only (Compose labels, state), and memory stays
    flat however many containers a run covers.
    """
    files = {k: v for k, v in container.files.items() if k == layout.INSPECT}
    return ContainerEvidence(
        key=container.key,
        files=files,
        records=container.records,
        engine=container.engine,
        collected_at=container.collected_at,
        prefix=container.prefix,
    )
