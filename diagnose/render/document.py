"""The report as one JSON document (schema `diagnose/v1`); templates render from it too.

diagnose/schema/report-v1.json is the JSON Schema of this document (tests validate real output
against it).  The document is a function of the evidence only: `diagnose analyze` on a bundle
renders it byte for byte the same every time, and the same as the live run apart from `mode`
and `bundle`.  That is why check outcomes carry no duration: how long a pure check took is a
fact about the machine that ran the analysis, not about the containers (collector durations
are kept: they were measured once, at collection, and are stored in the bundle).
"""

from __future__ import annotations

import importlib.resources
import json
from collections import Counter
from typing import Any

from diagnose.model.escape import json_text
from diagnose.model.findings import CheckOutcome, Severity, Status
from diagnose.model.report import Report, ServiceReport, TargetReport

SCHEMA = "diagnose/v1"


def _outcome_counts(outcomes: Any) -> dict[str, int]:
    counts = Counter(o.status.value for o in outcomes)
    return {s.value: counts.get(s.value, 0) for s in Status}


def _target(t: TargetReport) -> dict[str, Any]:
    verdict = t.verdict
    return {
        "key": t.key,
        "name": t.name,
        "id": t.id,
        "image": t.image,
        "state": {"status": t.status, "exit_code": t.exit_code, "summary": t.summary},
        "verdict": _verdict(verdict) if verdict else None,
        "findings": [f.to_dict() for f in t.findings],
        "checks": [_outcome(o) for o in t.outcomes],
        "check_counts": _outcome_counts(t.outcomes),
        "path": [s.to_dict() for s in t.path],
        "collectors": list(t.collectors),
        "engine": t.engine,
        "project": t.project,
        "service": t.service,
    }


def _service(s: ServiceReport) -> dict[str, Any]:
    verdict = s.verdict
    return {
        "key": s.key,
        "name": s.name,
        "id": s.id,
        "summary": s.summary,
        **s.overview,
        "verdict": _verdict(verdict) if verdict else None,
        "findings": [f.to_dict() for f in s.findings],
        "checks": [_outcome(o) for o in s.outcomes],
        "check_counts": _outcome_counts(s.outcomes),
        "collectors": list(s.collectors),
    }


def _outcome(o: CheckOutcome) -> dict[str, Any]:
    doc = o.to_dict()
    doc.pop("duration_ms", None)  # volatile: see the module docstring
    return doc


def _verdict(f: Any) -> dict[str, Any]:
    return {
        "target": f.target,
        "id": f.id,
        "code": f.code,
        "severity": f.severity.label if f.severity else None,
        "confidence": f.confidence.value,
        "title": f.title,
    }


def build(report: Report) -> dict[str, Any]:
    """The whole report as plain data."""
    meta = report.meta
    findings = report.findings
    counts = Counter(f.severity.label for f in findings
                     if f.severity is not None and f.suppressed is None)
    worst = report.worst()
    doc = {
        "schema": SCHEMA,
        "tool": {"name": "diagnose", "version": meta.get("tool_version", "")},
        "mode": meta.get("mode", "live"),
        "generated_at": meta.get("generated_at", ""),
        "bundle": meta.get("bundle"),
        "engine": meta.get("engine", {}),
        "engines": meta.get("engines", []),
        "host": meta.get("host", {}),
        "verdict": _verdict(report.verdict) if report.verdict else None,
        "worst_severity": worst.label if worst is not None else None,
        "counts": {s.label: counts.get(s.label, 0) for s in sorted(Severity, reverse=True)},
        "targets": [_target(t) for t in report.targets],
        "run": {
            "findings": [f.to_dict() for f in report.run_findings],
            "checks": [_outcome(o) for o in report.run_outcomes],
            "check_counts": _outcome_counts(report.run_outcomes),
        },
        "redaction": meta.get("redaction", {"enabled": True, "counts": []}),
        "collectors_failed": meta.get("collectors_failed", []),
        "problems": meta.get("problems", []),
        "files": meta.get("files", []),
    }
    if report.services:  # `diagnose service`; other runs keep the document they always had
        doc["services"] = [_service(s) for s in report.services]
    return doc


def schema() -> dict[str, Any]:
    """The JSON Schema of this document, as shipped inside the package."""
    text = importlib.resources.files("diagnose").joinpath("schema/report-v1.json").read_text(
        encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def dumps(doc: dict[str, Any]) -> str:
    """Stable JSON text (control and bidi characters escaped)."""
    return json_text(doc) + "\n"
