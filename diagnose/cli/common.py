"""What every command does around its work: one-line errors and exit codes, colour, the report
on stdout, redaction settings, and running a collection with progress on stderr.
"""

# No `from __future__ import annotations`: see cli/app.py.

import dataclasses
import functools
import inspect
import os
import shutil
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import typer

from diagnose.cli import options as opt
from diagnose.cli.config import load_config
from diagnose.cli.progress import for_stderr
from diagnose.cli.values import parse_since, parse_size, parse_tail
from diagnose.model import interrupts
from diagnose.model.errors import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, DiagnoseError, UsageError
from diagnose.model.escape import one_line, visible
from diagnose.model.findings import Severity
from diagnose.model.options import Progress, RunOptions
from diagnose.redact.user import compile_patterns
from diagnose.render import Display, Format, render


def say(text: str) -> None:
    """One line on stderr, whatever it quotes (a container name, a bundle member, an engine
    error): line breaks folded, control and bidi characters shown as escapes."""
    typer.echo(one_line(text), err=True)


def fail(message: str, hint: str = "", code: int = EXIT_USAGE) -> NoReturn:
    """End the command with one error line and its exit code."""
    say(f"diagnose: error: {message}" + (f"; {hint}" if hint else ""))
    raise typer.Exit(code)


def _traceback(exc: BaseException) -> None:
    """--debug: the traceback, with what its messages quote made visible."""
    sys.stderr.write(visible("".join(traceback.format_exception(exc))))


def guard(func: Callable[[], int], debug: bool) -> NoReturn:
    """Run a command body; map every failure to its exit code and a one-line message.

    The body runs on a worker thread while this (main) thread waits, so SIGINT, SIGTERM and
    SIGHUP end the run at once whatever the body waits for (diagnose/model/interrupts.py).
    With --debug the traceback is printed too, and the exit code is still the documented one.
    """
    try:
        code = interrupts.run(func)
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:
        raise typer.Exit(interrupts.stop(exc)) from None
    except DiagnoseError as exc:
        if debug:
            _traceback(exc)
        fail(exc.message, exc.hint, exc.exit_code)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug:
            _traceback(exc)
        fail(f"internal error: {type(exc).__name__}: {exc}",
             "this is a bug in diagnose; rerun with --debug for the traceback and report it",
             EXIT_INTERNAL)
    raise typer.Exit(code)


def color(no_color: bool, stream: Any = None) -> bool:
    """ANSI colour only on a terminal, never with --no-color, NO_COLOR (no-color.org: set and
    not empty) or TERM=dumb."""
    stream = sys.stdout if stream is None else stream
    return (not no_color and not os.environ.get("NO_COLOR") and stream.isatty()
            and os.environ.get("TERM") != "dumb")


def parse(func: Callable[[str], Any], value: str, param: str) -> Any:
    """An option value through its parser; a ValueError is typer's usage error (exit 2)."""
    try:
        return func(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=param) from None


def redaction(config: Path | None, patterns: list[str] | None) -> tuple[tuple[str, ...],
                                                                         tuple[str, ...]]:
    """Patterns and secret-name fragments from the config file plus --redact."""
    cfg = load_config(config)
    return (*cfg.redact, *(patterns or ())), cfg.redact_names


def check_patterns(patterns: list[str] | None) -> None:
    """--redact patterns must compile on RE2 (a one-line usage error, exit 2, otherwise)."""
    if patterns:
        try:
            compile_patterns(patterns)
        except UsageError as exc:
            fail(exc.message, exc.hint)


def redact_flags(no_redact: bool, patterns: list[str] | None) -> tuple[str, ...]:
    """Validate --redact patterns; warn loudly when redaction is off."""
    check_patterns(patterns)
    if no_redact:
        typer.echo("diagnose: WARNING: --no-redact: the bundle may contain passwords, tokens "
                   "and keys; do not attach it anywhere public", err=True)
    return tuple(patterns or ())


@dataclass(frozen=True)
class Shared:
    """The options every collecting command (`run`, `engine`, `service`) takes, in this
    order: how the report is shown and what exit code it makes, redaction, plugins, --debug.
    :func:`collecting` declares them on a command."""

    fmt: Format
    fail_on: str
    exit_zero: bool
    no_color: bool
    quiet: bool
    no_redact: bool
    redact: list[str] | None
    config: Path | None
    no_plugins: bool
    debug: bool
    verbose: bool = False
    min_severity: str = "info"
    skip: list[str] | None = None
    only: list[str] | None = None

    def output(self) -> "Output":
        """The output options, `--fail-on` parsed (a usage error when it is no severity)."""
        return Output(self.fmt, parse(Severity.parse, self.fail_on, "--fail-on"),
                      self.exit_zero, self.no_color, self.quiet,
                      Display(self.verbose, str(self.min_severity), width()))

    def options(self, out: "Output", patterns: tuple[str, ...], **fields: Any) -> RunOptions:
        """The run's options: `fields` of the command, and these."""
        return RunOptions(**fields, fail_on=out.fail_on, redact=not self.no_redact,
                          redact_patterns=patterns, plugins=not self.no_plugins,
                          debug=self.debug, argv=tuple(sys.argv[1:]),
                          skip=check_names(self.skip), only=check_names(self.only))


