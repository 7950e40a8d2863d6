"""`diagnose checks` and `diagnose explain ID`: the check catalogue and one check's page."""

# No `from __future__ import annotations`: see cli/app.py.

import difflib
import json
from typing import Annotated

import typer

from diagnose.cli import complete
from diagnose.cli.common import fail, say
from diagnose.cli.options import NoPluginsOpt
from diagnose.model.errors import EXIT_OK
from diagnose.model.escape import visible


def checks_cmd(
    no_plugins: NoPluginsOpt = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """List the check catalogue (codes, ids, severities, stages, sources)."""
    from tabulate import tabulate  # startup: the CLI loads every command module on each start

    from diagnose.analysis.registry import registry_for  # startup: only when asked

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
        say(f"diagnose: warning: plugin {p.source}: {p.message}")
    raise typer.Exit(EXIT_OK)


def explain_cmd(
    check_id: Annotated[str, typer.Argument(metavar="ID", help="A check id (oom-killed) or "
                                            "code (D201).", show_default=False,
                                            autocompletion=complete.check_ids)],
    no_plugins: NoPluginsOpt = False,
) -> None:
    """Print a check's documentation."""
    from diagnose.analysis.registry import registry_for  # startup: only when asked

    reg = registry_for(not no_plugins)
    spec = reg.get(check_id)
    if spec is None:
        close = difflib.get_close_matches(check_id, [s.id for s in reg], n=3)
        fail(f"no check {check_id!r}",
             f"did you mean {', '.join(close)}?" if close else "`diagnose checks` lists them")
    typer.echo(f"{spec.code} {spec.id} (default severity {spec.severity.label}, "
               f"stage {spec.stage}, {spec.source})\n")
    typer.echo(visible(spec.doc))
    raise typer.Exit(EXIT_OK)
