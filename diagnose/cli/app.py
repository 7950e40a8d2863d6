"""The typer application every command registers with, and `diagnose CONTAINER` meaning
`diagnose run CONTAINER`.
"""

# No `from __future__ import annotations` in the CLI's modules: typer reads the annotations on
# every start, and string annotations would each be eval'ed (about 50 ms of every run).

from typing import Annotated, Any

import typer
from typer.core import TyperGroup, TyperOption

from diagnose import __version__
from diagnose.cli import complete
from diagnose.model.errors import EXIT_OK

DEFAULT_COMMAND = "run"


class _DefaultGroup(TyperGroup):
    """`diagnose web` means `diagnose run web`: anything that is not a command is a target.

    Options may come before the command as well as after it (`diagnose --debug engine`,
    `diagnose -q analyze X`): they are moved behind the command, which parses them.  To find
    the command, the options that take a value are skipped with their value.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in ("--help", "-h", "--version", "-V", "--install-completion",
                                    "--show-completion"):
            at = first_word(args, self._valued())
            if at is not None and args[at] in self.commands:
                args = [args[at], *args[:at], *args[at + 1:]]
            else:
                args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)

    def _valued(self) -> frozenset[str]:
        """Every option name of every command that takes a value (`--format`, `-f`...)."""
        names: set[str] = set()
        for command in self.commands.values():
            for param in command.params:
                if isinstance(param, TyperOption) and not param.is_flag and not param.count:
                    names.update(param.opts)
        return frozenset(names)

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        """The first word completes to a command or, as `diagnose CONTAINER` is a run, to a
        container name."""
        items: list[Any] = super().shell_complete(ctx, incomplete)
        if not incomplete.startswith("-"):
            items += [complete.Item(n) for n in complete.containers(ctx, incomplete)]
        return items


def first_word(args: list[str], valued: frozenset[str]) -> int | None:
    """The index of the first argument that is neither an option nor an option's value."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":  # what follows are containers, even one called `engine`
            return None
        if arg.startswith("--"):
            i += 2 if "=" not in arg and arg in valued else 1
        elif arg.startswith("-") and len(arg) > 1:
            # A cluster of short options (-qf json, -fjson): a valued one takes the rest of
            # the word, or the next word when it ends the cluster.
            flags = arg[1:]
            taken = 1
            for n, ch in enumerate(flags):
                if f"-{ch}" in valued:
                    taken = 2 if n == len(flags) - 1 else 1
                    break
            i += taken
        else:
            return i
    return None


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
