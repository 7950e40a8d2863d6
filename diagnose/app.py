"""What every run shares: publishing a bundle, and the offline run (`diagnose analyze`).

The live run is :mod:`diagnose.live`.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from diagnose import layout
from diagnose.analyse import Report
from diagnose.archive import scan_for_secrets
from diagnose.bundle import BundleReader
from diagnose.redact import Redactor
from diagnose.render import Format, render
from diagnose.run import (
    Pipeline,
    RunOptions,
    RunResult,
    build_meta,
    bundle_name,
    check_error_files,
    dump,
    manifest_document,
    now,
    problems_of,
    redacted_argv,
    registry_for,
)
from diagnose.snapshot import CollectorRecord, EngineFacts, HostFacts


def publish(*, pipe: Pipeline, started: float, engine: EngineFacts, source: str,
            host: HostFacts, records: list[CollectorRecord], reports: list[Any],
            run_outcomes: list[Any], argv: tuple[str, ...], options: dict[str, Any],
            engines: list[dict[str, Any]] | None = None) -> tuple[Report, Path]:
    """The tail every bundle-writing run shares: the report, the head files (manifest first,
    scrubbed like stdout), and publication after the leak scan of the finished archive."""
    writer, redactor = pipe.writer, pipe.redactor
    assert writer is not None
    pipe.add_files(check_error_files(pipe.errors), redact=True)
    report = redactor.scrub(_report(
        mode="live", started=started, engine=engine, source=source, host=host,
        bundle=str(writer.final_path), redactor=redactor, records=records,
        pipe=pipe, reports=reports, run_outcomes=run_outcomes, files=list(writer.files),
        engines=engines,
    ))
    head = _head_files(report)
    files_all = [*({"path": p, "size": len(d), "sha256": _sha(d)} for p, d in head),
                 *writer.files]
    manifest = redactor.scrub(manifest_document(
        started=started, finished=now(), argv=redacted_argv(argv, redactor),
        engine=report.meta["engine"], records=records, files=files_all,
        redaction=redactor.summary(),
        targets=[{"key": r.key, "name": r.name, "id": r.id, "engine": r.engine}
                 for r in reports],
        options=options, engines=report.meta.get("engines", []),
        checks={"count": len(pipe.registry), "errored": len(pipe.errors),
                "problems": report.meta["problems"]},
    ))
    path = writer.finish([(layout.MANIFEST, dump(manifest)), *head],
                         verify=lambda tmp: scan_for_secrets(tmp, redactor))
    return report, path


@contextlib.contextmanager
def _pool(workers: int, name: str) -> Iterator[cf.ThreadPoolExecutor]:
    """A thread pool that never waits at exit for engine calls nobody needs any more
    (Ctrl-C, or the deadline passed): each ends by itself within --timeout."""
    pool = cf.ThreadPoolExecutor(workers, thread_name_prefix=name)
    try:
        yield pool
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _open_writer(opts: RunOptions, keys: list[str], started: float) -> Any:
    from diagnose.archive import BundleWriter

    return BundleWriter(opts.output_dir, bundle_name(keys, started, opts.redact))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _report(*, mode: str, started: float, engine: EngineFacts, source: str, host: HostFacts,
            bundle: str | None, redactor: Redactor, records: list[CollectorRecord],
            pipe: Pipeline, reports: list[Any], run_outcomes: list[Any],
            files: list[dict[str, Any]], engines: list[dict[str, Any]] | None = None) -> Report:
    meta = build_meta(
        mode=mode, started=started, engine=engine, source=source, host=host, bundle=bundle,
        redactor=redactor, records=records, problems=problems_of(pipe.registry, pipe.errors),
        files=files,
    )
    meta["engines"] = engines if engines is not None else [{
        "label": "engine", "endpoint": engine.endpoint, "source": source, "status": "ok",
        "reason": "", "prefix": "", "local": engine.local, "targets": len(reports),
        "version": str(engine.version.get("Version", "")),
        "api_version": str(engine.version.get("ApiVersion", "")),
    }]
    return Report(tuple(reports), tuple(run_outcomes), meta, tuple(pipe.errors),
                  tuple(pipe.services))


def _head_files(report: Report) -> list[tuple[str, bytes]]:
    """findings.json, summary.md and summary.html.

    They are rendered from the report, which is built from redacted evidence and scrubbed
    (:meth:`Redactor.scrub`) like stdout; the post-write rescan covers them as every file.
    """
    return [(path, render(report, fmt).encode("utf-8"))
            for path, fmt in ((layout.FINDINGS, Format.JSON), (layout.SUMMARY_MD, Format.MARKDOWN),
                              (layout.SUMMARY_HTML, Format.HTML))]


def run_analyze(bundle: Path, plugins: bool = True, debug: bool = False,
                redactor: Redactor | None = None) -> RunResult:
    """Rebuild the evidence from a bundle (no engine) and run the same checks.

    A bundle written with --no-redact is redacted in memory with `redactor` (when given and
    enabled) before the checks see it, so stdout stays free of its secrets.
    """
    from diagnose.replay import replay

    registry = registry_for(plugins)
    parts, members = BundleReader(bundle).members()
    manifest = parts.manifest
    was_redacted = bool((manifest.get("redaction") or {}).get("enabled", True))
    if redactor is None or was_redacted:
        redactor = Redactor(enabled=False)
    done = replay(parts, members, registry, redactor, debug=debug)
    first = done.engines[0]
    assert first.engine is not None and first.host is not None
    collected_at = str(manifest.get("started_at", ""))
    pipe = Pipeline(registry, redactor, None, debug,
                    errors=[e for er in done.engines for e in er.pipe.errors],
                    services=[s for er in done.engines for s in er.pipe.services])
    report = _report(
        mode="offline", started=_parse_epoch(collected_at), engine=first.engine,
        source=str((manifest.get("engine") or {}).get("source", "")), host=first.host,
        bundle=str(bundle), redactor=_recorded_redaction(manifest),
        records=[CollectorRecord.from_dict(c) for c in manifest.get("collectors") or ()],
        pipe=pipe, reports=done.reports, run_outcomes=done.run_outcomes,
        files=[f for f in parts.file_list if f.get("path") not in
               (layout.FINDINGS, layout.SUMMARY_MD, layout.SUMMARY_HTML)],
        engines=manifest.get("engines") or None,
    )
    return RunResult(redactor.scrub(report), None)


def _json_or_empty(data: bytes | None) -> dict[str, Any]:
    try:
        doc = json.loads(data or b"{}")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _recorded_redaction(manifest: dict[str, Any]) -> Redactor:
    """A stand-in that reports the redaction the bundle was written with."""
    red = manifest.get("redaction") or {}
    r = Redactor(enabled=bool(red.get("enabled", True)))
    r.restore_summary(red)
    return r


def _parse_epoch(stamp: str) -> float:
    from diagnose.snapshot import parse_time

    t = parse_time(stamp)
    return t.timestamp() if t else 0.0

