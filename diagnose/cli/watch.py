"""`diagnose watch`: follow the engine's events and write a bundle for each failure as it
happens (:mod:`diagnose.runs.watch`); one line per incident on stdout, until a signal."""

# No `from __future__ import annotations`: see cli/app.py.

import shlex
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from diagnose.cli.common import fail, log_bounds, parse, redact_flags, redaction, say
from diagnose.cli.options import (
    AllOpt,
    ConfigOpt,
    ContainersArg,
    DebugOpt,
    FilterOpt,
    JobsOpt,
    MaxLogBytesOpt,
    NoPluginsOpt,
    NoRedactOpt,
    OneContextOpt,
    OneHostOpt,
    OutputOpt,
    ProjectOpt,
    QuietOpt,
    RedactOpt,
    TailOpt,
    TimeoutOpt,
)
from diagnose.cli.values import parse_bytes, parse_duration
from diagnose.model import interrupts
from diagnose.model.errors import EXIT_INTERNAL, EXIT_OK, DiagnoseError
from diagnose.model.options import RunOptions

WatchFormatOpt = Annotated[str, typer.Option(
    "--format", "-f", help="text: one line per incident; json: one JSON object per line "
    "(JSON Lines).")]
KeepOpt = Annotated[int | None, typer.Option(
    "--keep", help="Keep at most N bundles (diagnose-*.tar.gz) in the output directory; the "
    "oldest go first.", min=1)]
KeepSizeOpt = Annotated[str | None, typer.Option(
    "--keep-size", help="Keep the bundles in the output directory under this size together "
    "(e.g. 2G); the oldest go first, the newest always stays.")]
ExecOpt = Annotated[str | None, typer.Option(
    "--exec", help="Command run for each incident, split like a shell would (no shell runs "
    "it); DIAGNOSE_BUNDLE, DIAGNOSE_VERDICT, DIAGNOSE_CONTAINER... are in its environment.")]
ExecTimeoutOpt = Annotated[float, typer.Option("--exec-timeout", help="Seconds the --exec "
                                               "command may run before it is killed.", min=1)]
StopsOpt = Annotated[bool, typer.Option("--stops", help="Count stops somebody asked for "
                                        "(docker stop/kill) as failures too.")]
DebounceOpt = Annotated[str, typer.Option("--debounce", help="Quiet time per container after "
                                          "an incident (e.g. 10m).")]
LoopOpt = Annotated[str, typer.Option("--loop-window", help="How long the failure of a "
                                      "container that restarts waits for a restart loop.")]
JournalOpt = Annotated[Path | None, typer.Option(
    "--journal", help="Directory of the event journal (default $DIAGNOSE_JOURNAL, else "
    "/var/lib/diagnose/journal as root, else $XDG_STATE_HOME/diagnose/journal); "
    "`diagnose CONTAINER` reads it from the same default place.", file_okay=False)]
RateOpt = Annotated[int, typer.Option("--rate", help="At most this many incidents per minute; "
                                      "the rest are counted and dropped.", min=1)]


def _default_journal() -> Path:
    from diagnose.collect.journal import default_dir  # startup: the watch's machinery

    return default_dir()


def _options(fields: dict[str, Any]) -> Any:
    from diagnose.evidence.incidents import Rules  # startup: the watch's machinery
    from diagnose.runs.watch import WatchOptions  # startup: the watch's machinery

    try:
        hook = tuple(shlex.split(fields["exec_cmd"])) if fields["exec_cmd"] else ()
    except ValueError as exc:  # unbalanced quotes
        fail(f"--exec: {exc}", "quote it like a shell command line")
    if fields["exec_cmd"] is not None and not hook:
        fail("--exec is empty", "give a command, e.g. --exec 'notify-oncall --urgent'")
    rules = Rules(loop_window=fields["loop_window"], debounce=fields["debounce"],
                  rate=fields["rate"], stops=fields["stops"])
    return WatchOptions(fields["run"], rules, fields["keep"], fields["keep_bytes"],
                        fields["fmt"] == "json", hook, fields["exec_timeout"])


