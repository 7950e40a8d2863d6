"""Value types shared by every stage: severities, findings, evidence pointers, check outcomes.

All records are frozen dataclasses; the analysis engine stamps a finding's id, code and target
with :func:`dataclasses.replace`, it never mutates what a check returned.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so thresholds are plain comparisons."""

    INFO = 10
    WARNING = 20
    ERROR = 30
    CRITICAL = 40

    @property
    def label(self) -> str:
        """The lower-case name used in JSON and on the command line."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Parse `critical|error|warning|info` (case-insensitive)."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in sorted(cls, reverse=True))
            raise ValueError(f"unknown severity {text!r} (choose from {choices})") from None


class Confidence(enum.StrEnum):
    """How sure a finding is of its cause.

    `high` when the evidence that tells the look-alikes apart is there; `medium` or `low` when
    it is gone (the engine dropped the events, the logs were rotated away, the container or the
    engine's start time is unknown): such a finding names the causes that remain possible and
    how to tell them apart by hand.
    """

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Status(enum.StrEnum):
    """What happened when a check ran."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERRORED = "errored"


@dataclass(frozen=True, slots=True)
class Evidence:
    """A pointer into the bundle that backs a finding.

    `file` is bundle-relative.  Either `pointer` (an RFC 6901 JSON pointer into a JSON file) or
    `lines` (1-based inclusive line range in a text file) says where; `excerpt` quotes it.
    """

    file: str
    pointer: str | None = None
    lines: tuple[int, int] | None = None
    excerpt: str = ""

    def ref(self) -> str:
        """Human form: `file#/json/pointer` or `file#L3-L7`."""
        if self.pointer is not None:
            return f"{self.file}#{self.pointer}"
        if self.lines is not None:
            first, last = self.lines
            return f"{self.file}#L{first}" if first == last else f"{self.file}#L{first}-L{last}"
        return self.file

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "file": self.file,
            "pointer": self.pointer,
            "lines": list(self.lines) if self.lines else None,
            "ref": self.ref(),
            "excerpt": self.excerpt,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Evidence:
        """Inverse of :meth:`to_dict`."""
        lines = data.get("lines")
        return cls(
            file=data["file"],
            pointer=data.get("pointer"),
            lines=(int(lines[0]), int(lines[1])) if lines else None,
            excerpt=data.get("excerpt", ""),
        )


@dataclass(frozen=True, slots=True)
class Remediation:
    """What to do: a sentence or two, then commands to paste (shown, never run)."""

    summary: str
    commands: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"summary": self.summary, "commands": list(self.commands)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Remediation:
        """Inverse of :meth:`to_dict`."""
        return cls(summary=data.get("summary", ""), commands=tuple(data.get("commands", ())))


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding is silenced: an `[[ignore]]` entry of the configuration (its reason and
    expiry date, YYYY-MM-DD or '').  A suppressed finding stays in the JSON and the bundle,
    and never counts for --fail-on nor becomes the verdict."""

    reason: str
    expires: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"reason": self.reason, "expires": self.expires or None}


@dataclass(frozen=True, slots=True)
class Finding:
    """One diagnosed problem.

    A check fills `title`, `facts`, `evidence` and `remediation` (and may lower or raise the
    severity from its default, and lower the `confidence` when the evidence that tells the
    look-alikes apart is missing); the engine stamps `id`, `code`, `target` and `stage`.
    """

    title: str
    facts: tuple[tuple[str, str], ...] = ()
    evidence: tuple[Evidence, ...] = ()
    remediation: Remediation | None = None
    severity: Severity | None = None
    confidence: Confidence = Confidence.HIGH
    id: str = ""
    code: str = ""
    target: str = ""
    stage: str = ""
    suppressed: Suppression | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the `findings[]` items of schema diagnose/v1; `suppressed` only when
        an ignore entry applies)."""
        extra = {"suppressed": self.suppressed.to_dict()} if self.suppressed else {}
        return {
            "id": self.id,
            "code": self.code,
            "severity": self.severity.label if self.severity else None,
            "confidence": self.confidence.value,
            "target": self.target,
            "stage": self.stage,
            "title": self.title,
            "facts": [{"name": k, "value": v} for k, v in self.facts],
            "evidence": [e.to_dict() for e in self.evidence],
            "remediation": self.remediation.to_dict() if self.remediation else None,
            **extra,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Inverse of :meth:`to_dict`."""
        rem = data.get("remediation")
        return cls(
            title=data["title"],
            facts=tuple((f["name"], f["value"]) for f in data.get("facts", ())),
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence", ())),
            remediation=Remediation.from_dict(rem) if rem else None,
            severity=Severity.parse(data["severity"]) if data.get("severity") else None,
            confidence=Confidence(data.get("confidence") or Confidence.HIGH),
            id=data.get("id", ""),
            code=data.get("code", ""),
            target=data.get("target", ""),
            stage=data.get("stage", ""),
            suppressed=Suppression(data["suppressed"]["reason"],
                                   data["suppressed"].get("expires") or "")
            if data.get("suppressed") else None,
        )


def fact(name: str, value: object) -> tuple[str, str]:
    """Build one observed fact; values are stringified so JSON and text agree."""
    return (name, value if isinstance(value, str) else _fmt(value))


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """The record every check leaves, whatever happened: "we didn't look" is never silent."""

    code: str
    id: str
    target: str
    status: Status
    reason: str = ""
    findings: tuple[Finding, ...] = ()
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form (findings are listed separately, by reference)."""
        return {
            "code": self.code,
            "id": self.id,
            "target": self.target,
            "status": self.status.value,
            "reason": self.reason,
            "findings": len(self.findings),
            "duration_ms": round(self.duration_ms, 3),
        }


@dataclass(frozen=True, slots=True)
class PathStep:
    """One step of the decision path shown in reports: a question and what the evidence says."""

    stage: str
    question: str
    answer: str
    evidence: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "stage": self.stage,
            "question": self.question,
            "answer": self.answer,
            "evidence": list(self.evidence),
        }
