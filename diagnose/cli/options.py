"""Every command-line option, declared once; the commands list the ones they take.

Where two commands word an option differently (`--tail` counts lines per container for
`diagnose run`, per task for `diagnose service`), each wording is its own declaration.
"""

# No `from __future__ import annotations`: typer reads these annotations (see cli/app.py).

from pathlib import Path
from typing import Annotated

import typer

from diagnose.cli import complete
from diagnose.render import Format

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
