"""The analysed run as values: what the renderers, the exit code and the manifest read.

A :class:`TargetReport` per container, a :class:`ServiceReport` per Swarm service and the run's
own outcomes make a :class:`Report`.  Analysis (:mod:`diagnose.analysis`) builds them,
rendering (:mod:`diagnose.render`) and the pipeline read them; the ordering rules that pick a
verdict (:func:`verdict_key`, :func:`is_cause`) live with them so every reader agrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from diagnose.model.errors import EXIT_ENGINE, EXIT_FINDINGS, EXIT_OK
from diagnose.model.findings import CheckOutcome, Finding, PathStep, Severity

RUN_TARGET = "(run)"


@dataclass(frozen=True, slots=True)
class CheckError:
    """A check that raised: where, and its traceback (stored in the bundle)."""

    code: str
    target: str
    trace: str


@dataclass(frozen=True)
class TargetReport:
    """Everything the reports say about one container."""

    key: str
    name: str
    id: str
    image: str
    status: str
    exit_code: int | None
    summary: str
    outcomes: tuple[CheckOutcome, ...]
    path: tuple[PathStep, ...]
    collectors: tuple[dict[str, Any], ...] = ()
    #: Findings of run-scope checks about this target (e.g. a failed Compose dependency).
    linked: tuple[Finding, ...] = ()
    engine: str = ""
    project: str = ""
    service: str = ""

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Findings in verdict order: most severe first, then tree order."""
        found = [f for o in self.outcomes for f in o.findings] + list(self.linked)
        return tuple(sorted(found, key=verdict_key))

    @property
    def verdict(self) -> Finding | None:
        """The root cause: the most severe finding, earliest in the tree."""
        return next((f for f in self.findings if is_cause(f)), None)


def verdict_key(f: Finding) -> tuple[int, int, str]:
    """Sort key: a failure's cause before security/hygiene advice, then severity descending,
    then code (tree order) ascending.  Hygiene never outranks a root cause."""
    sev = f.severity if f.severity is not None else Severity.INFO
    return (1 if f.stage == "hygiene" else 0, -int(sev), f.code)


def is_cause(f: Finding) -> bool:
    """Can `f` be a verdict?  Information from the engine and hygiene stages is advice
    (cleanup, hardening) and never answers "what went wrong"; it is still listed."""
    if f.suppressed is not None:  # the team decided to live with it: never the verdict
        return False
    sev = f.severity if f.severity is not None else Severity.INFO
    return not (f.stage in ("engine", "hygiene") and sev <= Severity.INFO)


@dataclass(frozen=True)
class ServiceReport:
    """Everything the reports say about one Swarm service (`diagnose service`).

    `overview` holds what the report shows besides findings (mode, replicas, update status,
    the tasks table, nodes, the local task containers diagnosed): plain data built by
    :mod:`diagnose.analysis.services` from the same evidence the checks read.
    """

    key: str
    name: str
    id: str
    summary: str
    outcomes: tuple[CheckOutcome, ...]
    overview: dict[str, Any] = field(default_factory=dict)
    collectors: tuple[dict[str, Any], ...] = ()

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Findings in verdict order."""
        found = [f for o in self.outcomes for f in o.findings]
        return tuple(sorted(found, key=verdict_key))

    @property
    def verdict(self) -> Finding | None:
        """The service's root cause: its most severe finding, earliest code first."""
        return next((f for f in self.findings if is_cause(f)), None)


@dataclass(frozen=True)
class Report:
    """The analysed run: what every renderer and the exit code are computed from."""

    targets: tuple[TargetReport, ...]
    run_outcomes: tuple[CheckOutcome, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    services: tuple[ServiceReport, ...] = ()

    @property
    def run_findings(self) -> tuple[Finding, ...]:
        """Findings of run-scope checks that are not about one target (those are listed with
        their target: see TargetReport.linked)."""
        keys = {t.key for t in self.targets}
        return tuple(f for o in self.run_outcomes for f in o.findings if f.target not in keys)

    @property
    def findings(self) -> tuple[Finding, ...]:
        """Every finding of the run, verdict order."""
        found = [f for t in self.targets for f in t.findings] + list(self.run_findings)
        found += [f for s in self.services for f in s.findings]
        return tuple(sorted(found, key=verdict_key))

    @property
    def verdict(self) -> Finding | None:
        """The run's verdict: the first finding that can be a cause (see :func:`is_cause`).

        For `diagnose service` the services are what was asked about: a service's own cause
        comes first, its task containers' findings back it up (and are still listed)."""
        own = sorted((f for s in self.services for f in s.findings), key=verdict_key)
        return next((f for f in (*own, *self.findings) if is_cause(f)), None)

    def worst(self) -> Severity | None:
        """The highest severity found, or None (suppressed findings never count)."""
        sevs = [f.severity for f in self.findings
                if f.severity is not None and f.suppressed is None]
        return max(sevs) if sevs else None

    def exit_code(self, fail_on: Severity) -> int:
        """0 when nothing is at or above `fail_on`, else 1; 3 when an engine of a several-engine
        run could not be reached (its failure is in the report, the others were diagnosed)."""
        if any(e.get("status") == "failed" for e in self.meta.get("engines") or ()):
            return EXIT_ENGINE
        worst = self.worst()
        return EXIT_FINDINGS if worst is not None and worst >= fail_on else EXIT_OK
