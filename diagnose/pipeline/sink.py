"""The sink every run feeds: redact -> analyse -> (optionally) archive, one target at a time.

Live runs, `diagnose engine`, `diagnose service`, and the offline `diagnose analyze` and
`diagnose redact` all feed :class:`Pipeline` the same way, so the offline path reproduces the
live run's findings exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnose.analysis.registry import Registry
from diagnose.analysis.runner import run_snapshot_checks
from diagnose.analysis.services import analyse_service
from diagnose.analysis.targets import analyse_container
from diagnose.bundle.manifest import dump
from diagnose.bundle.writer import BundleWriter
from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.engine import EngineFacts, HostFacts
from diagnose.evidence.logwindow import LogBody, LogCut
from diagnose.evidence.records import CollectorRecord
from diagnose.evidence.service import ServiceEvidence
from diagnose.evidence.snapshot import Snapshot, without_logs
from diagnose.model.checks import STAGES
from diagnose.model.findings import CheckOutcome, Finding, PathStep
from diagnose.model.jsonview import load_object
from diagnose.model.report import CheckError, ServiceReport, TargetReport
from diagnose.redact.redactor import Redactor


@dataclass
class Pipeline:
    """Redact -> analyse -> (optionally) archive, one container at a time."""

    registry: Registry
    redactor: Redactor
    writer: BundleWriter | None = None
    debug: bool = False
    #: `engines/<label>/` in a run over several engines: every path of this engine gets it.
    prefix: str = ""
    engine_label: str = ""
    reports: list[TargetReport] = field(default_factory=list)
    kept: list[ContainerEvidence] = field(default_factory=list)
    errors: list[CheckError] = field(default_factory=list)
    records: list[CollectorRecord] = field(default_factory=list)
    services: list[ServiceReport] = field(default_factory=list)
    #: Called with each container's whole evidence (logs included) once analysed: for a
    #: command that needs more than the light view kept for the run-scope checks (diff).
    whole: Callable[[ContainerEvidence], None] | None = None

    def add_files(self, files: dict[str, bytes], redact: bool = True) -> dict[str, bytes]:
        """Redact engine-level files and stream them to the archive (under this engine's
        prefix); returns them keyed as the snapshot knows them (without the prefix)."""
        clean = self.redactor.files(files, self.prefix.rstrip("/")) if redact else files
        if self.writer is not None:
            self.writer.add_many((self.prefix + p, d) for p, d in clean.items())
        return clean

    def container(
        self, key: str, files: Mapping[str, bytes | LogBody],
        records: dict[str, CollectorRecord], engine: EngineFacts, collected_at: str,
        redact: bool = True,
    ) -> TargetReport:
        """Analyse one container and stream its files out; keep only its light view.

        A :class:`LogBody` (a large log read from a bundle) is already redacted: its window
        is analysed, its spooled body written."""
        prefix = self.prefix + layout.container_dir(key)
        clean, view, cuts = self.prepare(files, prefix, redact)
        ev = ContainerEvidence(key, view, records, engine, collected_at, self.prefix, cuts)
        report, errors = analyse_container(ev, self.registry, self.debug)
        if self.engine_label:
            report = dataclasses.replace(report, engine=self.engine_label)
        self.write(prefix, clean)
        self.reports.append(report)
        self.errors.extend(errors)
        self.records.extend(records.values())
        self.kept.append(without_logs(ev))
        if self.whole is not None:
            self.whole(ev)
        return report

    def service(
        self, key: str, files: Mapping[str, bytes | LogBody],
        records: Mapping[str, CollectorRecord], engine: EngineFacts, collected_at: str,
        redact: bool = True,
    ) -> ServiceReport:
        """Analyse one Swarm service and stream its files out.  Call it after the task
        containers went through :meth:`container`, so the report can link tasks to their
        diagnosed containers."""
        prefix = layout.service_dir(key)
        spec = files.get(layout.SERVICE_SPEC, b"{}")
        if redact and isinstance(spec, bytes):  # its env and labels, before any file
            self.redactor.learn_inspect(load_object(spec))
        clean, view, cuts = self.prepare(files, prefix, redact)
        ev = ServiceEvidence(key, view, records, engine, collected_at, cuts)
        report, errors = analyse_service(ev, self.registry, self.kept, self.debug)
        self.write(prefix, clean)
        self.services.append(report)
        self.errors.extend(errors)
        self.records.extend(records.values())  # into the manifest, as for a container
        return report

    def prepare(self, files: Mapping[str, bytes | LogBody], prefix: str, redact: bool
                ) -> tuple[dict[str, bytes | LogBody], dict[str, bytes], dict[str, LogCut]]:
        """(files as they are written, in their order; what the checks see; where the
        checks' log windows skip lines)."""
        plain = {k: v for k, v in files.items() if isinstance(v, bytes)}
        clean = self.redactor.files(plain, prefix) if redact else plain
        if redact:  # what redaction found, as evidence (analyze of a bundle reads it back)
            clean = with_redaction_record(clean, self.redactor.weak_record(
                f"{prefix}/{layout.INSPECT}", plain.get(layout.INSPECT)))
        # Files in their collected order (the redaction record replaces any old one).
        written: dict[str, bytes | LogBody] = {
            k: (clean[k] if isinstance(v, bytes) else v) for k, v in files.items()
            if not isinstance(v, bytes) or k in clean}
        written.update((k, v) for k, v in clean.items() if k not in written)
        view = {k: v.window if isinstance(v, LogBody) else v for k, v in written.items()}
        cuts = {k: v.cut for k, v in files.items() if isinstance(v, LogBody) and v.cut}
        return written, view, cuts

    def write(self, prefix: str, files: Mapping[str, bytes | LogBody]) -> None:
        """Stream files out under `prefix/` (spooled bodies read back in chunks)."""
        if self.writer is None:
            return
        for rel, data in files.items():
            if isinstance(data, bytes):
                self.writer.add(f"{prefix}/{rel}", data)
            else:
                assert data.spool is not None
                with data.spool:
                    self.writer.add_stream(f"{prefix}/{rel}", data.spool, data.size)

    def finish(self, engine: EngineFacts, host: HostFacts, run: dict[str, Any],
               order: list[str] | None = None) -> tuple[list[TargetReport], list[CheckOutcome]]:
        """Run-scope checks over the whole snapshot; targets back in the order given.

        A run-scope finding about one target (its `target` is that container's key, e.g. a
        Compose service whose dependency failed) is listed with that target and counts for its
        verdict; the others stay run-level.  In a run over several engines the run-level ones
        are attributed to this engine's label.
        """
        snap = Snapshot(engine, host, tuple(self.kept), run)
        outcomes, errors = run_snapshot_checks(snap, self.registry.scoped("run"), self.debug)
        self.errors.extend(errors)
        keys = {r.key for r in self.reports}
        if self.engine_label:
            outcomes = [dataclasses.replace(o, target=self.engine_label, findings=tuple(
                f if f.target in keys else dataclasses.replace(f, target=self.engine_label)
                for f in o.findings)) for o in outcomes]
        linked: dict[str, list[Finding]] = {}
        for o in outcomes:
            for f in o.findings:
                if f.target in keys:
                    linked.setdefault(f.target, []).append(f)
        reports = [link(r, linked.get(r.key, [])) for r in self.reports]
        if order:
            rank = {k: i for i, k in enumerate(order)}
            reports.sort(key=lambda r: rank.get(r.key, len(rank)))
        return reports, outcomes


def with_redaction_record(files: dict[str, bytes], weak: list[dict[str, str]]
                          ) -> dict[str, bytes]:
    """A container's files with its redaction.json (the weak secrets found in its
    inspect.json; see checks/weak_default_password.py), or without one when there are none."""
    out = {k: v for k, v in files.items() if k != layout.REDACTION}
    if weak:
        out[layout.REDACTION] = dump({"weak": weak})
    return out


def link(report: TargetReport, found: list[Finding]) -> TargetReport:
    """Attach run-scope findings to a target, and say so on its decision path."""
    if not found:
        return report
    questions = dict(STAGES)
    steps = list(report.path)
    for stage in dict.fromkeys(f.stage for f in found):
        ids = ", ".join(dict.fromkeys(f.id for f in found if f.stage == stage))
        titles = "; ".join(f.title for f in found if f.stage == stage)
        steps.append(PathStep(stage, questions.get(stage, stage), f"{titles} -> {ids}"))
    return dataclasses.replace(report, linked=tuple(found), path=tuple(steps))


def check_error_files(errors: Iterable[CheckError]) -> dict[str, bytes]:
    """Tracebacks of checks that raised, as bundle files."""
    return {
        f"{layout.ERRORS_DIR}/checks/{layout.safe_component(e.target)}-{e.code}.txt":
            e.trace.encode("utf-8", "replace")
        for e in errors
    }
