"""`diagnose analyze BUNDLE`: rebuild the evidence from a bundle (no engine) and run the same
checks, through the same pipeline as the live run (:mod:`diagnose.pipeline.replay`)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from diagnose.analysis.registry import registry_for
from diagnose.bundle.reader import BundleReader
from diagnose.evidence import layout
from diagnose.evidence.records import CollectorRecord
from diagnose.model.ignore import IgnoreRule
from diagnose.model.options import run_date
from diagnose.model.times import parse_time
from diagnose.pipeline.replay import replay
from diagnose.pipeline.report import RunResult, build_report
from diagnose.redact.redactor import Redactor


def run_analyze(bundle: Path, plugins: bool = True, debug: bool = False,
                redactor: Redactor | None = None, skip: tuple[str, ...] = (),
                only: tuple[str, ...] = (), ignores: tuple[IgnoreRule, ...] = ()
                ) -> RunResult:
    """Rebuild the evidence from a bundle (no engine) and run the same checks.

    A bundle written with --no-redact is redacted in memory with `redactor` (when given and
    enabled) before the checks see it, so stdout stays free of its secrets.  `skip` and
    `only` select checks as in a live run; `ignores` apply as of this analysis's date.
    """
    registry = registry_for(plugins, skip, only, ignores, run_date(time.time()))
    parts, members = BundleReader(bundle).members()
    manifest = parts.manifest
    was_redacted = bool((manifest.get("redaction") or {}).get("enabled", True))
    if redactor is None or was_redacted:
        redactor = Redactor(enabled=False)
    done = replay(parts, members, registry, redactor, debug=debug)
    started = parse_time(str(manifest.get("started_at", "")))
    facts = done.facts(started.timestamp() if started else 0.0, manifest,
                       [CollectorRecord.from_dict(c) for c in manifest.get("collectors") or ()])
    report = build_report(
        facts, done.merged(registry, redactor, None, debug), mode="offline", bundle=str(bundle),
        redaction=_recorded_redaction(manifest),
        files=[f for f in parts.file_list if f.get("path") not in
               (layout.README, layout.FINDINGS, layout.SUMMARY_MD, layout.SUMMARY_HTML)])
    return RunResult(redactor.scrub(report), None)


def _recorded_redaction(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The redaction report the bundle was written with."""
    red = manifest.get("redaction") or {}
    r = Redactor(enabled=bool(red.get("enabled", True)))
    r.restore_summary(red)
    return r.summary()
