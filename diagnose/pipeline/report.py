"""The report of a run, live or offline: its metadata, and the files rendered from it.

Every run ends the same way whatever produced its evidence: the :class:`RunFacts` it gathered
become a :class:`~diagnose.model.report.Report` (:func:`build_report`), which the CLI prints
and a bundle carries as README.txt, findings.json, summary.md and summary.html
(:func:`head_files`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diagnose import __version__
from diagnose.analysis.registry import Registry
from diagnose.bundle.manifest import engine_entry, engine_summary, host_summary
from diagnose.bundle.readme import readme
from diagnose.evidence import layout
from diagnose.evidence.engine import EngineFacts, HostFacts
from diagnose.evidence.records import CollectorRecord, CollectorStatus
from diagnose.model.findings import CheckOutcome
from diagnose.model.report import CheckError, Report, TargetReport
from diagnose.model.times import utc_stamp
from diagnose.pipeline.sink import Pipeline
from diagnose.redact.redactor import Redactor
from diagnose.render import Format, render


@dataclass
class RunResult:
    """What a run produced."""

    report: Report
    bundle: Path | None
    redactor: Redactor | None = None


@dataclass(frozen=True)
class RunFacts:
    """What a run found, live or read back from a bundle: what its report and manifest say."""

    #: When the run started (a replay: when the bundle's run started).
    started: float
    #: The (first) engine's evidence, and how it was named (--host, a context, DOCKER_HOST).
    engine: EngineFacts
    source: str
    host: HostFacts
    #: Every collector's record, the targets' reports and the run-scope outcomes.
    records: Sequence[CollectorRecord]
    reports: Sequence[TargetReport]
    run_outcomes: Sequence[CheckOutcome]
    #: The engines of the run (see :func:`engine_entry`); None: the one engine above.
    engines: Sequence[Mapping[str, Any]] | None = None


def build_meta(facts: RunFacts, *, mode: str, bundle: str | None,
               redaction: Mapping[str, Any], problems: list[dict[str, str]],
               files: list[dict[str, Any]]) -> dict[str, Any]:
    """Report metadata shared by live and offline runs."""
    failed = [
        {"owner": r.owner, "name": r.name, "reason": r.reason}
        for r in facts.records if r.status == CollectorStatus.FAILED
    ]
    return {
        "tool_version": __version__,
        "mode": mode,
        "generated_at": utc_stamp(facts.started),
        "bundle": bundle,
        "engine": engine_summary(facts.engine, facts.source),
        "host": host_summary(facts.host),
        "redaction": dict(redaction),
        "collectors_failed": failed,
        "problems": problems,
        "files": files,
    }


def problems_of(registry: Registry, errors: Iterable[CheckError]) -> list[dict[str, str]]:
    """Plugin load problems and checks that raised, for the report."""
    out = [{"source": p.source, "message": p.message} for p in registry.problems]
    out += [{"source": f"check {e.code} on {e.target}",
             "message": e.trace.strip().splitlines()[-1]} for e in errors]
    return out


def build_report(facts: RunFacts, pipe: Pipeline, *, mode: str, bundle: str | None,
                 redaction: Mapping[str, Any], files: list[dict[str, Any]]) -> Report:
    """The report of a run: `live` or `offline` (`mode`), its bundle (None: none written),
    the redaction it was written with and the files the bundle holds."""
    meta = build_meta(facts, mode=mode, bundle=bundle, redaction=redaction,
                      problems=problems_of(pipe.registry, pipe.errors), files=files)
    engine = facts.engine
    meta["engines"] = list(facts.engines) if facts.engines is not None else [engine_entry(
        "engine", engine.endpoint, facts.source, engine.local, len(facts.reports),
        engine.version)]
    return Report(tuple(facts.reports), tuple(facts.run_outcomes), meta,
                  services=tuple(pipe.services))


def head_files(report: Report) -> list[tuple[str, bytes]]:
    """README.txt (what the bundle is: :mod:`diagnose.bundle.readme`), findings.json,
    summary.md and summary.html, in that order (after the manifest).

    They are rendered from the report, which is built from redacted evidence and scrubbed
    (:meth:`Redactor.scrub`) like stdout; the post-write rescan covers them as every file.
    """
    if report.services:
        note = readme("services", [s.name for s in report.services])
    elif report.targets:
        note = readme("containers", [t.name for t in report.targets])
    else:
        note = readme("engine", [])
    return [(layout.README, note), *((path, render(report, fmt).encode("utf-8"))
            for path, fmt in ((layout.FINDINGS, Format.JSON), (layout.SUMMARY_MD, Format.MARKDOWN),
                              (layout.SUMMARY_HTML, Format.HTML)))]
