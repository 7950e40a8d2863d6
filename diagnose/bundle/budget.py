"""What a bundle's members may hold together (diagnose.model.limits): each container or service, and
the run as a whole, within their budgets; directories contiguous, and counted.

Used by :mod:`diagnose.bundle.reader` as it reads members one by one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from diagnose.evidence import layout
from diagnose.model import limits as lim
from diagnose.model.errors import BundleError
from diagnose.model.text import exact_bytes

DAMAGED = "the archive was not written by diagnose or was altered; fetch it again"


@dataclass
class Budget:
    """What one container or service, or the run as a whole, holds."""

    what: str
    max_bytes: int
    max_items: int
    bytes: int = 0
    items: int = 0

    def add(self, path: Path, size: int, items: int) -> None:
        """Count one member (`size` bytes held, `items` JSON items); refuse past the bound."""
        self.bytes += size
        self.items += items
        if self.bytes > self.max_bytes:
            raise BundleError(f"{path}: {self.what} holds more than "
                              f"{exact_bytes(self.max_bytes)} of files, the most diagnose reads",
                              DAMAGED)
        if self.items > self.max_items:
            raise BundleError(f"{path}: {self.what} holds more than {self.max_items:,} JSON "
                              "items, the most diagnose reads", DAMAGED)


class Groups:
    """Which container, service and engine each member belongs to, and what each holds:
    directories must be contiguous (as diagnose writes them), and are counted and bounded."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.current: tuple[str, str, str] | None = None
        self.closed: set[tuple[str, str, str]] = set()
        self.budget: Budget | None = None
        self.engines: set[str] = set()
        self.counts = {layout.CONTAINERS_DIR: 0, layout.SERVICES_DIR: 0}

    def add(self, name: str, size: int, items: int, kept: Budget) -> None:
        """Count member `name` in its container's or service's budget, and in the run's
        (`kept`) when the run keeps it; refuse past a bound or a count."""
        prefix, rest = layout.split_engine(name)
        if prefix not in self.engines:
            self.engines.add(prefix)
            if len(self.engines) > lim.MAX_ENGINES:
                raise BundleError(f"{self.path} holds more than {lim.MAX_ENGINES} engines, the "
                                  "most diagnose reads", DAMAGED)
        kind, _, tail = rest.partition("/")
        group = None
        if kind in self.counts and "/" in tail:
            group = (prefix, kind, tail.partition("/")[0])
        if group != self.current:
            self._switch(group)
        if self.budget is not None:
            self.budget.add(self.path, size, items)
        if kind in (layout.ENGINE_DIR, "host") or (
                group is not None and kind == layout.CONTAINERS_DIR
                and tail.partition("/")[2] == layout.INSPECT):
            kept.add(self.path, size, items)

    def _switch(self, group: tuple[str, str, str] | None) -> None:
        if self.current is not None:
            self.closed.add(self.current)
        self.current, self.budget = group, None
        if group is None:
            return
        prefix, kind, key = group
        if group in self.closed:
            raise BundleError(f"{self.path}: the files of {prefix}{kind}/{key} are not "
                              "together", DAMAGED)
        self.counts[kind] += 1
        most = lim.MAX_CONTAINERS if kind == layout.CONTAINERS_DIR else lim.MAX_SERVICES
        if self.counts[kind] > most:
            raise BundleError(f"{self.path} holds more than {most:,} {kind}, the most diagnose "
                              "reads", DAMAGED)
        self.budget = Budget(f"{prefix}{kind}/{key}", lim.MAX_TARGET_BYTES,
                              lim.MAX_TARGET_ITEMS)
