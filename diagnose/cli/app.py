"""The typer application every command registers with, and `diagnose CONTAINER` meaning
`diagnose run CONTAINER`.
"""

# No `from __future__ import annotations` in the CLI's modules: typer reads the annotations on
# every start, and string annotations would each be eval'ed (about 50 ms of every run).

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from diagnose import __version__
from diagnose.cli import complete
from diagnose.model.errors import EXIT_OK

DEFAULT_COMMAND = "run"


class _DefaultGroup(TyperGroup):
    """`diagnose web` means `diagnose run web`: anything that is not a subcommand is a target."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in (
                "--help", "-h", "--version", "-V", "--install-completion", "--show-completion"):
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        """The first word completes to a command or, as `diagnose CONTAINER` is a run, to a
        container name."""
        items: list[Any] = super().shell_complete(ctx, incomplete)
        if not incomplete.startswith("-"):
            items += [complete.Item(n) for n in complete.containers(ctx, incomplete)]
        return items


app = typer.Typer(
    cls=_DefaultGroup,
    add_completion=True,  # typer's: --install-completion, --show-completion (cli/complete.py)
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