#: The shared options' declarations, in --help's order (see Shared).
_SHARED: tuple[tuple[str, Any, Any], ...] = (
    ("fmt", opt.FormatOpt, Format.TEXT), ("verbose", opt.VerboseOpt, False),
    ("min_severity", opt.MinSeverityOpt, opt.SeverityName.INFO),
    ("fail_on", opt.FailOnOpt, opt.SeverityName.ERROR), ("skip", opt.SkipOpt, None),
    ("only", opt.OnlyOpt, None),
    ("exit_zero", opt.ExitZeroOpt, False), ("no_color", opt.NoColorOpt, False),
    ("quiet", opt.QuietOpt, False), ("no_redact", opt.NoRedactOpt, False),
    ("redact", opt.RedactOpt, None), ("config", opt.ConfigOpt, None),
    ("no_plugins", opt.NoPluginsOpt, False), ("debug", opt.DebugOpt, False),
)


def collecting(command: Callable[..., None]) -> Callable[..., None]:
    """Declare the :class:`Shared` options on `command` where its `shared` parameter stands;
    the command receives them as one `Shared`."""
    sig = inspect.signature(command)
    params: list[inspect.Parameter] = []
    for p in sig.parameters.values():
        if p.name != "shared":
            params.append(p)
            continue
        params += [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                     default=default, annotation=kind)
                   for name, kind, default in _SHARED]

    @functools.wraps(command)
    def with_shared(**given: Any) -> None:
        shared = Shared(**{name: given.pop(name) for name, _, _ in _SHARED})
        command(shared=shared, **given)

    with_shared.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    return with_shared


def log_bounds(tail: str, since: str | None, max_log_bytes: str) -> dict[str, Any]:
    """--tail, --since and --max-log-bytes parsed, as RunOptions fields."""
    return {
        "tail": parse(parse_tail, tail, "--tail"),
        "since": parse(lambda v: parse_since(v, datetime.now().astimezone()), since, "--since")
        if since is not None else None,
        "max_log_bytes": parse(parse_size, max_log_bytes, "--max-log-bytes"),
    }


@dataclass(frozen=True)
class Output:
    """How a run's report reaches the user, and which exit code it makes."""

    fmt: Format
    fail_on: Severity
    exit_zero: bool
    no_color: bool
    quiet: bool = False
    display: Display = Display()

    def emit(self, result: Any) -> int:
        """Print the report of `result` on stdout; its exit code."""
        report = result.report
        sys.stdout.write(render(report, self.fmt,
                                color=color(self.no_color) and self.fmt is Format.TEXT,
                                display=self.display, fail_on=self.fail_on.label))
        sys.stdout.flush()
        return EXIT_OK if self.exit_zero else report.exit_code(self.fail_on)


def output(fmt: Format, fail_on: str, exit_zero: bool, no_color: bool, verbose: bool = False,
           min_severity: str = "info") -> Output:
    """The output options of a command that collects nothing, `--fail-on` parsed."""
    return Output(fmt, parse(Severity.parse, fail_on, "--fail-on"), exit_zero, no_color,
                  display=Display(verbose, str(min_severity), width()))


def check_names(values: list[str] | None) -> tuple[str, ...]:
    """--skip / --only values: repeated, or comma lists (`--skip D705,D706`)."""
    return tuple(name.strip() for v in values or () for name in v.split(",") if name.strip())


def width() -> int:
    """The text report's width: COLUMNS when set, else the terminal's when stdout is one, else
    80 columns."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    if sys.stdout.isatty():
        return shutil.get_terminal_size((80, 24)).columns
    return 80


def collect(opts: RunOptions, out: Output, shared: Shared,
            runner: Callable[[RunOptions, Progress], Any]) -> NoReturn:
    """Run a collecting command (`run`, `engine`, `service`): the configuration's redaction
    settings joined in, progress on stderr while it runs, the report on stdout."""
    def body() -> int:
        redact, names = redaction(shared.config, shared.redact)
        full = dataclasses.replace(opts, redact_patterns=redact, redact_names=names,
                                   ignores=load_config(shared.config).ignores)
        # The progress display is gone before the report reaches the terminal.
        with for_stderr(out.quiet, color(out.no_color, sys.stderr)) as progress:
            result = runner(full, progress)
        return out.emit(result)

    guard(body, opts.debug)
