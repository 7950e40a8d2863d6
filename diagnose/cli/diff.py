"""`diagnose diff A B`: what differs between two containers, live or in bundles, the
differences that can explain a failure first (:mod:`diagnose.runs.diff`)."""

# No `from __future__ import annotations`: see cli/app.py.

import sys
from pathlib import Path

from diagnose.cli.common import check_patterns, color, fail, guard, log_bounds, redaction
from diagnose.cli.options import (
    AllFieldsOpt,
    ConfigOpt,
    DebugOpt,
    DiffContextOpt,
    DiffHostOpt,
    ExitZeroOpt,
    FormatOpt,
    KeepBundlesOpt,
    MaxLogBytesOpt,
    NoColorOpt,
    NoPluginsOpt,
    QuietOpt,
    RedactOpt,
    SideAArg,
    SideBArg,
    SideContextOpt,
    SideHostOpt,
    SinceOpt,
    TailOpt,
    TimeoutOpt,
)
from diagnose.cli.progress import for_stderr
from diagnose.model.errors import EXIT_OK
from diagnose.model.options import RunOptions
from diagnose.render import Format


def diff_cmd(
    a: SideAArg,
    b: SideBArg,
    fmt: FormatOpt = Format.TEXT,
    all_fields: AllFieldsOpt = False,
    host: DiffHostOpt = None,
    context: DiffContextOpt = None,
    host_a: SideHostOpt = None,
    host_b: SideHostOpt = None,
    context_a: SideContextOpt = None,
    context_b: SideContextOpt = None,
    out: KeepBundlesOpt = None,
    tail: TailOpt = "2000",
    since: SinceOpt = None,
    max_log_bytes: MaxLogBytesOpt = "8M",
    timeout: TimeoutOpt = 30.0,
    exit_zero: ExitZeroOpt = False,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    redact: RedactOpt = None,
    config: ConfigOpt = None,
    no_plugins: NoPluginsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Compare two containers (live on any engine, or in bundles): what differs, the
    differences that can explain a failure first.  Exit 0: nothing that matters differs;
    1: something does."""
    if fmt is Format.JUNIT:  # test cases are a run's checks; a diff has none
        fail("--format junit is for runs; diff writes text, json, markdown or html",
             "`diagnose diff --help` lists the options")
    check_patterns(redact)
    logs = log_bounds(tail, since, max_log_bytes)

    def body() -> int:
        from diagnose.render.diff import render_diff  # startup: only when the command runs
        from diagnose.runs.diff import DiffOptions, SideRef, run_diff  # startup: as above

        patterns, names = redaction(config, redact)
        run = RunOptions(targets=(), output_dir=out or Path("."), **logs, timeout=timeout,
                         redact_patterns=patterns, redact_names=names,
                         plugins=not no_plugins, debug=debug, argv=tuple(sys.argv[1:]))
        sides = [SideRef(label, ref, _one(h or host), _one(c or context))
                 for label, ref, h, c in (("A", a, host_a, context_a),
                                          ("B", b, host_b, context_b))]
        opts = DiffOptions(sides[0], sides[1], run, all_fields, out)
        with for_stderr(quiet, color(no_color, sys.stderr)) as progress:
            diff = run_diff(opts, progress)
        sys.stdout.write(render_diff(diff, fmt, color(no_color) and fmt is Format.TEXT))
        sys.stdout.flush()
        return EXIT_OK if exit_zero else diff.exit_code()

    guard(body, debug)


def _one(value: str | None) -> tuple[str, ...]:
    return (value,) if value else ()
