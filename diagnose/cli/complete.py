"""Shell completion (typer's own, for bash, zsh and fish): container names for a target, check
ids and codes for `explain`.  `diagnose --install-completion` installs it for the current
shell; `diagnose completion SHELL` prints the script for bash, zsh or fish.

A TAB must be instant and silent: container names come from one engine call with a short
timeout (diagnose/runs/complete.py), and nothing is ever printed on failure.
"""

# No `from __future__ import annotations`: see cli/app.py.

import enum
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.completion import get_completion_script


@dataclass(frozen=True)
class Item:
    """One completion answer as typer's shell classes read it (value, type, help)."""

    value: str
    type: str = "plain"
    help: str | None = None


def containers(ctx: typer.Context, incomplete: str) -> list[str]:
    """Container names for the CONTAINER argument, from the engine --host/--context name
    (as the run itself would choose it)."""
    from diagnose.runs.complete import container_names  # startup: only on a TAB

    hosts = _first(ctx.params.get("host"))
    contexts = _first(ctx.params.get("context"))
    return container_names(incomplete, hosts, contexts)


def contexts(incomplete: str) -> list[str]:
    """Docker context names for --context (from the docker CLI's configuration)."""
    from diagnose.runs.complete import contexts as names  # startup: only on a TAB

    return names(incomplete)


def check_ids(incomplete: str) -> list[str]:
    """Check ids and codes (built-in checks; plugins are not loaded for a TAB)."""
    from diagnose.analysis.registry import registry_for  # startup: only on a TAB

    words = [w for spec in registry_for(False) for w in (spec.id, spec.code)]
    return [w for w in words if w.startswith(incomplete) or w.lower().startswith(
        incomplete.lower())]


def check_lists(incomplete: str) -> list[str]:
    """Check ids and codes for an option that takes a comma list (`--skip a,b`): the last item
    is completed, the ones before it kept."""
    head, comma, last = incomplete.rpartition(",")
    return [f"{head}{comma}{word}" for word in check_ids(last)]


def _first(value: Any) -> str | None:
    """The first of a repeatable option's values (a TAB completes against one engine)."""
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    return str(value) if value else None


class Shell(enum.StrEnum):
    """The shells typer completes for."""

    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def completion_cmd(
    shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.", show_default=False)],
) -> None:
    """Print the shell completion script for SHELL (source it, or save it where the shell
    loads completions: README, "Shell completion")."""
    typer.echo(get_completion_script(prog_name="diagnose", complete_var="_DIAGNOSE_COMPLETE",
                                     shell=shell.value).rstrip("\n"))
