"""`diagnose checks`, `diagnose explain ID` and `diagnose help`: the check catalogue, one
check's page, and the help of diagnose or of one command."""

# No `from __future__ import annotations`: see cli/app.py.

import json
from enum import StrEnum
from typing import Annotated

import typer
from typer.core import TyperGroup

from diagnose.cli import complete
from diagnose.cli.common import fail, say
from diagnose.cli.options import NoPluginsOpt
from diagnose.model.errors import EXIT_OK, UsageError
from diagnose.model.escape import visible


class CatalogueFormat(StrEnum):
    """What `diagnose checks --format` writes."""

    TEXT = "text"
    JSON = "json"


def checks_cmd(
    no_plugins: NoPluginsOpt = False,
    fmt: Annotated[CatalogueFormat, typer.Option("--format", "-f", case_sensitive=False,
                                                 help="Catalogue format on stdout.")
                   ] = CatalogueFormat.TEXT,
) -> None:
    """List the check catalogue (codes, ids, severities, stages, sources)."""
    from tabulate import tabulate  # startup: the CLI loads every command module on each start

    from diagnose.analysis.registry import registry_for  # startup: only when asked

    reg = registry_for(not no_plugins)
    rows = [(s.code, s.id, s.severity.label, s.stage, s.scope, s.source, s.title) for s in reg]
    if fmt is CatalogueFormat.JSON:
        keys = ("code", "id", "severity", "stage", "scope", "source", "title")
        typer.echo(json.dumps([dict(zip(keys, r, strict=True)) for r in rows], indent=2))
    else:
        typer.echo(tabulate([[visible(str(x)) for x in r] for r in rows],  # plugins' text
                            headers=["code", "id", "severity", "stage", "scope", "source",
                                     "title"]))
    for p in reg.problems:
        say(f"diagnose: warning: {p.line()}")
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
    try:
        spec = reg.resolve(check_id)
    except UsageError as exc:
        fail(exc.message, exc.hint)
    typer.echo(f"{spec.code} {spec.id} (default severity {spec.severity.label}, "
               f"stage {spec.stage}, {spec.source})\n")
    typer.echo(visible(spec.doc))
    raise typer.Exit(EXIT_OK)


def help_cmd(
    ctx: typer.Context,
    command: Annotated[str | None, typer.Argument(metavar="[COMMAND]", help="A command "
                                                  "(run, engine, analyze...).",
                                                  show_default=False)] = None,
) -> None:
    """Show the help of diagnose, or of one command."""
    root = ctx.parent if ctx.parent is not None else ctx
    group = root.command
    if command is None:
        typer.echo(root.get_help())
        raise typer.Exit(EXIT_OK)
    sub = group.get_command(root, command) if isinstance(group, TyperGroup) else None
    if sub is None or command == "help":
        names = [n for n in group.list_commands(root) if n != "help"] \
            if isinstance(group, TyperGroup) else []
        fail(f"no command {command!r}", f"the commands are {', '.join(names)}")
    with typer.Context(sub, info_name=command, parent=root) as sub_ctx:
        typer.echo(sub.get_help(sub_ctx))
    raise typer.Exit(EXIT_OK)
