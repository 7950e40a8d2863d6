"""Command line: `diagnose CONTAINER...`, `diagnose analyze BUNDLE`, `service`, `checks`, `explain`.

Thin on purpose: parse and validate options, call :mod:`diagnose.app`, print the report to
stdout, and map the outcome to the documented exit code.  Errors never end in a traceback.
"""

# No `from __future__ import annotations` here: typer reads these annotations on every start,
# and string annotations would each be eval'ed (about 50 ms of every run).

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from diagnose import __version__
from diagnose.model import interrupts
from diagnose.model.errors import EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, DiagnoseError, UsageError
from diagnose.model.escape import one_line, visible
from diagnose.model.findings import Severity
from diagnose.render import Format

DEFAULT_COMMAND = "run"


class _DefaultGroup(TyperGroup):
    """`diagnose web` means `diagnose run web`: anything that is not a subcommand is a target."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h",
                                                                      "--version", "-V"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_DefaultGroup,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Diagnose a misbehaving Docker container: name the root cause with evidence, and "
    "write a support bundle.  `diagnose CONTAINER` is short for `diagnose run CONTAINER`.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"diagnose {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """Diagnose a misbehaving Docker container."""


def _say(text: str) -> None:
    """One line on stderr, whatever it quotes (a container name, a bundle member, an engine
    error): line breaks folded, control and bidi characters shown as escapes."""
    typer.echo(one_line(text), err=True)


def _fail(message: str, hint: str = "", code: int = EXIT_USAGE) -> NoReturn:
    _say(f"diagnose: error: {message}" + (f"; {hint}" if hint else ""))
    raise typer.Exit(code)


def _traceback(exc: BaseException) -> None:
    """--debug: the traceback, with what its messages quote made visible."""
    import traceback

    sys.stderr.write(visible("".join(traceback.format_exception(exc))))


def _guard(func: Callable[[], int], debug: bool) -> NoReturn:
    """Run a command body; map every failure to its exit code and a one-line message.

    The body runs on a worker thread while this (main) thread waits, so SIGINT, SIGTERM and
    SIGHUP end the run at once whatever the body waits for (diagnose/interrupts.py).  With
    --debug the traceback is printed too, and the exit code is still the documented one.
    """
    try:
        code = interrupts.run(func)
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:
        raise typer.Exit(interrupts.stop(exc)) from None
    except DiagnoseError as exc:
        if debug:
            _traceback(exc)
        _fail(exc.message, exc.hint, exc.exit_code)
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug:
            _traceback(exc)
        _fail(f"internal error: {type(exc).__name__}: {exc}",
              "this is a bug in diagnose; rerun with --debug for the traceback and report it",
              EXIT_INTERNAL)
    raise typer.Exit(code)


def _color(no_color: bool, stream: Any = None) -> bool:
    """ANSI colour only on a terminal, never with --no-color, NO_COLOR (no-color.org: set and
    not empty) or TERM=dumb."""
    stream = sys.stdout if stream is None else stream
    return (not no_color and not os.environ.get("NO_COLOR") and stream.isatty()
            and os.environ.get("TERM") != "dumb")


def _parse(func: Callable[[str], Any], value: str, param: str) -> Any:
    try:
        return func(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=param) from None


HostOpt = Annotated[list[str] | None, typer.Option(
    "--host", "-H", help="Engine endpoint (like docker -H); repeat it to diagnose several "
    "engines in one run.")]
ContextOpt = Annotated[list[str] | None, typer.Option(
    "--context", "-c", help="Docker context name; repeatable, like --host.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Report format on stdout.")]
FailOnOpt = Annotated[str, typer.Option(
    "--fail-on", help="Exit 1 when a finding is at or above this severity "
    "(critical, error, warning, info).")]
ExitZeroOpt = Annotated[bool, typer.Option("--exit-zero", help="Always exit 0 when the run "
                                           "completes, whatever was found.")]
NoColorOpt = Annotated[bool, typer.Option("--no-color", help="No ANSI colour (NO_COLOR is "
                                          "honoured too).")]
NoPluginsOpt = Annotated[bool, typer.Option("--no-plugins", help="Do not load third-party "
                                            "checks (or set DIAGNOSE_NO_PLUGINS=1).")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks instead of one-line "
                                        "errors.")]
ConfigOpt = Annotated[Path | None, typer.Option(
    "--config", help="Configuration file (default $XDG_CONFIG_HOME/diagnose/config.toml): "
    "redact = [regex...], redact_names = [fragment...].", dir_okay=False)]
RedactOpt = Annotated[list[str] | None, typer.Option(
    "--redact", help="Extra regex to redact (group 1 if any, else the match); repeatable.")]
NoRedactOpt = Annotated[bool, typer.Option("--no-redact", help="Keep secrets (writes "
                                           "...-UNREDACTED.tar.gz).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds each engine call may "
                                           "take.", min=1)]
DeadlineOpt = Annotated[float | None, typer.Option("--deadline", help="Overall seconds for "
                                                   "collection.", min=1)]


def _redaction(config: Path | None, patterns: list[str] | None) -> tuple[tuple[str, ...],
                                                                          tuple[str, ...]]:
    """Patterns and secret-name fragments from the config file plus --redact."""
    from diagnose.cli.config import load_config

    cfg = load_config(config)
    return (*cfg.redact, *(patterns or ())), cfg.redact_names


def _check_patterns(patterns: list[str] | None) -> None:
    """--redact patterns must compile on RE2 (a one-line usage error, exit 2, otherwise)."""
    if patterns:
        from diagnose.redact.user import compile_patterns

        try:
            compile_patterns(patterns)
        except UsageError as exc:
            _fail(exc.message, exc.hint)


def _emit(result: Any, fmt: Format, no_color: bool, fail_on: Severity, exit_zero: bool) -> int:
    from diagnose.render import render

    sys.stdout.write(render(result.report, fmt, color=_color(no_color) and fmt is Format.TEXT))
    sys.stdout.flush()
    return EXIT_OK if exit_zero else result.report.exit_code(fail_on)


def _redact_flags(no_redact: bool, patterns: list[str] | None) -> tuple[str, ...]:
    """Validate --redact patterns; warn loudly when redaction is off."""
    _check_patterns(patterns)
    if no_redact:
        typer.echo("diagnose: WARNING: --no-redact: the bundle may contain passwords, tokens "
                   "and keys; do not attach it anywhere public", err=True)
    return tuple(patterns or ())


@app.command(DEFAULT_COMMAND)
def run_cmd(
    containers: Annotated[list[str] | None, typer.Argument(
        metavar="[CONTAINER]...", help="Container names, full or short IDs, or unique ID "
        "prefixes.", show_default=False)] = None,
    select_all: Annotated[bool, typer.Option("--all", "-a", help="Every container, stopped "
                                             "ones included.")] = False,
    filters: Annotated[list[str] | None, typer.Option(
        "--filter", help="docker ps filter KEY=VALUE (status, label, name, ancestor, exited, "
        "health...); repeatable; stopped containers are included.")] = None,
    project: Annotated[str | None, typer.Option(
        "--project", help="Every container of a Compose project (label "
        "com.docker.compose.project), one section per service.")] = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory for the bundle.",
                                         file_okay=False)] = Path("."),
    host: HostOpt = None,
    context: ContextOpt = None,
    tail: Annotated[str, typer.Option("--tail", help="Log lines per container, or 'all'.")]
    = "2000",
    since: Annotated[str | None, typer.Option("--since", help="Only logs since a duration "
                                               "(10m), RFC 3339 time or Unix time.")] = None,
    max_log_bytes: Annotated[str, typer.Option("--max-log-bytes", help="Byte cap per log "
                                               "stream (the last bytes are kept).")] = "8M",
    timeout: TimeoutOpt = 30.0,
    deadline: Annotated[float | None, typer.Option("--deadline", help="Overall seconds for "
                                                    "collection; the rest is recorded as "
                                                    "skipped.", min=1)] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Containers collected at once.",
                                      min=1, max=64)] = 8,
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
    probe: Annotated[bool, typer.Option(
        "--probe", help="For targets that are not running, start a throwaway container from "
        "the same image with a shell as entrypoint, run read-only probes (id, ls -l of the "
        "entrypoint and its interpreter or loader, env names, os-release) and record them in "
        "the bundle; the throwaway is removed and the target is never touched.")] = False,
) -> None:
    """Diagnose containers and write a support bundle."""
    import time

    from diagnose.cli.progress import for_stderr
    from diagnose.cli.values import parse_since, parse_size, parse_tail
    from diagnose.model.options import RunOptions

    severity = _parse(Severity.parse, fail_on, "--fail-on")
    if not containers and not select_all and not filters and not project:
        _fail("name at least one container, or use --all, --filter or --project",
              "e.g. `diagnose web`, `diagnose --filter status=exited`")
    patterns = _redact_flags(no_redact, redact)
    opts = RunOptions(
        targets=tuple(containers or ()),
        select_all=select_all,
        filters=tuple(filters or ()),
        output_dir=output,
        hosts=tuple(host or ()),
        contexts=tuple(context or ()),
        project=project,
        tail=_parse(parse_tail, tail, "--tail"),
        since=_parse(lambda s: parse_since(s, time.time()), since, "--since") if since else None,
        max_log_bytes=_parse(parse_size, max_log_bytes, "--max-log-bytes"),
        timeout=timeout,
        deadline=deadline,
        jobs=jobs,
        fail_on=severity,
        redact=not no_redact,
        redact_patterns=patterns,
        plugins=not no_plugins,
        debug=debug,
        argv=tuple(sys.argv[1:]),
        probe=probe,
    )

    def body() -> int:
        import dataclasses

        from diagnose.runs.live import run_live

        patterns, names = _redaction(config, redact)
        live = dataclasses.replace(opts, redact_patterns=patterns, redact_names=names)
        # The progress display is gone before the report reaches the terminal.
        with for_stderr(quiet, _color(no_color, sys.stderr)) as progress:
            result = run_live(live, progress)
        return _emit(result, fmt, no_color, severity, exit_zero)

    _guard(body, debug)


@app.command("engine")
def engine_cmd(
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory for the bundle.",
                                         file_okay=False)] = Path("."),
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
    from diagnose.model.options import RunOptions

    severity = _parse(Severity.parse, fail_on, "--fail-on")
    patterns = _redact_flags(no_redact, redact)
    opts = RunOptions(targets=(), output_dir=output, hosts=tuple(host or ()),
                      contexts=tuple(context or ()),
                      timeout=timeout, deadline=deadline, fail_on=severity,
                      redact=not no_redact, redact_patterns=patterns, plugins=not no_plugins,
                      debug=debug, argv=tuple(sys.argv[1:]))

    def body() -> int:
        import dataclasses

        from diagnose.cli.progress import for_stderr
        from diagnose.runs.engine import run_engine

        patterns, names = _redaction(config, redact)
        live = dataclasses.replace(opts, redact_patterns=patterns, redact_names=names)
        with for_stderr(quiet, _color(no_color, sys.stderr)) as progress:
            result = run_engine(live, progress)
        return _emit(result, fmt, no_color, severity, exit_zero)

    _guard(body, debug)


@app.command("service")
def service_cmd(
    services: Annotated[list[str], typer.Argument(
        metavar="NAME", help="Swarm service names, IDs or unique ID prefixes.",
        show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Directory for the bundle.",
                                         file_okay=False)] = Path("."),
    host: Annotated[str | None, typer.Option("--host", "-H", help="Engine endpoint of a "
                                              "swarm manager (like docker -H).")] = None,
    context: Annotated[str | None, typer.Option("--context", "-c", help="Docker context "
                                                 "name.")] = None,
    tail: Annotated[str, typer.Option("--tail", help="Log lines per task, or 'all'.")]
    = "2000",
    since: Annotated[str | None, typer.Option("--since", help="Only logs since a duration "
                                               "(10m), RFC 3339 time or Unix time.")] = None,
    max_log_bytes: Annotated[str, typer.Option("--max-log-bytes", help="Byte cap per log "
                                               "stream (the newest lines are kept).")] = "8M",
    timeout: TimeoutOpt = 30.0,
    deadline: DeadlineOpt = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Task containers collected at "
                                      "once.", min=1, max=64)] = 8,
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
    import time

    from diagnose.cli.values import parse_since, parse_size, parse_tail
    from diagnose.model.options import RunOptions

    severity = _parse(Severity.parse, fail_on, "--fail-on")
    patterns = _redact_flags(no_redact, redact)
    opts = RunOptions(
        targets=tuple(services), output_dir=output, hosts=(host,) if host else (),
        contexts=(context,) if context else (),
        tail=_parse(parse_tail, tail, "--tail"),
        since=_parse(lambda v: parse_since(v, time.time()), since, "--since") if since else None,
        max_log_bytes=_parse(parse_size, max_log_bytes, "--max-log-bytes"),
        timeout=timeout, deadline=deadline, jobs=jobs, fail_on=severity, redact=not no_redact,
        redact_patterns=patterns, plugins=not no_plugins, debug=debug, argv=tuple(sys.argv[1:]),
    )

    def body() -> int:
        import dataclasses

        from diagnose.cli.progress import for_stderr
        from diagnose.runs.service import run_service

        patterns, names = _redaction(config, redact)
        live = dataclasses.replace(opts, redact_patterns=patterns, redact_names=names)
        with for_stderr(quiet, _color(no_color, sys.stderr)) as progress:
            result = run_service(live, progress)
        return _emit(result, fmt, no_color, severity, exit_zero)

    _guard(body, debug)


@app.command("analyze")
def analyze_cmd(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="A bundle (.tar.gz) "
                                           "written by diagnose.", show_default=False)],
    fmt: FormatOpt = Format.TEXT,
    fail_on: FailOnOpt = "error",
    exit_zero: ExitZeroOpt = False,
    no_color: NoColorOpt = False,
    no_plugins: NoPluginsOpt = False,
    no_redact: Annotated[bool, typer.Option("--no-redact", help="Show an -UNREDACTED bundle's "
                                            "secrets on stdout (redacted by default).")]
    = False,
    redact: RedactOpt = None,
    config: ConfigOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Re-read a bundle offline (no engine) and run the same checks."""
    severity = _parse(Severity.parse, fail_on, "--fail-on")
    _check_patterns(redact)

    def body() -> int:
        from diagnose.redact.redactor import Redactor
        from diagnose.runs.analyze import run_analyze

        patterns, names = _redaction(config, redact)
        redactor = Redactor(not no_redact, patterns, names)
        return _emit(run_analyze(bundle, not no_plugins, debug, redactor), fmt, no_color,
                     severity, exit_zero)

    _guard(body, debug)


