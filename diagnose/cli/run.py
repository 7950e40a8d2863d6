"""`diagnose run CONTAINER...` (and `diagnose CONTAINER...`): diagnose containers and write a
support bundle (:mod:`diagnose.runs.live`)."""

# No `from __future__ import annotations`: see cli/app.py.

import sys
import time
from pathlib import Path
from typing import Any

from diagnose.cli.common import collect, fail, output, parse, redact_flags
from diagnose.cli.options import (
    AllOpt,
    ConfigOpt,
    ContainersArg,
    ContextOpt,
    DebugOpt,
    ExitZeroOpt,
    FailOnOpt,
    FilterOpt,
    FormatOpt,
    HostOpt,
    JobsOpt,
    MaxLogBytesOpt,
    NoColorOpt,
    NoPluginsOpt,
    NoRedactOpt,
    OutputOpt,
    ProbeOpt,
    ProjectOpt,
    QuietOpt,
    RedactOpt,
    RunDeadlineOpt,
    SinceOpt,
    TailOpt,
    TimeoutOpt,
)
from diagnose.cli.values import parse_since, parse_size, parse_tail
from diagnose.model.options import Progress, RunOptions
from diagnose.render import Format


def _run_live(opts: RunOptions, progress: Progress) -> Any:
    from diagnose.runs.live import run_live  # startup: the run's machinery, when it runs

    return run_live(opts, progress)


def run_cmd(
    containers: ContainersArg = None,
    select_all: AllOpt = False,
    filters: FilterOpt = None,
    project: ProjectOpt = None,
    out: OutputOpt = Path("."),
    host: HostOpt = None,
    context: ContextOpt = None,
    tail: TailOpt = "2000",
    since: SinceOpt = None,
    max_log_bytes: MaxLogBytesOpt = "8M",
    timeout: TimeoutOpt = 30.0,
    deadline: RunDeadlineOpt = None,
    jobs: JobsOpt = 8,
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
    probe: ProbeOpt = False,
) -> None:
    """Diagnose containers and write a support bundle."""
    shown = output(fmt, fail_on, exit_zero, no_color, quiet)
    if not containers and not select_all and not filters and not project:
        fail("name at least one container, or use --all, --filter or --project",
             "e.g. `diagnose web`, `diagnose --filter status=exited`")
    patterns = redact_flags(no_redact, redact)
    opts = RunOptions(
        targets=tuple(containers or ()),
        select_all=select_all,
        filters=tuple(filters or ()),
        output_dir=out,
        hosts=tuple(host or ()),
        contexts=tuple(context or ()),
        project=project,
        tail=parse(parse_tail, tail, "--tail"),
        since=parse(lambda s: parse_since(s, time.time()), since, "--since") if since else None,
        max_log_bytes=parse(parse_size, max_log_bytes, "--max-log-bytes"),
        timeout=timeout,
        deadline=deadline,
        jobs=jobs,
        fail_on=shown.fail_on,
        redact=not no_redact,
        redact_patterns=patterns,
        plugins=not no_plugins,
        debug=debug,
        argv=tuple(sys.argv[1:]),
        probe=probe,
    )
    collect(opts, shown, config, redact, _run_live)
