"""Write man/diagnose.1 from the CLI definition (the typer application), never by hand.

    .venv/bin/python scripts/make_man.py            # rewrite man/diagnose.1
    .venv/bin/python scripts/make_man.py --check    # exit 1 when it is out of date

One page: NAME, SYNOPSIS, DESCRIPTION (the application's help), one COMMANDS subsection per
command with its usage, help and every option's help record exactly as `--help` shows them,
then EXIT STATUS and ENVIRONMENT.  tests/unit/cli/test_man.py fails when the committed page
differs from what this writes, and renders it with groff to catch roff mistakes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer.main

from diagnose import __version__
from diagnose.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "man" / "diagnose.1"

EXIT_STATUS = (
    ("0", "nothing at or above --fail-on"),
    ("1", "findings at or above --fail-on"),
    ("2", "usage error, unknown target, or an unreadable or malformed bundle"),
    ("3", "the engine is unreachable or refused"),
    ("70", "internal error (a bug)"),
    ("130", "interrupted"),
)
ENVIRONMENT = (
    ("DOCKER_HOST", "Engine endpoint, as for docker (--host and --context take precedence)."),
    ("DOCKER_CONTEXT", "Docker context to use when neither --host, --context nor DOCKER_HOST "
     "is given."),
    ("DOCKER_CONFIG", "The docker CLI's configuration directory (contexts, currentContext)."),
    ("DOCKER_TLS_VERIFY, DOCKER_CERT_PATH", "TLS for a DOCKER_HOST over TCP, as for docker."),
    ("NO_COLOR", "No ANSI colour in the text report."),
)


def esc(text: str) -> str:
    """Roff-escape text for a line of the page (backslashes, leading dots and quotes,
    hyphens that are minus signs in option names)."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.splitlines() or [""]:
        line = line.strip()
        lines.append("\\&" + line if line.startswith((".", "'")) else line)
    return "\n".join(lines)


def _paragraphs(text: str) -> str:
    """Help text: blank lines are paragraph breaks (.PP); other line breaks are joined."""
    blocks = [" ".join(b.split()) for b in text.strip().split("\n\n") if b.strip()]
    return "\n.PP\n".join(esc(b) for b in blocks)


def _command(name: str, cmd: Any) -> list[str]:
    ctx = cmd.make_context(f"diagnose {name}", [], resilient_parsing=True)
    usage = " ".join(cmd.collect_usage_pieces(ctx))
    out = [f".SS {esc(name)}", f".B diagnose {esc(name)}", esc(usage), ".PP",
           _paragraphs(cmd.help or "")]
    for param in cmd.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:  # arguments: their help is in the usage line and the text
            help_text = getattr(param, "help", None)
            if help_text:
                out += [".TP", f".I {esc(param.human_readable_name)}", esc(help_text)]
            continue
        opts, help_text = record
        out += [".TP", f".B {esc(opts)}", esc(help_text or "")]
    return out


def page() -> str:
    """The whole man page."""
    root: Any = typer.main.get_command(app)  # a group: list_commands, get_command
    ctx = root.make_context("diagnose", [], resilient_parsing=True)
    lines = [
        f'.TH DIAGNOSE 1 "" "diagnose {esc(__version__)}" "User Commands"',
        ".SH NAME",
        "diagnose \\- name the root cause of a misbehaving container, with evidence, and "
        "write a support bundle",
        ".SH SYNOPSIS",
        ".B diagnose",
        "[\\fICONTAINER\\fR...] [\\fIOPTIONS\\fR]",
        ".br",
        ".B diagnose",
        "\\fICOMMAND\\fR [\\fIARGS\\fR...]",
        ".br",
        ".B docker diagnose",
        "[\\fIARGS\\fR...]",
        ".SH DESCRIPTION",
        _paragraphs(root.help or ""),
        ".SH COMMANDS",
    ]
    for name in root.list_commands(ctx):
        lines += _command(name, root.get_command(ctx, name))
    lines.append(".SH EXIT STATUS")
    for code, meaning in EXIT_STATUS:
        lines += [".TP", f".B {code}", esc(meaning)]
    lines.append(".SH ENVIRONMENT")
    for var, meaning in ENVIRONMENT:
        lines += [".TP", f".B {esc(var)}", esc(meaning)]
    lines += [".SH SEE ALSO", "\\fBdocker\\fR(1), \\fBdocker-logs\\fR(1), "
              "\\fBdocker-inspect\\fR(1); \\fBdiagnose explain\\fR \\fIID\\fR for each check"]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = page()
    if argv[1:] == ["--check"]:
        if not PAGE.is_file() or PAGE.read_text(encoding="utf-8") != text:
            print(f"{PAGE.relative_to(ROOT)} is out of date: run scripts/make_man.py",
                  file=sys.stderr)
            return 1
        return 0
    PAGE.parent.mkdir(exist_ok=True)
    PAGE.write_text(text, encoding="utf-8")
    print(f"make_man: wrote {PAGE.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
