"""Run checks over the evidence snapshot and build the report.

Each check call is isolated: an exception becomes an ERRORED outcome carrying the traceback
(the archive writer stores it in the bundle) and the other checks go on.  `debug=True`
re-raises instead, for check authors.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from diagnose import limits as lim
from diagnose.model import CheckOutcome, Finding, PathStep, Severity, Status
from diagnose.registry import CheckSpec, Registry
from diagnose.service_evidence import ServiceEvidence
from diagnose.snapshot import ContainerEvidence, Snapshot

RUN_TARGET = "(run)"


@dataclass(frozen=True, slots=True)
class CheckError:
    """A check that raised: where, and its traceback (stored in the bundle)."""

    code: str
    target: str
    trace: str


#: Run-scope requirements and the collector record that satisfies each.
_RUN_LEVEL = {"engine": "info", "host": "host"}


def _unmet(needs: Iterable[str], lookup: Any) -> str:
    """Why a check cannot run ('' when all it `needs` was collected)."""
    for need in needs:
        rec = lookup(need)
        if rec is None:
            return f"needs {need} (not collected)"
        if not rec.ok:
            return f"needs {need} ({rec.reason or rec.status})"
    return ""


def _container_lookup(c: ContainerEvidence) -> Any:
    def lookup(need: str) -> Any:
        if need == "engine":
            return c.engine.records.get(_RUN_LEVEL[need])
        return c.records.get(need)

    return lookup


def _snapshot_lookup(snap: Snapshot) -> Any:
    def lookup(need: str) -> Any:
        if need == "engine":
            return snap.engine.records.get(_RUN_LEVEL[need])
        if need == "host":
            return snap.host.records.get(_RUN_LEVEL[need])
        if need.startswith("engine-"):  # one engine collector: engine-df, engine-images...
            return snap.engine.records.get(need.removeprefix("engine-"))
        # Per-container evidence is judged by the check itself, container by container.
        return _ALWAYS

    return lookup


class _Present:
    ok = True
    reason = ""
    status = "ok"


_ALWAYS = _Present()


def _call(
    spec: CheckSpec, arg: Any, target: str, debug: bool
) -> tuple[CheckOutcome, CheckError | None]:
    started = time.perf_counter()
    try:
        raw = tuple(spec.func(arg))
    except Exception as exc:
        if debug:
            raise
        elapsed = (time.perf_counter() - started) * 1000
        outcome = CheckOutcome(
            spec.code, spec.id, target, Status.ERRORED,
            clip(f"{type(exc).__name__}: {exc}", lim.REPORT_TEXT_CHARS), duration_ms=elapsed,
        )
        return outcome, CheckError(spec.code, target,
                                   clip(traceback.format_exc(), lim.REPORT_EXCERPT_CHARS))
    elapsed = (time.perf_counter() - started) * 1000
    stamped = tuple(_stamp(f, spec, target) for f in raw[:lim.MAX_FINDINGS_PER_CHECK])
    status = Status.FAILED if stamped else Status.PASSED
    return CheckOutcome(spec.code, spec.id, target, status, "", stamped, elapsed), None


def clip(text: Any, most: int) -> Any:
    """`text`, cut after `most` characters (saying how many more there were); anything but a
    string as it is."""
    if not isinstance(text, str) or len(text) <= most:
        return text
    return f"{text[:most]}... [{len(text) - most:,} more characters]"


def _bounded(f: Finding) -> Finding:
    """A finding within the report bounds (diagnose.limits): what a check quotes from a
    bundle (a log line megabytes long, a huge label) never makes a report that large."""
    text, quote, many = lim.REPORT_TEXT_CHARS, lim.REPORT_EXCERPT_CHARS, lim.MAX_REPORT_ITEMS
    rem = f.remediation
    if rem is not None:
        rem = dataclasses.replace(rem, summary=clip(rem.summary, text),
                                  commands=tuple(clip(c, text) for c in rem.commands[:many]))
    return dataclasses.replace(
        f, title=clip(f.title, text), remediation=rem,
        facts=tuple((clip(k, text), clip(v, text)) for k, v in f.facts[:many]),
        evidence=tuple(dataclasses.replace(e, file=clip(e.file, text),
                                           pointer=clip(e.pointer, text) if e.pointer else
                                           e.pointer, excerpt=clip(e.excerpt, quote))
                       for e in f.evidence[:many]))


def _stamp(finding: Finding, spec: CheckSpec, target: str) -> Finding:
    return dataclasses.replace(
        _bounded(finding),
        id=spec.id,
        code=spec.code,
        stage=spec.stage,
        target=finding.target or target,
        severity=finding.severity if finding.severity is not None else spec.severity,
    )


def run_container_checks(
    c: ContainerEvidence, specs: Iterable[CheckSpec], debug: bool = False
) -> tuple[list[CheckOutcome], list[CheckError]]:
    """Run container-scope checks on one container."""
    outcomes: list[CheckOutcome] = []
    errors: list[CheckError] = []
    for spec in specs:
        why = _unmet(spec.requires, _container_lookup(c))
        if why:
            outcomes.append(CheckOutcome(spec.code, spec.id, c.key, Status.SKIPPED, why))
            continue
        outcome, err = _call(spec, c, c.key, debug)
        outcomes.append(outcome)
        if err is not None:
            errors.append(err)
    return outcomes, errors


def run_snapshot_checks(
    snap: Snapshot, specs: Iterable[CheckSpec], debug: bool = False
) -> tuple[list[CheckOutcome], list[CheckError]]:
    """Run run-scope checks (engine, project, fleet) on the whole snapshot."""
    outcomes: list[CheckOutcome] = []
    errors: list[CheckError] = []
    for spec in specs:
        why = _unmet(spec.requires, _snapshot_lookup(snap))
        if why:
            outcomes.append(CheckOutcome(spec.code, spec.id, RUN_TARGET, Status.SKIPPED, why))
            continue
        outcome, err = _call(spec, snap, RUN_TARGET, debug)
        outcomes.append(outcome)
        if err is not None:
            errors.append(err)
    return outcomes, errors


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
    sev = f.severity if f.severity is not None else Severity.INFO
    return not (f.stage in ("engine", "hygiene") and sev <= Severity.INFO)


@dataclass(frozen=True)
class ServiceReport:
    """Everything the reports say about one Swarm service (`diagnose service`).

    `overview` holds what the report shows besides findings (mode, replicas, update status,
    the tasks table, nodes, the local task containers diagnosed): plain data built by
    :mod:`diagnose.service_run` from the same evidence the checks read.
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


