"""The analysis of one container: its checks, its decision path and its report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from diagnose.analysis.path import decision_path
from diagnose.analysis.registry import Registry
from diagnose.analysis.runner import run_container_checks
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.readings.lifecycle import state_summary
from diagnose.model import limits as lim
from diagnose.model.findings import CheckOutcome, PathStep
from diagnose.model.report import CheckError, TargetReport
from diagnose.model.text import clip


def target_report(
    c: ContainerEvidence, outcomes: Sequence[CheckOutcome], path: Sequence[PathStep]
) -> TargetReport:
    """Assemble the per-target report from evidence and outcomes."""
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
    outcomes, errors = run_container_checks(c, registry.scoped("container"), debug)
    return target_report(c, outcomes, decision_path(c, outcomes)), errors
