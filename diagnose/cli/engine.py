"""`diagnose engine`: the engine and its host, no container needed (:mod:`diagnose.runs.engine`)."""

# No `from __future__ import annotations`: see cli/app.py.

from pathlib import Path
from typing import Any

from diagnose.cli.common import Shared, collect, collecting, redact_flags
from diagnose.cli.options import (
    ContextOpt,
    DeadlineOpt,
    HostOpt,
    NoBundleOpt,
    OutputOpt,
    TimeoutOpt,
)
from diagnose.model.options import Progress, RunOptions


def _run_engine(opts: RunOptions, progress: Progress) -> Any:
    from diagnose.runs.engine import run_engine  # startup: the run's machinery, when it runs

    return run_engine(opts, progress)


@collecting
def engine_cmd(
    out: OutputOpt = Path("."),
    no_bundle: NoBundleOpt = False,
    host: HostOpt = None,
    context: ContextOpt = None,
    timeout: TimeoutOpt = 30.0,
    deadline: DeadlineOpt = None,
    shared: Shared = None,  # type: ignore[assignment]  # the shared options (collecting)
) -> None:
    """Diagnose the engine and its host (no container needed): API skew, warnings, disk,
    and what cleanup would reclaim; writes diagnose-engine-<time>.tar.gz."""
    shown = shared.output()
    patterns = redact_flags(shared.no_redact, shared.redact)
    opts = shared.options(shown, patterns, targets=(), output_dir=out, bundle=not no_bundle,
                          hosts=tuple(host or ()),
                          contexts=tuple(context or ()), timeout=timeout, deadline=deadline)
    collect(opts, shown, shared, _run_engine)
