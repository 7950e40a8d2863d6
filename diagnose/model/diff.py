"""`diagnose diff A B` as values: the two sides, and the ranked differences between them.

The comparison (:mod:`diagnose.compare`) builds a :class:`Diff` from two containers' evidence
and reports; rendering (:mod:`diagnose.render.diff`) and the exit code read it.  Values only:
every string here comes from redacted evidence (the live sides' run redacts as it collects; a
bundle written with --no-redact is redacted as it is read), and a secret's values are never
shown, only compared.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from diagnose.model.errors import EXIT_FINDINGS, EXIT_OK
from diagnose.model.findings import Evidence


class Category(enum.StrEnum):
    """What a difference is about, in the order differences of equal weight are listed: what
    decides behaviour first (image ... engine), then how each side is doing (state), what
    diagnose found (findings) and what the failing side printed (logs); `other` holds the
    fields only `--all-fields` compares."""

    IMAGE = "image"
    COMMAND = "command"
    ENV = "env"
    USER = "user"
    WORKDIR = "workdir"
    MOUNTS = "mounts"
    PORTS = "ports"
    NETWORKS = "networks"
    RESTART = "restart"
    LIMITS = "limits"
    HEALTHCHECK = "healthcheck"
    CAPABILITIES = "capabilities"
    SECURITY = "security"
    READ_ONLY = "read-only"
    LABELS = "labels"
    ENGINE = "engine"
    OTHER = "other"
    STATE = "state"
    FINDINGS = "findings"
    LOGS = "logs"

    @property
    def order(self) -> int:
        """Its place in the fixed order."""
        return list(Category).index(self)

    @property
    def decides(self) -> bool:
        """Does a difference of this kind decide behaviour (and so may explain a failure)?
        State, findings and logs are what a failure looks like, not why it happened."""
        return self not in (Category.STATE, Category.FINDINGS, Category.LOGS)


class Change(enum.StrEnum):
    """How B differs from A: set on B only, on A only, or on both with other values."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


class Link(enum.StrEnum):
    """How sure the link between a difference and a failing side's finding is."""

    #: The finding names it (the variable, the mount...) or points at the very field.
    NAMED = "named"
    #: The finding's kind of cause lives in this category (an exit code 1 and a new image).
    KIND = "kind"
    NONE = "none"


@dataclass(frozen=True)
class Side:
    """One side of the comparison as the reports show it."""

    label: str
    ref: str
    source: str
    name: str
    id: str
    image: str
    status: str
    exit_code: int | None
    summary: str
    engine: str = ""
    engine_version: str = ""
    bundle: str | None = None
    #: The side's verdict finding ({id, code, severity, title}) or None.
    verdict: dict[str, Any] | None = None
    failing: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the `a` and `b` objects of schema diagnose/diff-v1)."""
        return {
            "label": self.label, "ref": self.ref, "source": self.source, "name": self.name,
            "id": self.id, "image": self.image,
            "state": {"status": self.status, "exit_code": self.exit_code,
                      "summary": self.summary},
            "engine": {"endpoint": self.engine, "version": self.engine_version},
            "bundle": self.bundle, "verdict": self.verdict, "failing": self.failing,
        }


@dataclass(frozen=True)
class Difference:
    """One way B differs from A.

    `a` and `b` are the values as shown (None: not set on that side); `explains` the failing
    side's finding ids it may explain (`link` says how sure), `reason` why it may matter;
    `evidence_a`/`evidence_b` point into each side's evidence (bundle paths)."""

    category: Category
    field: str
    change: Change
    a: str | None
    b: str | None
    reason: str = ""
    explains: tuple[str, ...] = ()
    link: Link = Link.NONE
    evidence_a: tuple[Evidence, ...] = ()
    evidence_b: tuple[Evidence, ...] = ()
    #: Names a finding may use for it (an env var, a mount's destination, a port): matched
    #: as whole words against the failing side's findings.
    subjects: tuple[str, ...] = ()
    #: JSON pointers into the sides' inspect.json this difference is about.
    pointers: tuple[str, ...] = ()
    #: Secret values are compared but never shown: `a`/`b` then say "(redacted)".
    secret: bool = False
    rank: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the `differences[]` items of schema diagnose/diff-v1)."""
        return {
            "rank": self.rank, "category": self.category.value, "field": self.field,
            "change": self.change.value, "a": self.a, "b": self.b, "secret": self.secret,
            "explains": list(self.explains), "link": self.link.value, "reason": self.reason,
            "evidence": {"a": [e.to_dict() for e in self.evidence_a],
                         "b": [e.to_dict() for e in self.evidence_b]},
        }


@dataclass(frozen=True)
class Unknown:
    """Something that could not be compared, and why (a secret redacted in two bundles)."""

    category: Category
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the `not_compared[]` items)."""
        return {"category": self.category.value, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class Diff:
    """The comparison: both sides and the differences, most likely explanation first."""

    a: Side
    b: Side
    differences: tuple[Difference, ...]
    not_compared: tuple[Unknown, ...] = ()
    all_fields: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def headline(self) -> str:
        """The verdict in one sentence: which side failed and how many differences can
        explain it."""
        count = sum(d.category is not Category.OTHER for d in self.differences)
        if not count:
            return f"{self.b.label} does not differ from {self.a.label} in anything that " \
                "decides behaviour or shows how it ran"
        ways = f"{count} way{'s' if count != 1 else ''}"
        failed = [s for s in (self.b, self.a) if s.failing]
        if not failed:
            return f"{self.b.label} differs from {self.a.label} in {ways}; neither side failed"
        side = failed[0]
        other = self.a if side is self.b else self.b
        why = f" ({side.verdict['code']} {side.verdict['id']})" if side.verdict else ""
        explaining = self.explaining
        if not explaining:
            return (f"{side.label} ({side.name}) failed{why}; it differs from {other.label} "
                    f"in {ways}, none of them linked to its failure")
        fields = ", ".join(dict.fromkeys(d.field for d in explaining[:5]))
        more = ", ..." if len(explaining) > 5 else ""
        n = len(explaining)
        return (f"{side.label} ({side.name}) failed{why} and differs from {other.label} in {n} "
                f"way{'s' if n != 1 else ''} that can explain it: {fields}{more}")

    def to_dict(self) -> dict[str, Any]:
        """JSON form (schema diagnose/diff-v1, diagnose/schema/diff-v1.json)."""
        return {
            "schema": "diagnose/diff-v1",
            "verdict": self.headline(),
            "exit_code": self.exit_code(),
            "all_fields": self.all_fields,
            "a": self.a.to_dict(),
            "b": self.b.to_dict(),
            "differences": [d.to_dict() for d in self.differences],
            "not_compared": [u.to_dict() for u in self.not_compared],
            **self.meta,
        }

    @property
    def explaining(self) -> tuple[Difference, ...]:
        """The differences linked to a failing side's finding."""
        return tuple(d for d in self.differences if d.explains)

    def exit_code(self) -> int:
        """0 when nothing that matters differs, 1 when something does (what always differs,
        compared with `--all-fields`, does not matter)."""
        return EXIT_FINDINGS if any(d.category is not Category.OTHER
                                    for d in self.differences) else EXIT_OK
