"""The console script's command line: every command registered on one typer application, and
an exit that does not wait for the interpreter's teardown.
"""

# No `from __future__ import annotations`: see cli/app.py.

import os
import sys
from typing import Any, NoReturn

from diagnose.cli import analyze, catalogue, complete, engine, run, service
from diagnose.cli.app import DEFAULT_COMMAND, app
from diagnose.model import interrupts
from diagnose.model.errors import EXIT_OK
from diagnose.model.escape import one_line

__all__ = ["app", "main"]

# Every command, in the order --help lists them.
app.command(DEFAULT_COMMAND)(run.run_cmd)
app.command("engine")(engine.engine_cmd)
app.command("service")(service.service_cmd)
app.command("analyze")(analyze.analyze_cmd)
app.command("redact")(analyze.redact_cmd)
app.command("checks")(catalogue.checks_cmd)
app.command("explain")(catalogue.explain_cmd)
app.command("completion")(complete.completion_cmd)


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
