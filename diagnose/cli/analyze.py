"""`diagnose analyze BUNDLE` and `diagnose redact BUNDLE`: the offline commands, no engine
(:mod:`diagnose.runs.analyze`, :mod:`diagnose.runs.redact`)."""

# No `from __future__ import annotations`: see cli/app.py.

import sys
from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli.common import check_names, check_patterns, guard, output, redaction, say
from diagnose.cli.config import load_config
from diagnose.cli.options import (
    BundleArg,
    ConfigOpt,
    DebugOpt,
    ExitZeroOpt,
    FailOnOpt,
    FormatOpt,
    MinSeverityOpt,
    NoColorOpt,
    NoPluginsOpt,
    OnlyOpt,
    QuietOpt,
    RedactOpt,
    SeverityName,
    SkipOpt,
    VerboseOpt,
)
from diagnose.model.errors import EXIT_OK
from diagnose.render import Format


def analyze_cmd(
    bundle: BundleArg,
    fmt: FormatOpt = Format.TEXT,
    verbose: VerboseOpt = False,
    min_severity: MinSeverityOpt = SeverityName.INFO,
    fail_on: FailOnOpt = SeverityName.ERROR,
    skip: SkipOpt = None,
    only: OnlyOpt = None,
    exit_zero: ExitZeroOpt = False,
    no_color: NoColorOpt = False,
    no_plugins: NoPluginsOpt = False,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Show an -UNREDACTED bundle's "
                                            "secrets on stdout (redacted by default).")]
    = False,
    redact: RedactOpt = None,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Re-read a bundle offline (no engine) and run the same checks."""
    del quiet  # nothing to hide (no progress offline); taken so `diagnose -q analyze X` works
    shown = output(fmt, fail_on, exit_zero, no_color, verbose, min_severity)
    check_patterns(redact)

    def body() -> int:
        from diagnose.redact.redactor import Redactor  # startup: only when the command runs
        from diagnose.runs.analyze import run_analyze  # startup: only when the command runs

        patterns, names = redaction(config, redact)
        redactor = Redactor(not no_redact, patterns, names)
        return shown.emit(run_analyze(bundle, not no_plugins, debug, redactor,
                                      check_names(skip), check_names(only),
                                      load_config(config).ignores))

    guard(body, debug)


def redact_cmd(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="A bundle (.tar.gz) written "
                                           "by diagnose, e.g. an -UNREDACTED one.",
                                           show_default=False)],
    out: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Output file or directory (default: next to BUNDLE, without "
        "-UNREDACTED).")] = None,
    redact: RedactOpt = None,
    config: ConfigOpt = None,
    no_plugins: NoPluginsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Redact an existing bundle into a new file (the input is never changed)."""
    check_patterns(redact)

    def body() -> int:
        from diagnose.redact.redactor import Redactor  # startup: only when the command runs
        from diagnose.runs.redact import redact_bundle  # startup: only when the command runs

        patterns, names = redaction(config, redact)
        result = redact_bundle(bundle, out, Redactor(True, patterns, names),
                               plugins=not no_plugins, debug=debug, argv=tuple(sys.argv[1:]))
        total = sum(n for n in result.redactor.counts.values()) if result.redactor else 0
        typer.echo(f"{result.bundle}")
        say(f"diagnose: redacted bundle written ({total} value(s) replaced): {result.bundle}")
        return EXIT_OK

    guard(body, debug)
