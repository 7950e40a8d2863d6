"""The options of a run, as the CLI parsed and validated them, and how a run reports progress.

Light on purpose: the CLI builds :class:`RunOptions` before anything heavy is imported, so the
pipeline's modules can load while the engine is being asked (see :mod:`diagnose.runs.live`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from diagnose.model.findings import Severity
from diagnose.model.ignore import IgnoreRule


@dataclass(frozen=True)
class RunOptions:
    """Everything a live run needs, parsed and validated by the CLI."""

    targets: tuple[str, ...]
    select_all: bool = False
    filters: tuple[str, ...] = ()
    output_dir: Path = Path(".")
    #: False (`--no-bundle`): a report-only run, which writes nothing (no temporary file).
    bundle: bool = True
    #: Engines: each --host and --context given (repeatable); none means the CLI's default.
    hosts: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()
    #: A Compose project: every container labelled com.docker.compose.project=NAME.
    project: str | None = None
    tail: int | None = 2000
    since: float | None = None
    max_log_bytes: int = 8 * 1024 * 1024
    timeout: float = 30.0
    deadline: float | None = None
    jobs: int = 4
    fail_on: Severity = Severity.ERROR
    redact: bool = True
    redact_patterns: tuple[str, ...] = ()
    redact_names: tuple[str, ...] = ()
    plugins: bool = True
    debug: bool = False
    argv: tuple[str, ...] = ()
    probe: bool = False
    #: Check selection (ids or codes): the checks not run are recorded as deselected.
    skip: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    #: The configuration's `[[ignore]]` entries (the run's own date decides which expired).
    ignores: tuple[IgnoreRule, ...] = ()
    #: The `diagnose watch` journal to read events from (None: the default place, if any).
    journal: Path | None = None
    #: Logs `diagnose watch` read while a container ran, by container ID (`--rm`
    #: containers): what the bundle keeps when the engine no longer has them.
    seen_logs: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)


def run_date(started: float) -> str:
    """The run's own date (local, YYYY-MM-DD): what decides whether an ignore entry expired."""
    return datetime.fromtimestamp(started).date().isoformat()


#: How a run says what it is doing (diagnose.cli.progress displays it, or not).
Progress = Callable[[str], None]
