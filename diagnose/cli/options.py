"""Every command-line option, declared once; the commands list the ones they take.

Where two commands word an option differently (`--tail` counts lines per container for
`diagnose run`, per task for `diagnose service`), each wording is its own declaration.
"""

# No `from __future__ import annotations`: typer reads these annotations (see cli/app.py).

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli import complete
from diagnose.render import Format


class SeverityName(StrEnum):
    """A severity as the command line names it (`--fail-on`, `--min-severity`)."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


HostOpt = Annotated[list[str] | None, typer.Option(
    "--host", "-H", help="Engine endpoint (like docker -H); repeat it to diagnose several "
    "engines in one run.")]
ContextOpt = Annotated[list[str] | None, typer.Option(
    "--context", "-c", help="Docker context name; repeatable, like --host.",
    autocompletion=complete.contexts)]
ManagerHostOpt = Annotated[str | None, typer.Option(
    "--host", "-H", help="Engine endpoint of a swarm manager (like docker -H).")]
ManagerContextOpt = Annotated[str | None, typer.Option("--context", "-c",
                                                       help="Docker context name.",
                                                       autocompletion=complete.contexts)]
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="Directory for the bundle.",
                                         file_okay=False)]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", case_sensitive=False,
                                           help="Report format on stdout.")]
FailOnOpt = Annotated[SeverityName, typer.Option(
    "--fail-on", case_sensitive=False, help="Exit 1 when a finding is at or above this "
    "severity.")]
VerboseOpt = Annotated[bool, typer.Option(
    "--verbose", "-v", help="Text report: show the advisories (security and hygiene) in full "
    "and the decision paths.")]
MinSeverityOpt = Annotated[SeverityName, typer.Option(
    "--min-severity", case_sensitive=False, help="Show only findings at or above this "
    "severity (text, Markdown and HTML on stdout; JSON, the bundle and the exit code keep "
    "them all).")]
SkipOpt = Annotated[list[str] | None, typer.Option(
    "--skip", metavar="ID|CODE", help="Do not run this check (id or code, e.g. runs-as-root "
    "or D705); repeatable, or a comma list.  Recorded as skipped.",
    autocompletion=complete.check_lists)]
OnlyOpt = Annotated[list[str] | None, typer.Option(
    "--only", metavar="ID|CODE", help="Run only these checks (ids or codes); repeatable, or "
    "a comma list.  The others are recorded as skipped.", autocompletion=complete.check_lists)]
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
RunDeadlineOpt = Annotated[float | None, typer.Option(
    "--deadline", help="Overall seconds for collection; the rest is recorded as skipped.",
    min=1)]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Only logs since a duration "
                                              "(10m), RFC 3339 time or Unix time.")]
TailOpt = Annotated[str, typer.Option("--tail", help="Log lines per container, or 'all'.")]
TaskTailOpt = Annotated[str, typer.Option("--tail", help="Log lines per task, or 'all'.")]
MaxLogBytesOpt = Annotated[str, typer.Option("--max-log-bytes", help="Byte cap per log "
                                             "stream (the last bytes are kept).")]
TaskMaxLogBytesOpt = Annotated[str, typer.Option("--max-log-bytes", help="Byte cap per log "
                                                 "stream (the newest lines are kept).")]
JobsOpt = Annotated[int, typer.Option("--jobs", "-j", help="Containers collected at once.",
                                      min=1, max=64)]
TaskJobsOpt = Annotated[int, typer.Option("--jobs", "-j", help="Task containers collected at "
                                          "once.", min=1, max=64)]
BundleArg = Annotated[Path, typer.Argument(metavar="BUNDLE", help="A bundle (.tar.gz) "
                                           "written by diagnose.", show_default=False)]
ContainersArg = Annotated[list[str] | None, typer.Argument(
    metavar="[CONTAINER]...", help="Container names, full or short IDs, or unique ID "
    "prefixes.", show_default=False, autocompletion=complete.containers)]
AllOpt = Annotated[bool, typer.Option("--all", "-a", help="Every container, stopped ones "
                                      "included.")]
FilterOpt = Annotated[list[str] | None, typer.Option(
    "--filter", help="docker ps filter KEY=VALUE (status, label, name, ancestor, exited, "
    "health...); repeatable; stopped containers are included.")]
ProjectOpt = Annotated[str | None, typer.Option(
    "--project", help="Every container of a Compose project (label "
    "com.docker.compose.project), one section per service.")]
ProbeOpt = Annotated[bool, typer.Option(
    "--probe", help="For targets that are not running, start a throwaway container from the "
    "same image with a shell as entrypoint, run read-only probes (id, ls -l of the entrypoint "
    "and its interpreter or loader, env names, os-release) and record them in the bundle; the "
    "throwaway is removed and the target is never touched.")]
NoBundleOpt = Annotated[bool, typer.Option(
    "--no-bundle", help="Report only: write no bundle (nothing at all is written; the report "
    "and the exit code are the same).")]
OneHostOpt = Annotated[str | None, typer.Option("--host", "-H", help="Engine endpoint "
                                                "(like docker -H).")]
OneContextOpt = Annotated[str | None, typer.Option("--context", "-c",
                                                   help="Docker context name.")]
ReadJournalOpt = Annotated[Path | None, typer.Option(
    "--journal", help="A `diagnose watch` event journal to read the containers' events from "
    "too (default $DIAGNOSE_JOURNAL, else where watch keeps it).", file_okay=False)]
_SIDE = ("a container (name, ID or unique prefix) on its engine, or a bundle (a path with a / "
         "or ending in .tar.gz) holding one container, or BUNDLE:NAME")
SideAArg = Annotated[str, typer.Argument(
    metavar="A", help=f"The reference side (e.g. the one that works): {_SIDE}.",
    show_default=False)]
SideBArg = Annotated[str, typer.Argument(
    metavar="B", help=f"The side compared with A (e.g. the one that fails): {_SIDE}.",
    show_default=False)]
SideHostOpt = Annotated[str | None, typer.Option(
    help="Engine endpoint of this side's container (default: --host, else the default "
    "engine).")]
SideContextOpt = Annotated[str | None, typer.Option(
    help="Docker context of this side's container (default: --context).")]
DiffHostOpt = Annotated[str | None, typer.Option(
    "--host", "-H", help="Engine endpoint of both sides' containers (like docker -H).")]
DiffContextOpt = Annotated[str | None, typer.Option(
    "--context", "-c", help="Docker context of both sides' containers.")]
AllFieldsOpt = Annotated[bool, typer.Option(
    "--all-fields", help="Also compare what always differs between two containers (IDs, "
    "names, hostnames, IP addresses, PIDs, times); never changes the exit code.")]
KeepBundlesOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Keep the live sides' bundles in this directory (default: "
    "written to a temporary directory and removed).", file_okay=False)]
