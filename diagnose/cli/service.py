"""`diagnose service NAME...`: Swarm services through a manager (:mod:`diagnose.runs.service`)."""

# No `from __future__ import annotations`: see cli/app.py.

import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from diagnose.cli.common import collect, output, parse, redact_flags
from diagnose.cli.options import (
    ConfigOpt,
    DeadlineOpt,
    DebugOpt,
    ExitZeroOpt,
    FailOnOpt,
    FormatOpt,
    ManagerContextOpt,
    ManagerHostOpt,
    NoColorOpt,
    NoPluginsOpt,
    NoRedactOpt,
    OutputOpt,
    QuietOpt,
    RedactOpt,
    SinceOpt,
    TaskJobsOpt,
    TaskMaxLogBytesOpt,
    TaskTailOpt,
    TimeoutOpt,
)
from diagnose.cli.values import parse_since, parse_size, parse_tail
from diagnose.model.options import Progress, RunOptions
from diagnose.render import Format


def _run_service(opts: RunOptions, progress: Progress) -> Any:
    from diagnose.runs.service import run_service  # startup: the run's machinery, when it runs

    return run_service(opts, progress)


def service_cmd(
    services: Annotated[list[str], typer.Argument(
        metavar="NAME", help="Swarm service names, IDs or unique ID prefixes.",
        show_default=False)],
    out: OutputOpt = Path("."),
    host: ManagerHostOpt = None,
    context: ManagerContextOpt = None,
    tail: TaskTailOpt = "2000",
    since: SinceOpt = None,
    max_log_bytes: TaskMaxLogBytesOpt = "8M",
    timeout: TimeoutOpt = 30.0,
    deadline: DeadlineOpt = None,
    jobs: TaskJobsOpt = 8,
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
    """Diagnose Swarm services through a manager: spec, every task (current and past) with its
    node, state, error and exit code, nodes, update status and logs; task containers on this
    engine's node get the full container diagnosis.  Writes diagnose-service-NAME-<time>.tar.gz."""
    shown = output(fmt, fail_on, exit_zero, no_color, quiet)
    patterns = redact_flags(no_redact, redact)
    opts = RunOptions(
        targets=tuple(services), output_dir=out, hosts=(host,) if host else (),
        contexts=(context,) if context else (),
        tail=parse(parse_tail, tail, "--tail"),
        since=parse(lambda v: parse_since(v, time.time()), since, "--since") if since else None,
        max_log_bytes=parse(parse_size, max_log_bytes, "--max-log-bytes"),
        timeout=timeout, deadline=deadline, jobs=jobs, fail_on=shown.fail_on,
        redact=not no_redact, redact_patterns=patterns, plugins=not no_plugins, debug=debug,
        argv=tuple(sys.argv[1:]),
    )
    collect(opts, shown, config, redact, _run_service)