def watch_cmd(
    containers: ContainersArg = None,
    select_all: AllOpt = False,
    filters: FilterOpt = None,
    project: ProjectOpt = None,
    out: OutputOpt = Path("."),
    host: OneHostOpt = None,
    context: OneContextOpt = None,
    fmt: WatchFormatOpt = "text",
    keep: KeepOpt = None,
    keep_size: KeepSizeOpt = None,
    exec_cmd: ExecOpt = None,
    exec_timeout: ExecTimeoutOpt = 60.0,
    stops: StopsOpt = False,
    debounce: DebounceOpt = "10m",
    loop_window: LoopOpt = "30s",
    rate: RateOpt = 10,
    journal: JournalOpt = None,
    tail: TailOpt = "2000",
    max_log_bytes: MaxLogBytesOpt = "8M",
    timeout: TimeoutOpt = 30.0,
    jobs: JobsOpt = 8,
    quiet: QuietOpt = False,
    no_redact: NoRedactOpt = False,
    redact: RedactOpt = None,
    config: ConfigOpt = None,
    no_plugins: NoPluginsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Follow the engine's events; write a bundle the moment a container fails."""
    if fmt not in ("text", "json"):
        fail(f"--format {fmt!r}: watch prints text or json (JSON Lines)")
    patterns = redact_flags(no_redact, redact)
    try:
        pats, names = redaction(config, list(patterns))
    except DiagnoseError as exc:  # a configuration file that cannot be read
        fail(exc.message, exc.hint, exc.exit_code)
    run = RunOptions(
        targets=tuple(containers or ()), select_all=select_all, filters=tuple(filters or ()),
        output_dir=out, hosts=(host,) if host else (), contexts=(context,) if context else (),
        project=project, **log_bounds(tail, None, max_log_bytes), timeout=timeout, jobs=jobs,
        redact=not no_redact, redact_patterns=pats, redact_names=names,
        plugins=not no_plugins, debug=debug, argv=tuple(sys.argv[1:]),
        journal=journal if journal is not None else _default_journal())
    try:
        times = {k: parse_duration(v) for k, v in (("debounce", debounce),
                                                   ("loop_window", loop_window))}
    except ValueError as exc:
        fail(str(exc))
    keep_bytes = parse(parse_bytes, keep_size, "--keep-size") if keep_size else None
    opts = _options({"run": run, "fmt": fmt, "keep": keep, "keep_bytes": keep_bytes,
                     "exec_cmd": exec_cmd,
                     "exec_timeout": exec_timeout, "stops": stops, "rate": rate, **times})
    _guarded(opts, quiet, debug)


def _guarded(opts: Any, quiet: bool, debug: bool) -> None:
    """Run the watch until a signal: SIGTERM, SIGINT and SIGHUP end it with exit 0 (a bundle
    being written is discarded, never left half-written)."""
    from diagnose.runs.watch import watch  # startup: the watch's machinery

    def progress(text: str) -> None:
        if not quiet or text.startswith("warning"):
            say(f"diagnose watch: {text}")

    def line(text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    try:
        # A signal usually interrupts the wait at once; the poll only bounds a signal that
        # lands just before it (idle CPU: one wake-up a second).
        code = interrupts.run(lambda: watch(opts, progress, line), poll=1.0)
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:
        interrupts.close()
        name = signal.Signals(interrupts.signal_of(exc)).name
        say(f"diagnose watch: stopped ({name})")
        raise typer.Exit(EXIT_OK) from None
    except DiagnoseError as exc:
        fail(exc.message, exc.hint, exc.exit_code)
    except Exception as exc:
        if debug:
            raise
        fail(f"internal error: {type(exc).__name__}: {exc}",
             "this is a bug in diagnose; rerun with --debug for the traceback and report it",
             EXIT_INTERNAL)
    raise typer.Exit(code)
