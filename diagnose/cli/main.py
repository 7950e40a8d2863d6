"""The console script's command line: every command registered on one typer application, and
an exit that does not wait for the interpreter's teardown.
"""

# No `from __future__ import annotations`: see cli/app.py.

import os
import sys
from typing import Any, NoReturn

import typer

from diagnose.cli import analyze, catalogue, complete, diff, engine, run, service, watch
from diagnose.cli.app import DEFAULT_COMMAND, app
from diagnose.cli.common import say
from diagnose.model import interrupts
from diagnose.model.errors import EXIT_OK, EXIT_USAGE
from diagnose.model.escape import one_line

__all__ = ["app", "main"]

# Every command, in the order --help lists them.
app.command(DEFAULT_COMMAND)(run.run_cmd)
app.command("engine")(engine.engine_cmd)
app.command("service")(service.service_cmd)
app.command("watch")(watch.watch_cmd)
app.command("analyze")(analyze.analyze_cmd)
app.command("redact")(analyze.redact_cmd)
app.command("diff")(diff.diff_cmd)
app.command("checks")(catalogue.checks_cmd)
app.command("explain")(catalogue.explain_cmd)
app.command("help")(catalogue.help_cmd)
app.command("completion")(complete.completion_cmd)


def main() -> None:
    """Console-script entry point."""
    code: Any = EXIT_OK
    interrupts.install()  # again, for callers that did not come through diagnose.entry
    try:
        # Not standalone: click's usage errors come here, to be said in one line.
        code = app(prog_name=_program(), standalone_mode=False)
    except (interrupts.Interrupted, KeyboardInterrupt) as exc:  # outside a command body
        code = interrupts.stop(exc)
    except typer.exceptions.TyperException as exc:  # click's, as typer ships it
        code = usage_error(exc)
    except typer.Abort as exc:  # click's word for a KeyboardInterrupt (or EOF) it caught
        cause = exc.__cause__ or exc.__context__
        code = interrupts.stop(cause) if isinstance(cause, KeyboardInterrupt) else EXIT_USAGE
    except SystemExit as exc:
        code = exc.code
    _exit(code)


def _program() -> str:
    """`docker diagnose` when the docker CLI plugin ran us (diagnose.docker_plugin names it in
    argv[0]), so help and usage hints name the command the user typed; else `diagnose`."""
    return "docker diagnose" if sys.argv[:1] == ["docker diagnose"] else "diagnose"


def usage_error(exc: Any) -> int:
    """A usage error of click (bad option, bad value, missing argument) in the one-line style
    of every error: `diagnose: error: <what>; <where to look>`.  `diagnose` alone is help."""
    if type(exc).__name__ == "NoArgsIsHelpError":
        exc.show()
        return int(exc.exit_code)
    message = one_line(exc.format_message()).rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "diagnose"
    say(f"diagnose: error: {message}; `{where} --help` lists the options")
    return EXIT_USAGE


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
