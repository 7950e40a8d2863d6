"""`diagnose run CONTAINER...` (and `diagnose CONTAINER...`): diagnose containers and write a
support bundle (:mod:`diagnose.runs.live`)."""

# No `from __future__ import annotations`: see cli/app.py.

from pathlib import Path
from typing import Any

from diagnose.cli.common import Shared, collect, collecting, fail, log_bounds, redact_flags
from diagnose.cli.options import (
    AllOpt,
    ContainersArg,
    ContextOpt,
    FilterOpt,
    HostOpt,
    JobsOpt,
    MaxLogBytesOpt,
    NoBundleOpt,
    OutputOpt,
    ProbeOpt,
    ProjectOpt,
    ReadJournalOpt,
    RunDeadlineOpt,
    SinceOpt,
    TailOpt,
    TimeoutOpt,
)
from diagnose.model.options import Progress, RunOptions


def _run_live(opts: RunOptions, progress: Progress) -> Any:
    from diagnose.runs.live import run_live  # startup: the run's machinery, when it runs

    return run_live(opts, progress)


@collecting
def run_cmd(
    containers: ContainersArg = None,
    select_all: AllOpt = False,
    filters: FilterOpt = None,
    project: ProjectOpt = None,
    out: OutputOpt = Path("."),
    no_bundle: NoBundleOpt = False,
    host: HostOpt = None,
    context: ContextOpt = None,
    tail: TailOpt = "2000",
    since: SinceOpt = None,
    max_log_bytes: MaxLogBytesOpt = "8M",
    timeout: TimeoutOpt = 30.0,
    deadline: RunDeadlineOpt = None,
    jobs: JobsOpt = 8,
    shared: Shared = None,  # type: ignore[assignment]  # the shared options (collecting)
    probe: ProbeOpt = False,
    journal: ReadJournalOpt = None,
) -> None:
    """Diagnose containers and write a support bundle."""
    shown = shared.output()
    if not containers and not select_all and not filters and not project:
        fail("name at least one container, or use --all, --filter or --project",
             "e.g. `diagnose web`, `diagnose --filter status=exited`")
    patterns = redact_flags(shared.no_redact, shared.redact)
    opts = shared.options(
        shown, patterns, targets=tuple(containers or ()), select_all=select_all,
        filters=tuple(filters or ()), output_dir=out, bundle=not no_bundle,
        hosts=tuple(host or ()),
        contexts=tuple(context or ()), project=project,
        **log_bounds(tail, since, max_log_bytes), timeout=timeout, deadline=deadline,
        jobs=jobs, probe=probe, journal=journal)
    collect(opts, shown, shared, _run_live)
