"""Orchestration: collect -> redact -> analyse -> render/archive, live or from a bundle.

Both paths feed :class:`Pipeline` the same way, one container at a time, so `diagnose analyze`
on a bundle reproduces the live run's findings exactly.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from diagnose import __version__, layout
from diagnose.analyse import (
    CheckError,
    Report,
    ServiceReport,
    TargetReport,
    analyse_container,
    run_snapshot_checks,
)
from diagnose.archive import BundleWriter
from diagnose.engine_readings import disk_usage_line, storage_status
from diagnose.jsonview import as_list, as_map, dig, number
from diagnose.logwindow import LogBody, LogCut
from diagnose.model import CheckOutcome, Finding, PathStep
from diagnose.options import RunOptions as RunOptions  # where the CLI builds it
from diagnose.redact import Redactor
from diagnose.registry import Registry, load_registry
from diagnose.render.escape import json_text
from diagnose.snapshot import (
    CollectorRecord,
    CollectorStatus,
    ContainerEvidence,
    EngineFacts,
    HostFacts,
    Snapshot,
    without_logs,
)

#: How a run says what it is doing (diagnose.progress displays it, or not).
Progress = Callable[[str], None]


@dataclass
class RunResult:
    """What a run produced."""

    report: Report
    bundle: Path | None
    redactor: Redactor | None = None


def utc_stamp(t: float) -> str:
    """RFC 3339 UTC with seconds."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bundle_name(keys: list[str], started: float, redacted: bool) -> str:
    """`diagnose-<target or multi>-<UTC time>.tar.gz` (`-UNREDACTED` when redaction is off)."""
    who = keys[0] if len(keys) == 1 else "multi"
    stamp = datetime.fromtimestamp(started, UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "" if redacted else "-UNREDACTED"
    return f"diagnose-{layout.safe_component(who)}-{stamp}{suffix}.tar.gz"


def unique_keys(inspects: Iterable[dict[str, Any]]) -> list[str]:
    """One safe, unique directory name per container (its name, else its short ID)."""
    keys: list[str] = []
    for ins in inspects:
        base = layout.safe_component(str(ins.get("Name", "")).lstrip("/"),
                                     str(ins.get("Id", ""))[:12] or "container")
        key = base
        if key in keys:
            key = f"{base}-{str(ins.get('Id', ''))[:12]}"
        keys.append(key)
    return keys


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
    services: list[ServiceReport] = field(default_factory=list)  # diagnose.service_run

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
        reports = [_link(r, linked.get(r.key, [])) for r in self.reports]
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


def _link(report: TargetReport, found: list[Finding]) -> TargetReport:
    """Attach run-scope findings to a target, and say so on its decision path."""
    if not found:
        return report
    from diagnose.registry import STAGES

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


def _engine_summary(engine: EngineFacts, source: str) -> dict[str, Any]:
    v = engine.version
    info = engine.info
    return {
        "endpoint": engine.endpoint,
        "source": source,
        "local": engine.local,
        "version": v.get("Version", ""),
        "api_version": v.get("ApiVersion", ""),
        "negotiated_api_version": v.get("NegotiatedAPIVersion", ""),
        "os": info.get("OperatingSystem", v.get("Os", "")),
        "arch": engine.architecture,
        "kernel": info.get("KernelVersion", v.get("KernelVersion", "")),
        "storage_driver": info.get("Driver", ""),
        "storage_driver_status": storage_status(info),
        "disk_usage": disk_usage_line(engine.df),
        "warnings": len(as_list(info.get("Warnings"))),
        "cgroup_version": info.get("CgroupVersion", ""),
        "data_root": info.get("DockerRootDir", ""),
    }


def _host_summary(host: HostFacts) -> dict[str, Any]:
    d = host.data
    if not d:
        return {}
    out: dict[str, Any] = {
        "hostname": d.get("hostname"),
        "cpus": d.get("cpus_logical"),
        "load_average": ", ".join(f"{number(x):.2f}" for x in as_list(d.get("load_average"))),
        "memory_available_percent": round(100 - number(dig(d, "memory", "percent")), 1),
    }
    root = as_map(d.get("data_root"))
    if "free" in root:
        out["data_root_free_percent"] = round(100 - number(root.get("percent")), 1)
    return out


def redacted_argv(argv: Iterable[str], redactor: Redactor) -> list[str]:
    """The command line for the manifest, with secret flags and patterns removed.

    A `--redact` pattern goes too: it may be the secret itself, written out literally.
    """
    if not redactor.enabled:
        return list(argv)
    args = list(argv)
    for i, arg in enumerate(args):
        head, pattern = ("", arg) if i and args[i - 1] == "--redact" else \
            ("--redact=", arg[9:]) if arg.startswith("--redact=") else ("", "")
        if pattern:  # (not counted: the report is already written when this runs)
            with redactor.quiet():
                args[i] = head + redactor.replace(pattern, "user-pattern", layout.MANIFEST,
                                                  learn=False)
    return redactor.argv(args, layout.MANIFEST)


def build_meta(
    *, mode: str, started: float, engine: EngineFacts, source: str, host: HostFacts,
    bundle: str | None, redactor: Redactor, records: Iterable[CollectorRecord],
    problems: list[dict[str, str]], files: list[dict[str, Any]],
) -> dict[str, Any]:
    """Report metadata shared by live and offline runs."""
    failed = [
        {"owner": r.owner, "name": r.name, "reason": r.reason}
        for r in records if r.status == CollectorStatus.FAILED
    ]
    return {
        "tool_version": __version__,
        "mode": mode,
        "generated_at": utc_stamp(started),
        "bundle": bundle,
        "engine": _engine_summary(engine, source),
        "host": _host_summary(host),
        "redaction": redactor.summary(),
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


def manifest_document(
    *, started: float, finished: float, argv: list[str], engine: dict[str, Any],
    records: Iterable[CollectorRecord], files: list[dict[str, Any]],
    redaction: dict[str, Any], targets: list[dict[str, Any]], options: dict[str, Any],
    checks: dict[str, Any], engines: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """manifest.json: what ran, when, against which engine, what each collector did."""
    return {
        "schema": layout.BUNDLE_SCHEMA,
        "tool": {"name": "diagnose", "version": __version__},
        "command": argv,
        "started_at": utc_stamp(started),
        "finished_at": utc_stamp(finished),
        "duration_s": round(finished - started, 3),
        "engine": engine,
        "engines": engines or [],
        "targets": targets,
        "options": options,
        "collectors": [r.to_dict() for r in records],
        "checks": checks,
        "redaction": redaction,
        "files": files,
    }


def dump(doc: Any) -> bytes:
    """JSON bytes as the bundle stores them (control and bidi characters escaped)."""
    return (json_text(doc) + "\n").encode("utf-8")


def registry_for(plugins: bool) -> Registry:
    """The check registry (plugins may be disabled by flag or DIAGNOSE_NO_PLUGINS=1)."""
    if os.environ.get("DIAGNOSE_NO_PLUGINS", "") not in ("", "0"):
        plugins = False
    return load_registry(plugins=plugins)


def now() -> float:
    """Wall clock (orchestration may read it; checks never do)."""
    return time.time()
