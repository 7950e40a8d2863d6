"""D205: The application exited with an error code.

What went wrong
    The main process ran and exited by itself with a non-zero code (1 is the usual "error",
    2 a Go panic or a shell usage error, 101 a Rust panic...).  Nothing more specific explains
    it: it was not a start failure, an exec failure, a signal, a missing command or library.
    The application said why in its output: this finding quotes the decisive lines of the
    latest run (`docker logs` concatenates every run): the final exception of a Python
    traceback, a Go panic with its first goroutine frame, a Java exception with its
    `Caused by`, a Node.js error, or failing that the last lines it printed.

How to confirm by hand
    docker inspect -f '{{.State.ExitCode}} {{.State.StartedAt}} {{.State.FinishedAt}}' NAME
    docker logs --tail 50 NAME

Look-alikes told apart
    Everything `explained_exit` (diagnose.evidence.readings.exit) names first: start failures
    (State.Error), runc exec failures (`exec /x: ...`, exit 1 or 255: CRLF shebangs, missing
    interpreters or loaders, wrong architecture), signal deaths (128+n), `command-not-found`
    and `missing-shared-library` (127).  This check stays silent whenever one of those applies.

Fix
    Read the quoted error and fix its cause in the code, configuration or environment (a
    missing variable, an unreachable dependency, a bad file).  To reproduce, start a shell in
    the image with the same user and mounts and run the command by hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from diagnose.api import (command_text, decisive_lines, ended, exit_evidence, explained_exit,
                          latest_run_lines, lazy_compile, log_evidence, LogLine, logs_command,
                          override_command, run_facts, check, ContainerEvidence, fact, Finding,
                          Remediation, Severity)

_PY_EXC = lazy_compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning)\b")
_JAVA = lazy_compile(r"^(?:Exception in thread \"|Caused by: |[\w.$]+(?:Exception|Error)(?::|$))")


def headline(lines: Sequence[LogLine], everything: Sequence[LogLine]) -> tuple[str, str]:
    """(what kind of failure the decisive lines show, the one line that says it)."""
    if not lines:
        return "no output", ""
    texts = [ln.text.strip() for ln in lines]
    raw = [ln.text for ln in lines]
    if any(t.startswith("Traceback (most recent call") for t in texts) or (
        _PY_EXC.match(raw[-1]) and any(t.startswith("File \"") for t in texts)
    ):
        return "Python exception", texts[-1]
    if texts[0].startswith(("panic: ", "fatal error: ")):
        return "Go panic", texts[0]
    if _JAVA.match(raw[0]):
        return "Java exception", texts[0]
    every_text = "\n" + "\n".join([ln.text for ln in everything])
    if "node:internal" in every_text or "\nNode.js v" in every_text:
        err = next((t for t in texts if re.match(r"^\w*Error\b", t)), texts[-1])
        return "Node.js error", err
    marked = [t for t in texts if re.search(r"\b(?:Error|ERROR|FATAL|Fatal|fatal|panic)\b", t)]
    if marked:
        return "last output", marked[-1]
    # stdout and stderr are separate pipes, so their lines' order at the same instant is not
    # reliable; errors go to stderr, so its last line speaks for the failure.
    errs = [ln.text.strip() for ln in lines if ln.stream == "stderr" and ln.text.strip()]
    return "last output", (errs[-1] if errs else texts[-1])


def _line_count(c: ContainerEvidence, lines: tuple[LogLine, ...]) -> str:
    """How many lines the latest run printed, and, when the engine stamps logs to the second
    (Podman) and the container restarted, that runs within one second are not told apart."""
    whole_seconds = lines and all(ln.timestamp.endswith("Z") and "." not in ln.timestamp
                                  for ln in lines if ln.timestamp)
    if c.engine.is_podman and whole_seconds and int(c.inspect.get("RestartCount") or 0) > 0:
        return (f"{len(lines)} (Podman stamps log lines to the second: lines of earlier runs "
                "within the same second are counted too)")
    return str(len(lines))


@check("D205", "app-exit-error", severity=Severity.ERROR, requires=("inspect",))
def app_exit_error(c: ContainerEvidence) -> Iterator[Finding]:
    """Non-zero exit that no more specific check explains; quotes the decisive log lines."""
    if not ended(c) or not c.exit_code or explained_exit(c) is not None:
        return
    lines = latest_run_lines(c)
    decisive = decisive_lines(lines)
    kind, said = headline(decisive, lines)
    facts = run_facts(c) + [
        fact("State.Error", "(empty: it started and ran)"),
        fact("PID 1 command", command_text(c)),
        fact("log lines of the latest run", _line_count(c, lines)),
        fact("decisive lines", f"{kind}, {len(decisive)} line(s)" if decisive else "none"),
    ]
    rec = c.records.get("logs")
    if rec is None or not rec.ok:
        facts.append(fact("logs", f"not collected ({rec.reason if rec else 'no record'})"))
    shown = said if len(said) <= 140 else said[:137] + "..."
    read = rec is not None and rec.ok
    title = (f"exited with code {c.exit_code}: {shown}" if said
             else f"exited with code {c.exit_code} without printing anything" if read
             else f"exited with code {c.exit_code} (its logs could not be read)")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(exit_evidence(c)[:1] + log_evidence(c, decisive, 3)),
        remediation=Remediation(
            "Read the application's own error (quoted) and fix its cause in the code, "
            "configuration or environment; to reproduce, run the command by hand from a shell "
            "in the image.",
            (logs_command(c), override_command(c)),
        ),
    )
