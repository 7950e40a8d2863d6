"""Shared readings of the evidence: the decision tree's look-alike logic, written once.

Checks are independent and never see each other's results, yet some must not both fire: a
CRLF shebang makes runc log `exec /x: no such file or directory` and exit 1, which must be
reported as `bad-shebang-crlf`, not as a generic `app-exit-error`.  So the readings that tell
look-alikes apart live here, and every check that could claim the same evidence asks the same
question.  Everything is a pure function of one container's evidence.

Version notes (see ../shared/reference/failure-taxonomy.md, section 1.5):
- runc <= 1.0 printed `standard_init_linux.go:NNN: exec user process caused ...` (line numbers
  vary by release: match the suffix); runc >= 1.1 prints `exec /path: <errno text>`.
- runc <= 1.1 exits such failures with 1, runc >= 1.2 with 255.
- Create-time (daemon-set) failures land in State.Error with exit 126/127/128 and the
  container stays `created` (or `exited` when it had run before).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diagnose.checklib import event_attr, event_time, signal_of_event, signal_of_exit
from diagnose.snapshot import ContainerEvidence, LogLine

# -- the latest run --------------------------------------------------------------------------


def latest_run_start(c: ContainerEvidence) -> str:
    """RFC 3339 time from which log lines belong to the latest run ('' = all lines).

    `docker logs` concatenates every run.  The latest run begins after the `die` that preceded
    the last `start` (runc's own exec errors are logged a few microseconds *before* StartedAt,
    so StartedAt itself is too late a boundary).  Without events, StartedAt minus one second.
    """
    events = list(c.events)
    last_start = max((i for i, e in enumerate(events) if e.get("Action") == "start"),
                     default=None)
    if last_start is not None:
        prior_die = max((i for i, e in enumerate(events[:last_start])
                         if e.get("Action") == "die"), default=None)
        if prior_die is None:
            return ""
        return event_time(events[prior_die])
    started = str(c.state.get("StartedAt") or "")
    if not started or started.startswith("0001-"):
        return ""
    from datetime import timedelta

    from diagnose.snapshot import parse_time

    t = parse_time(started)
    if t is None:
        return ""
    return (t - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%f000Z")


def latest_run_lines(c: ContainerEvidence) -> tuple[LogLine, ...]:
    """Log lines (both streams, time order) of the latest run."""
    since = latest_run_start(c)
    if not since:
        return c.log_lines
    return tuple(ln for ln in c.log_lines if not ln.timestamp or ln.timestamp > since)


def latest_run_events(c: ContainerEvidence) -> list[tuple[int, Mapping[str, Any]]]:
    """(index, event) pairs since the last `start` (kill/oom/die of the latest run)."""
    events = list(c.events)
    last_start = max((i for i, e in enumerate(events) if e.get("Action") == "start"),
                     default=-1)
    return [(i, e) for i, e in enumerate(events) if i > last_start]


# -- start failures (daemon-set, State.Error) ---------------------------------------------------

#: category -> pattern over State.Error.  Order matters: the first match wins.
START_ERROR_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx, re.IGNORECASE))
    for name, rx in (
        ("port-already-allocated",
         r"port is already allocated|address already in use|failed to bind host port|"
         r"Ports are not available|failed programming external connectivity"),
        ("network-not-found",
         r"network [^ ]+ not found|could not find a network matching|No such network"),
        ("invalid-user",
         r"unable to find (?:user|group) |no matching entries in (?:passwd|group) file"),
        ("bind-mount-type-mismatch",
         r"Are you trying to mount a directory onto a file|"
         r"error mounting .* not a directory"),
        ("mount-source-missing",
         r"bind source path does not exist|error while creating mount source path|"
         r"invalid mount config for type \"bind\"|Mounts denied|"
         r"error mounting .*: no such file or directory|"
         r"error evaluating symlinks from mount source|"
         r"stat [^:]+: no such file or directory.*mount"),
        ("workdir-invalid",
         r"chdir to cwd|working directory .* is invalid|Cannot mkdir: .* is not a directory"),
        ("entrypoint-not-found",
         r"exec: \"[^\"]*\": (?:executable file not found in \$PATH|"
         r"stat [^:]*: no such file or directory|not a directory)|"
         r"Container command '[^']*' not found or does not exist|"
         r"no such file or directory: unknown$"),
        ("entrypoint-not-executable",
         r"exec: \"[^\"]*\": (?:permission denied|is a directory)"),
        ("no-space-left", r"no space left on device"),
        ("exec-format-error", r"exec format error"),
        ("hook-failed", r"error running (?:\w+ )?hook"),
        ("logging-driver-failure", r"failed to initialize logging driver"),
    )
)


@dataclass(frozen=True)
class StartFailure:
    """The engine tried to start the container and failed (State.Error is set)."""

    category: str
    error: str
    exit_code: int | None
    ever_ran: bool


def start_failure(c: ContainerEvidence) -> StartFailure | None:
    """Classify State.Error, when the latest start failed in the engine."""
    error = str(c.state.get("Error") or "")
    if not error:
        return None
    category = next((name for name, rx in START_ERROR_PATTERNS if rx.search(error)), "other")
    return StartFailure(category, error, c.exit_code, c.ever_started)


def quoted_command(error: str) -> str | None:
    """The command runc could not exec, from `exec: "X": ...` in an error text."""
    m = re.search(r'exec: \\?"([^"\\]*)\\?"', error)
    return m.group(1) if m else None


# -- exec-time failures (runc already said "started"; the error is in the logs) ---------------

EXEC_LINE = re.compile(r"^exec (?P<path>/?\S+): (?P<error>[a-z][a-z ]+[a-z])$")
STANDARD_INIT = re.compile(
    r"standard_init_linux\.go:\d+: exec user process caused:?\s*\"?(?P<error>[^\"]+?)\"?\s*$")


@dataclass(frozen=True)
class ExecFailure:
    """runc could not exec the entrypoint: `exec /x: <errno text>` in the logs, exit 1/255."""

    path: str
    error: str
    line: LogLine


def exec_failure(c: ContainerEvidence) -> ExecFailure | None:
    """The exec-time failure of the latest run, if that is how it ended."""
    if c.state.get("Error") or not c.ever_started:
        return None
    if c.exit_code not in (1, 255) and c.status != "restarting":
        return None
    lines = latest_run_lines(c)
    for line in reversed(lines[:5] if len(lines) > 5 else lines):
        text = line.text.strip()
        m = EXEC_LINE.match(text)
        if m:
            return ExecFailure(m.group("path"), m.group("error"), line)
        m = STANDARD_INIT.search(text)
        if m:
            return ExecFailure("", m.group("error").strip(), line)
    return None


def exec_cause(c: ContainerEvidence, failure: ExecFailure) -> str:
    """Tell the look-alikes of an exec failure apart with the entrypoint probe.

    `no such file or directory` from exec of a file that exists means its interpreter is
    missing: a CRLF shebang (`/bin/sh\\r`), a missing shebang interpreter, or an ELF loader
    (PT_INTERP) that the image lacks.
    """
    probe = c.entrypoint
    f = probe.get("file") or {}
    err = failure.error
    if "format" in err:
        return "exec-format-error"
    if "permission denied" in err:
        return "entrypoint-not-executable"
    if "no such file" in err:
        if probe and probe.get("exists") is False:
            return "entrypoint-not-found"
        if f.get("kind") == "script":
            if f.get("shebang_crlf"):
                return "bad-shebang-crlf"
            if f.get("interpreter_exists") is False:
                return "shebang-interpreter-missing"
        if f.get("kind") == "elf" and f.get("interpreter") and f.get("interpreter_exists") is False:
            return "missing-dynamic-loader"
        if f.get("kind") == "elf" and f.get("runs_natively") is False:
            return "exec-format-error"
    return "exec-failed"


# -- exits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kill:
    """How a signal death came about: `oom`, `stop-timeout`, `sigkill`, `signal` or `unknown`."""

    kind: str
    signal: int | None
    events: tuple[tuple[int, Mapping[str, Any]], ...]


def kill_story(c: ContainerEvidence) -> Kill | None:
    """Why the latest run died of a signal (exit 128+n), read from OOMKilled and events."""
    sig = signal_of_exit(c.exit_code)
    run = latest_run_events(c)
    if c.state.get("OOMKilled") or any(e.get("Action") == "oom" for _, e in run):
        relevant = tuple((i, e) for i, e in run if e.get("Action") in ("oom", "kill", "die"))
        return Kill("oom", sig, relevant)
    if sig is None:
        return None
    kills = [(i, e) for i, e in run if e.get("Action") == "kill"]
    signals = [signal_of_event(event_attr(e, "signal")) for _, e in kills]
    dies = tuple((i, e) for i, e in run if e.get("Action") == "die")
    if sig == 9:
        if signals and signals[-1] == 9 and any(s not in (None, 9) for s in signals[:-1]):
            return Kill("stop-timeout", sig, tuple(kills) + dies)
        if signals and signals[-1] == 9:
            return Kill("sigkill", sig, tuple(kills) + dies)
        return Kill("unknown", sig, dies)
    return Kill("signal", sig, tuple(kills) + dies)


LOG_PATTERNS: dict[str, re.Pattern[str]] = {
    # 127 from a shell: busybox `sh: x: not found`, dash `sh: 1: x: not found`,
    # bash `bash: x: command not found`, `line 3: x: command not found`.
    "command-not-found": re.compile(
        r"(?:^|: )(?:line \d+: |\d+: )?(?P<cmd>[^\s:]+): (?:command )?not found\s*$"),
    "missing-shared-library": re.compile(
        r"error while loading shared libraries: (?P<lib>\S+): cannot open shared object file|"
        r"Error loading shared library (?P<lib2>\S+): No such file or directory|"
        r"Error relocating .*: symbol not found"),
}


def explained_exit(c: ContainerEvidence) -> str | None:
    """The specific check that explains a non-zero exit, or None when only the application's
    own output can (then `app-exit-error` reports it with the decisive log lines)."""
    sf = start_failure(c)
    if sf is not None:
        return sf.category
    ef = exec_failure(c)
    if ef is not None:
        return exec_cause(c, ef)
    story = kill_story(c)
    if story is not None:
        if story.kind == "oom":
            return "oom-killed"
        if story.kind == "stop-timeout":
            return "killed-after-stop-timeout"
        if story.signal == 11:
            return "segfault"
        return "killed-by-signal"
    if c.exit_code == 127:
        for line in reversed(latest_run_lines(c)):
            for slug in ("missing-shared-library", "command-not-found"):
                if LOG_PATTERNS[slug].search(line.text):
                    return slug
    # The application's last words name a D4xx log signature (read-only filesystem, DNS...).
    from diagnose.logsigs import exit_cause  # imported here: logsigs builds on this module

    return exit_cause(c)


def decisive_lines(lines: Sequence[LogLine], limit: int = 12) -> list[LogLine]:
    """The lines that say why an application died: a Python traceback's final exception, a Go
    panic with its first goroutine frame, a Java exception with its `Caused by`, a Node error,
    or failing that the last non-empty lines."""
    texts = [ln.text for ln in lines]
    # Python: the last "Traceback (most recent call last):" up to the exception line.
    tb = max((i for i, t in enumerate(texts) if t.startswith("Traceback (most recent call")),
             default=None)
    if tb is not None:
        end = tb + 1
        while end < len(texts) and (texts[end].startswith((" ", "\t")) or not texts[end]):
            end += 1
        chunk = list(lines[tb:end + 1])
        return chunk[-limit:] if len(chunk) > limit else chunk
    # Go panic.
    panic = max((i for i, t in enumerate(texts) if t.startswith(("panic: ", "fatal error: "))),
                default=None)
    if panic is not None:
        return list(lines[panic:panic + min(limit, 6)])
    # Java / JVM.
    java = [i for i, t in enumerate(texts)
            if re.match(r"^(Exception in thread \"|Caused by: |[\w.$]+(Exception|Error)(: |$))", t)]
    if java:
        first = java[0]
        return list(lines[first:first + limit])[:limit]
    # Node.js and generic "Error:" / "FATAL" / "fatal:" lines near the end.
    marks = [i for i, t in enumerate(texts)
             if re.search(r"\b(Error|ERROR|FATAL|Fatal|fatal|panic|CRITICAL|Uncaught)\b", t)]
    if marks:
        last = marks[-1]
        start = max(marks[0], last - limit + 1)
        return list(lines[start:last + 1])
    tail = [ln for ln in lines if ln.text.strip()]
    return tail[-min(limit, 5):]