@app.command("redact")
def redact_cmd(
    bundle: Annotated[Path, typer.Argument(metavar="BUNDLE", help="A bundle (.tar.gz) written "
                                           "by diagnose, e.g. an -UNREDACTED one.",
                                           show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Output file or directory (default: next to BUNDLE, without "
        "-UNREDACTED).")] = None,
    redact: RedactOpt = None,
    config: ConfigOpt = None,
    no_plugins: NoPluginsOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Redact an existing bundle into a new file (the input is never changed)."""
    _check_patterns(redact)

    def body() -> int:
        from diagnose.redact.redactor import Redactor
        from diagnose.runs.redact import redact_bundle

        patterns, names = _redaction(config, redact)
        result = redact_bundle(bundle, output, Redactor(True, patterns, names),
                               plugins=not no_plugins, debug=debug, argv=tuple(sys.argv[1:]))
        total = sum(n for n in result.redactor.counts.values()) if result.redactor else 0
        typer.echo(f"{result.bundle}")
        _say(f"diagnose: redacted bundle written ({total} value(s) replaced): "
             f"{result.bundle}")
        return EXIT_OK

    _guard(body, debug)


@app.command("checks")
def checks_cmd(
    no_plugins: NoPluginsOpt = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """List the check catalogue (codes, ids, severities, stages, sources)."""
    import json

    from tabulate import tabulate

    from diagnose.analysis.registry import registry_for

    reg = registry_for(not no_plugins)
    rows = [(s.code, s.id, s.severity.label, s.stage, s.scope, s.source, s.title) for s in reg]
    if fmt == "json":
        keys = ("code", "id", "severity", "stage", "scope", "source", "title")
        typer.echo(json.dumps([dict(zip(keys, r, strict=True)) for r in rows], indent=2))
    else:
        typer.echo(tabulate([[visible(str(x)) for x in r] for r in rows],  # plugins' text
                            headers=["code", "id", "severity", "stage", "scope", "source",
                                     "title"]))
    for p in reg.problems:
        _say(f"diagnose: warning: plugin {p.source}: {p.message}")
    raise typer.Exit(EXIT_OK)


@app.command("explain")
def explain_cmd(
    check_id: Annotated[str, typer.Argument(metavar="ID", help="A check id (oom-killed) or "
                                            "code (D201).", show_default=False)],
    no_plugins: NoPluginsOpt = False,
) -> None:
    """Print a check's documentation."""
    import difflib

    from diagnose.analysis.registry import registry_for

    reg = registry_for(not no_plugins)
    spec = reg.get(check_id)
    if spec is None:
        close = difflib.get_close_matches(check_id, [s.id for s in reg], n=3)
        _fail(f"no check {check_id!r}",
              f"did you mean {', '.join(close)}?" if close else "`diagnose checks` lists them")
    typer.echo(f"{spec.code} {spec.id} (default severity {spec.severity.label}, "
               f"stage {spec.stage}, {spec.source})\n")
    typer.echo(visible(spec.doc))
    raise typer.Exit(EXIT_OK)


def main() -> None:
    """Console-script entry point."""
    code: Any = EXIT_OK
    interrupts.install()  # again, for callers that did not come through diagnose.entry
    try:
        app()
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:  # outside a command body
        code = interrupts.stop(exc)
    except SystemExit as exc:
        code = exc.code
    _exit(code)


def _exit(code: Any) -> NoReturn:
    """Exit now, without the interpreter's teardown.

    By the time a command returns, the bundle is complete (renamed into place) or removed and
    the report is written; what is left is tearing down thousands of imported objects (about a
    tenth of a second here) and joining worker threads that may still wait on an engine that
    stopped answering (Ctrl-C, --deadline).  Neither is worth waiting for, so the streams are
    flushed and the process ends.
    """
    status = code if isinstance(code, int) else (0 if code is None else 1)
    if isinstance(code, str):
        print(one_line(code), file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (diagnose ... | head) loses nothing of ours
            pass
    os._exit(status)
