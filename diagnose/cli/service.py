"""`diagnose service NAME...`: Swarm services through a manager (:mod:`diagnose.runs.service`)."""

# No `from __future__ import annotations`: see cli/app.py.

from pathlib import Path
from typing import Annotated, Any

import typer

from diagnose.cli.common import Shared, collect, collecting, log_bounds, redact_flags
from diagnose.cli.options import (
    DeadlineOpt,
    ManagerContextOpt,
    ManagerHostOpt,
    OutputOpt,
    SinceOpt,
    TaskJobsOpt,
    TaskMaxLogBytesOpt,
    TaskTailOpt,
    TimeoutOpt,
)
from diagnose.model.options import Progress, RunOptions


def _run_service(opts: RunOptions, progress: Progress) -> Any:
    from diagnose.runs.service import run_service  # startup: the run's machinery, when it runs

    return run_service(opts, progress)


@collecting
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
    shared: Shared = None,  # type: ignore[assignment]  # the shared options (collecting)
) -> None:
    """Diagnose Swarm services through a manager: spec, every task (current and past) with its
    node, state, error and exit code, nodes, update status and logs; task containers on this
    engine's node get the full container diagnosis.  Writes diagnose-service-NAME-<time>.tar.gz."""
    shown = shared.output()
    patterns = redact_flags(shared.no_redact, shared.redact)
    opts = shared.options(
        shown, patterns, targets=tuple(services), output_dir=out,
        hosts=(host,) if host else (), contexts=(context,) if context else (),
        **log_bounds(tail, since, max_log_bytes), timeout=timeout, deadline=deadline, jobs=jobs)
    collect(opts, shown, shared, _run_service)
