"""The tail every bundle-writing run shares: the report, the head files (manifest first,
scrubbed like stdout), and publication after the leak scan of the finished archive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from diagnose.bundle.manifest import Manifest, dump
from diagnose.bundle.rescan import scan_for_secrets
from diagnose.bundle.writer import file_entry
from diagnose.evidence import layout
from diagnose.model.report import Report
from diagnose.pipeline.report import RunFacts, build_report, head_files
from diagnose.pipeline.sink import Pipeline, check_error_files
from diagnose.redact.redactor import Redactor


def publish(pipe: Pipeline, facts: RunFacts, argv: Iterable[str],
            options: Mapping[str, Any]) -> tuple[Report, Path | None]:
    """Write the report, the head files and the manifest of a live run through `pipe`'s
    writer, and publish the bundle once the rescan found no learned secret in it.  Without
    a writer (`--no-bundle`) only the report is made."""
    writer, redactor = pipe.writer, pipe.redactor
    # First: what redacting the command line finds is counted in the report's redaction
    # summary as in the manifest's (the manifest is made after the report).
    command = redacted_argv(argv, redactor)
    if writer is None:
        return redactor.scrub(build_report(facts, pipe, mode="live", bundle=None,
                                           redaction=redactor.summary(), files=[])), None
    pipe.add_files(check_error_files(pipe.errors), redact=True)
    report = redactor.scrub(build_report(facts, pipe, mode="live", bundle=str(writer.final_path),
                                         redaction=redactor.summary(), files=list(writer.files)))
    head = head_files(report)
    manifest = Manifest(
        started=facts.started, finished=time.time(), command=command,
        engine=report.meta["engine"], engines=report.meta.get("engines", []),
        targets=[{"key": r.key, "name": r.name, "id": r.id, "engine": r.engine}
                 for r in facts.reports],
        options=options, records=facts.records,
        checks={"count": len(pipe.registry), "errored": len(pipe.errors),
                "problems": report.meta["problems"]},
        redaction=redactor.summary(),
        files=[*(file_entry(p, d) for p, d in head), *writer.files],
    )
    path = writer.finish([(layout.MANIFEST, dump(redactor.scrub(manifest.document()))), *head],
                         verify=rescan(redactor))
    return report, path


def rescan(redactor: Redactor) -> Callable[[Path], None]:
    """The post-write check of a finished bundle: every value `redactor` learned is looked
    for (see :mod:`diagnose.bundle.rescan`)."""
    secrets = redactor.secrets() if redactor.enabled else []
    return lambda path: scan_for_secrets(path, secrets, redactor.leaks)


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
        if pattern:  # a pattern the user gave is not a secret found: not counted
            with redactor.quiet():
                args[i] = head + redactor.replace(pattern, "user-pattern", layout.MANIFEST,
                                                  learn=False)
    return redactor.argv(args, layout.MANIFEST)