def run_service_checks(
    s: ServiceEvidence, specs: Iterable[CheckSpec], debug: bool = False
) -> tuple[list[CheckOutcome], list[CheckError]]:
    """Run service-scope checks on one Swarm service; requirements name its collectors
    (`service`, `tasks`, `nodes`, `logs`) or `engine`."""
    def lookup(need: str) -> Any:
        if need == "engine":
            return s.engine.records.get(_RUN_LEVEL[need])
        return s.records.get(need)

    outcomes: list[CheckOutcome] = []
    errors: list[CheckError] = []
    for spec in specs:
        why = _unmet(spec.requires, lookup)
        if why:
            outcomes.append(CheckOutcome(spec.code, spec.id, s.key, Status.SKIPPED, why))
            continue
        outcome, err = _call(spec, s, s.key, debug)
        outcomes.append(outcome)
        if err is not None:
            errors.append(err)
    return outcomes, errors


@dataclass(frozen=True)
class Report:
    """The analysed run: what every renderer and the exit code are computed from."""

    targets: tuple[TargetReport, ...]
    run_outcomes: tuple[CheckOutcome, ...]
    meta: dict[str, Any] = field(default_factory=dict)
    check_errors: tuple[CheckError, ...] = ()
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
        """The highest severity found, or None."""
        sevs = [f.severity for f in self.findings if f.severity is not None]
        return max(sevs) if sevs else None

    def exit_code(self, fail_on: Severity) -> int:
        """0 when nothing is at or above `fail_on`, else 1; 3 when an engine of a several-engine
        run could not be reached (its failure is in the report, the others were diagnosed)."""
        if any(e.get("status") == "failed" for e in self.meta.get("engines") or ()):
            return 3
        worst = self.worst()
        return 1 if worst is not None and worst >= fail_on else 0


def target_report(
    c: ContainerEvidence, outcomes: Sequence[CheckOutcome], path: Sequence[PathStep]
) -> TargetReport:
    """Assemble the per-target report from evidence and outcomes."""
    from diagnose.tree import state_summary

    text = lim.REPORT_TEXT_CHARS
    return TargetReport(
        key=c.key,
        name=clip(c.name, text),
        id=clip(c.id, text),
        image=clip(c.image_ref, text),
        status=clip(c.status, text),
        exit_code=c.exit_code,
        summary=clip(state_summary(c), text),
        outcomes=tuple(outcomes),
        path=tuple(dataclasses.replace(p, answer=clip(p.answer, lim.REPORT_EXCERPT_CHARS))
                   for p in path),
        collectors=tuple(r.to_dict() for r in c.records.values()),
        project=clip(c.compose_project, text),
        service=clip(c.compose_service, text),
    )


def analyse_container(
    c: ContainerEvidence, registry: Registry, debug: bool = False
) -> tuple[TargetReport, list[CheckError]]:
    """Container-scope analysis of one target, with its decision path."""
    from diagnose.tree import decision_path

    outcomes, errors = run_container_checks(c, registry.scoped("container"), debug)
    return target_report(c, outcomes, decision_path(c, outcomes)), errors
