"""Running checks: one loop for every scope (a container, a Swarm service, the whole run).

Each check call is isolated: an exception becomes an ERRORED outcome carrying the traceback
(the archive writer stores it in the bundle) and the other checks go on.  `debug=True`
re-raises instead, for check authors.  A check whose required evidence is missing is SKIPPED
with the collector's reason, never silently left out.
"""

from __future__ import annotations

import dataclasses
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.engine import EngineFacts
from diagnose.evidence.service import ServiceEvidence
from diagnose.evidence.snapshot import Snapshot
from diagnose.model import limits as lim
from diagnose.model.checks import CheckSpec
from diagnose.model.findings import CheckOutcome, Finding, Status, Suppression
from diagnose.model.report import RUN_TARGET, CheckError
from diagnose.model.text import clip

#: Where a requirement is judged: a collector record of the subject, of the engine or host, or
#: (run scope, per-container evidence) by the check itself, container by container.
#: (A record: anything with `ok`, `reason` and `status`; None when it was not collected.)
Lookup = Callable[[str], Any]


#: Run-scope requirements and the collector record that satisfies each.
_RUN_LEVEL = {"engine": "info", "host": "host"}


def _unmet(needs: Iterable[str], lookup: Lookup) -> str:
    """Why a check cannot run ('' when all it `needs` was collected)."""
    for need in needs:
        rec = lookup(need)
        if rec is None:
            return f"needs {need} (not collected)"
        if not rec.ok:
            return f"needs {need} ({rec.reason or rec.status})"
    return ""


class _Present:
    ok = True
    reason = ""
    status = "ok"


_ALWAYS = _Present()


def _subject_lookup(records: Mapping[str, Any], engine: EngineFacts) -> Lookup:
    """A container's or a service's requirements: its own collectors, or `engine`."""
    def lookup(need: str) -> Any:
        if need == "engine":
            return engine.records.get(_RUN_LEVEL[need])
        return records.get(need)

    return lookup


def _snapshot_lookup(snap: Snapshot) -> Lookup:
    def lookup(need: str) -> Any:
        if need in _RUN_LEVEL:
            facts = snap.engine if need == "engine" else snap.host
            return facts.records.get(_RUN_LEVEL[need])
        if need.startswith("engine-"):  # one engine collector: engine-df, engine-images...
            return snap.engine.records.get(need.removeprefix("engine-"))
        # Per-container evidence is judged by the check itself, container by container.
        return _ALWAYS

    return lookup


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


def _bounded(f: Finding) -> Finding:
    """A finding within the report bounds (diagnose.model.limits): what a check quotes from a
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
    about = finding.target or target
    rule = next((r for r in spec.ignores if r.covers(about)), None)
    return dataclasses.replace(
        _bounded(finding),
        id=spec.id,
        code=spec.code,
        stage=spec.stage,
        target=about,
        severity=finding.severity if finding.severity is not None else spec.severity,
        suppressed=Suppression(rule.reason, rule.expires) if rule is not None else None,
    )


def run_checks(specs: Iterable[CheckSpec], subject: Any, lookup: Lookup, target: str,
               debug: bool = False) -> tuple[list[CheckOutcome], list[CheckError]]:
    """Run `specs` on `subject` (a container, a service or the snapshot); `lookup` says
    whether each requirement was collected, `target` names the subject in outcomes."""
    outcomes: list[CheckOutcome] = []
    errors: list[CheckError] = []
    for spec in specs:
        why = spec.deselected or _unmet(spec.requires, lookup)
        if why:
            outcomes.append(CheckOutcome(spec.code, spec.id, target, Status.SKIPPED, why))
            continue
        outcome, err = _call(spec, subject, target, debug)
        outcomes.append(outcome)
        if err is not None:
            errors.append(err)
    return outcomes, errors


def run_container_checks(
    c: ContainerEvidence, specs: Iterable[CheckSpec], debug: bool = False
) -> tuple[list[CheckOutcome], list[CheckError]]:
    """Run container-scope checks on one container."""
    return run_checks(specs, c, _subject_lookup(c.records, c.engine), c.key, debug)


def run_service_checks(
    s: ServiceEvidence, specs: Iterable[CheckSpec], debug: bool = False
) -> tuple[list[CheckOutcome], list[CheckError]]:
    """Run service-scope checks on one Swarm service; requirements name its collectors
    (`service`, `tasks`, `nodes`, `logs`) or `engine`."""
    return run_checks(specs, s, _subject_lookup(s.records, s.engine), s.key, debug)


def run_snapshot_checks(
    snap: Snapshot, specs: Iterable[CheckSpec], debug: bool = False
) -> tuple[list[CheckOutcome], list[CheckError]]:
    """Run run-scope checks (engine, project, fleet) on the whole snapshot."""
    return run_checks(specs, snap, _snapshot_lookup(snap), RUN_TARGET, debug)
