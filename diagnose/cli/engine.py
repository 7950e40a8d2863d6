"""`diagnose engine`: the engine and its host, no container needed (:mod:`diagnose.runs.engine`)."""

# No `from __future__ import annotations`: see cli/app.py.

import sys
from pathlib import Path
from typing import Any

from diagnose.cli.common import collect, output, redact_flags
from diagnose.cli.options import (
    ConfigOpt,
    ContextOpt,
    DeadlineOpt,
    DebugOpt,
    ExitZeroOpt,
    FailOnOpt,
    FormatOpt,
    HostOpt,
    NoColorOpt,
    NoPluginsOpt,
    NoRedactOpt,
    OutputOpt,
    QuietOpt,
    RedactOpt,
    TimeoutOpt,
)
from diagnose.model.options import Progress, RunOptions
from diagnose.render import Format


def _run_engine(opts: RunOptions, progress: Progress) -> Any:
    from diagnose.runs.engine import run_engine  # startup: the run's machinery, when it runs

    return run_engine(opts, progress)


def engine_cmd(
    out: OutputOpt = Path("."),
    host: HostOpt = None,
    context: ContextOpt = None,
    timeout: TimeoutOpt = 30.0,
    deadline: DeadlineOpt = None,
    fmt: FormatOpt = Format.TEXT,
    fail_on: FailOnOpt = "error",
    exit_zero: ExitZeroOpt = False,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_redact: NoRedactOpt = False,
    redact: RedactOpt = None,
    config: ConfigOpt = None,
    no_plugins: NoPluginsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Diagnose the engine and its host (no container needed): API skew, warnings, disk,
    and what cleanup would reclaim; writes diagnose-engine-<time>.tar.gz."""
    shown = output(fmt, fail_on, exit_zero, no_color, quiet)
    patterns = redact_flags(no_redact, redact)
    opts = RunOptions(targets=(), output_dir=out, hosts=tuple(host or ()),
                      contexts=tuple(context or ()),
                      timeout=timeout, deadline=deadline, fail_on=shown.fail_on,
                      redact=not no_redact, redact_patterns=patterns, plugins=not no_plugins,
                      debug=debug, argv=tuple(sys.argv[1:]))
    collect(opts, shown, config, redact, _run_engine)
