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

import bisect
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diagnose.checklib import event_attr, event_time, signal_of_event, signal_of_exit
from diagnose.lazyre import lazy_compile
from diagnose.snapshot import ContainerEvidence, LogLine
from diagnose.startsig import (
    classify_exec,
    env_failure_in,
    refine_start_category,
    shell_failure_in,
    unescape,
)

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
    return c.derived("latest_run_lines", _latest_run_lines)


def _latest_run_lines(c: ContainerEvidence) -> tuple[LogLine, ...]:
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
    (name, lazy_compile(rx, re.IGNORECASE))
    for name, rx in (
        ("port-already-allocated",
         r"port is already allocated|address already in use|failed to bind host port|"
         r"Ports are not available|failed programming external connectivity|EADDRINUSE"),
        ("network-not-found",
         r"network [^ ]+ not found|could not find a network matching|No such network"),
        ("invalid-user",
         r"unable to find (?:user|group) |no matching entries in (?:passwd|group) file"),
        ("bind-mount-type-mismatch",
         r"Are you trying to mount a directory onto a file|"
         r"error mounting .* not a directory|mounting \"[^\"]*\" to rootfs .*not a directory"),
        ("mount-source-missing",
         r"bind source path does not exist|error while creating mount source path|"
         r"invalid mount config for type \"bind\"|Mounts denied|"
         r"error mounting .*: no such file or directory|"
         r"error evaluating symlinks from mount source|"
         r"stat [^:]+: no such file or directory.*mount"),
        ("workdir-invalid",
         r"chdir to cwd|working directory .* is invalid|Cannot mkdir: .* is not a directory"),
        ("hook-failed", r"error running (?:\w+ )?hook"),
        ("logging-driver-failure", r"failed to initialize logging driver"),
        ("entrypoint-not-found",
         r"exec: \"[^\"]*\": (?:executable file not found in \$PATH|"
         r"stat [^:]*: no such file or directory|"
         r"stat [^:]*: not a directory|not a directory)|"
         r"Container command '[^']*' not found or does not exist"),
        ("entrypoint-not-executable",
         r"exec: \"[^\"]*\": (?:permission denied|is a directory)"),
        ("no-space-left", r"no space left on device"),
        ("exec-format-error", r"exec format error"),
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
    # A dead container's State.Error is its failed removal, not a failed start.
    if not error or c.status in ("dead", "removing"):
        return None
    category = refine_start_category(classify_start_error(error), c.entrypoint)
    return StartFailure(category, error, c.exit_code, c.ever_started)


def classify_start_error(error: str) -> str:
    """The category of a start error text (any Docker/runc generation), `other` if unknown."""
    text = unescape(error)
    return next((name for name, rx in START_ERROR_PATTERNS if rx.search(text)), "other")


def quoted_command(error: str) -> str | None:
    """The command runc could not exec, from `exec: "X": ...` in an error text."""
    m = re.search(r'exec: "([^"]*)"', unescape(error))
    return m.group(1) if m else None


# -- exec-time failures (runc already said "started"; the error is in the logs) ---------------

EXEC_LINE = lazy_compile(r"^exec (?P<path>/?\S+): (?P<error>[a-z][a-z ]+[a-z])$")
STANDARD_INIT = lazy_compile(
    r"standard_init_linux\.go:\d+: exec user process caused:?\s*\\?\"?(?P<error>[a-z][a-z ]*[a-z])")


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
    (PT_INTERP) that the image lacks.  See :func:`diagnose.startsig.classify_exec`.
    """
    probe = c.entrypoint
    readable = (probe.get("filesystem") or {}).get("readable") is not False
    return classify_exec(failure.error, probe, readable)


@dataclass(frozen=True)
class ExecDiagnosis:
    """Why the entrypoint could not be executed, and where that shows.

    `via` is `runc` (runc's own `exec /x: ...` line, exit 1 or 255), `env` (a
    `#!/usr/bin/env PROG` shebang whose PROG is missing, exit 127) or `shell` (a shell-form
    command whose first word could not be executed, exit 127/126).  `probe_pointer` is the
    JSON pointer of the probed file's facts inside entrypoint.json.
    """

    cause: str
    via: str
    path: str
    error: str
    line: LogLine
    probe_pointer: str

    def facts(self, c: ContainerEvidence) -> Mapping[str, Any]:
        """The probe's facts about the file that failed (`{}` when not probed)."""
        part: Any = c.entrypoint
        for key in filter(None, self.probe_pointer.split("/")):
            part = part.get(key) if isinstance(part, Mapping) else None
        return part if isinstance(part, Mapping) else {}


def exec_diagnosis(c: ContainerEvidence) -> ExecDiagnosis | None:
    """The exec failure of the latest run, with its cause, in any of its three shapes
    (worked out once per container: every start-stage check asks)."""
    return c.derived("exec_diagnosis", _exec_diagnosis)


def _exec_diagnosis(c: ContainerEvidence) -> ExecDiagnosis | None:
    ef = exec_failure(c)
    probe = c.entrypoint
    if ef is not None:
        path = ef.path or str(probe.get("resolved") or "")
        return ExecDiagnosis(exec_cause(c, ef), "runc", path, ef.error, ef.line, "/file")
    if c.state.get("Error") or not c.ever_started or c.exit_code not in (126, 127):
        return None
    lines = latest_run_lines(c)
    sc = probe.get("shell_command") or {}
    env = env_failure_in(lines) if c.exit_code == 127 else None
    if env is not None:
        # The script with the env shebang is the entrypoint, or a shell-form command's word.
        for part, pointer in ((probe, "/file"), (sc, "/shell_command/file")):
            f = part.get("file") or {}
            if f.get("env_program"):
                cause = "bad-shebang-crlf" if env.crlf or f.get("shebang_crlf") else \
                    "shebang-interpreter-missing"
                return ExecDiagnosis(cause, "env", str(part.get("resolved") or ""),
                                     "No such file or directory", env.line, pointer)
    word = sc.get("word")
    if not word:
        return None
    sh = shell_failure_in(lines, str(word))
    if sh is None:
        return None
    error = {"bad interpreter crlf": "no such file or directory",
             "bad interpreter no such file": "no such file or directory"}.get(sh.error, sh.error)
    cause = classify_exec(error, sc)
    if sh.error == "bad interpreter crlf":
        cause = "bad-shebang-crlf"
    if cause in ("exec-failed", "entrypoint-not-found"):
        # The command really is missing (or the shell's reason is unknown): that is a plain
        # `command-not-found` from a shell, reported by the exit stage.
        return None
    return ExecDiagnosis(cause, "shell", str(sc.get("resolved") or word), sh.error, sh.line,
                         "/shell_command/file")


# -- exits -----------------------------------------------------------------------------------


#: Signals whose death means the process crashed (when nobody sent them from outside).
CRASH_SIGNALS = frozenset({4, 5, 6, 7, 8, 11, 24, 25, 31})


def run_end_recorded(c: ContainerEvidence) -> bool:
    """True when the events hold the `die` that ended the latest run.

    The engine keeps only a small ring of recent events (about 256, engine-wide), so on a busy
    engine a container's kill/die events are soon gone; readings that depend on them must say
    so rather than guess.
    """
    return any(e.get("Action") == "die" for _, e in latest_run_events(c))


def engine_stopped_it(c: ContainerEvidence) -> bool:
    """True when the events show the engine sent the latest run a signal (`docker stop/kill`,
    `docker rm -f`, a restart): it did not end on its own."""
    return any(e.get("Action") == "kill" for _, e in latest_run_events(c))


@dataclass(frozen=True)
class Kill:
    """How a signal death came about.

    `kind` is `oom`, `stop-timeout`, `sigkill`, `signal` or `unknown` (SIGKILL with no kill
    event).  `sender` says who sent the fatal signal: `docker-stop` (a kill event followed by
    `stop`), `docker-kill` (a kill event with that signal, no `stop`), `outside` (the run's
    end is in the events but no kill event sent it: the process itself, another process, the
    kernel) or `unknown` (the events are gone).  `stop_gap` is the seconds between the stop
    signal and the SIGKILL of a timed-out stop.
    """

    kind: str
    signal: int | None
    events: tuple[tuple[int, Mapping[str, Any]], ...]
    sender: str = "unknown"
    stop_gap: float | None = None


def _seconds_between(a: Mapping[str, Any], b: Mapping[str, Any]) -> float | None:
    na, nb = a.get("timeNano"), b.get("timeNano")
    if isinstance(na, int) and isinstance(nb, int):
        return (nb - na) / 1e9
    ta, tb = a.get("time"), b.get("time")
    if isinstance(ta, int) and isinstance(tb, int):
        return float(tb - ta)
    return None


def kill_story(c: ContainerEvidence) -> Kill | None:
    """Why the latest run died of a signal (exit 128+n), read from OOMKilled and events."""
    sig = signal_of_exit(c.exit_code)
    run = latest_run_events(c)
    # The flag describes the last exit; on a running container it is a stale leftover.
    flagged = c.state.get("OOMKilled") and c.status not in ("running", "paused")
    if flagged or any(e.get("Action") == "oom" for _, e in run):
        relevant = tuple((i, e) for i, e in run if e.get("Action") in ("oom", "kill", "die"))
        return Kill("oom", sig, relevant, "kernel")
    if sig is None:
        return None
    kills = [(i, e) for i, e in run if e.get("Action") == "kill"]
    signals = [signal_of_event(event_attr(e, "signal")) for _, e in kills]
    dies = tuple((i, e) for i, e in run if e.get("Action") == "die")
    stopped = any(e.get("Action") == "stop" for _, e in run)
    if sig in signals:
        sender = "docker-stop" if stopped else "docker-kill"
    else:
        sender = "outside" if dies else "unknown"
    if sig == 9:
        if signals and signals[-1] == 9 and any(s not in (None, 9) for s in signals[:-1]):
            first = next(e for (_, e), s in zip(kills, signals, strict=True) if s not in (None, 9))
            gap = _seconds_between(first, kills[-1][1])
            return Kill("stop-timeout", sig, tuple(kills) + dies, sender, gap)
        stop_signal = signal_of_event(c.config.get("StopSignal") or "SIGTERM")
        if signals and signals[-1] == 9 and stopped and stop_signal != 9:
            # `docker stop` ended in SIGKILL although the stop signal is not SIGKILL: a timeout
            # whose first kill event has already left the engine's ring.
            return Kill("stop-timeout", sig, tuple(kills) + dies, sender)
        if signals and signals[-1] == 9:
            return Kill("sigkill", sig, tuple(kills) + dies, sender)
        return Kill("unknown", sig, dies, sender)
    return Kill("signal", sig, tuple(kills) + dies, sender)


LOG_PATTERNS: dict[str, re.Pattern[str]] = {
    # 127 from a shell: busybox `sh: x: not found`, dash `sh: 1: x: not found`,
    # bash `bash: x: command not found`, `line 3: x: command not found`.
    "command-not-found": lazy_compile(
        r"(?:^|: )(?:line \d+: |\d+: )?(?P<cmd>[^\s:]+): (?:command )?not found\s*$"),
    "missing-shared-library": lazy_compile(
        r"error while loading shared libraries: (?P<lib>\S+): cannot open shared object file|"
        r"Error loading shared library (?P<lib2>\S+): No such file or directory|"
        r"Error relocating .*: symbol not found"),
}


def explained_exit(c: ContainerEvidence) -> str | None:
    """The specific check that explains a non-zero exit, or None when only the application's
    own output can (then `app-exit-error` reports it with the decisive log lines).

    Several checks ask; it is worked out once per container."""
    return c.derived("explained_exit", _explained_exit)


def _explained_exit(c: ContainerEvidence) -> str | None:
    if c.status == "dead":
        return "dead"
    sf = start_failure(c)
    if sf is not None:
        return sf.category
    ed = exec_diagnosis(c)
    if ed is not None:
        return ed.cause
    story = kill_story(c)
    if story is not None:
        if story.kind == "oom":
            return "oom-killed"
        if story.kind == "stop-timeout":
            return "killed-after-stop-timeout"
        if story.signal == 11 and story.sender not in ("docker-stop", "docker-kill"):
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


_JAVA_LINE = lazy_compile(r"^(Exception in thread \"|Caused by: |[\w.$]+(Exception|Error)(: |$))",
                          re.MULTILINE)
_ERROR_WORDS = ("Error", "ERROR", "FATAL", "Fatal", "fatal", "panic", "CRITICAL", "Uncaught")
_ERROR_WORD = lazy_compile(r"\b(" + "|".join(_ERROR_WORDS) + r")\b")


def decisive_lines(lines: Sequence[LogLine], limit: int = 12) -> list[LogLine]:
    """The lines that say why an application died: a Python traceback's final exception, a Go
    panic with its first goroutine frame, a Java exception with its `Caused by`, a Node error,
    or failing that the last non-empty lines."""
    texts = [ln.text for ln in lines]
    # One search over all the text says whether a kind of line is there at all; only then
    # are lines looked at one by one (a 2,000-line log usually has none of them).
    blob = "\n".join(texts)
    starts = list(itertools.accumulate((len(t) + 1 for t in texts[:-1]), initial=0))

    def line_of(pos: int) -> int:
        return bisect.bisect_right(starts, pos) - 1

    # Python: the last "Traceback (most recent call last):" up to the exception line.
    tb = None
    if "Traceback (most recent call" in blob:
        tb = max((i for i, t in enumerate(texts) if t.startswith("Traceback (most recent call")),
                 default=None)
    if tb is not None:
        end = tb + 1
        while end < len(texts) and (texts[end].startswith((" ", "\t")) or not texts[end]):
            end += 1
        chunk = list(lines[tb:end + 1])
        return chunk[-limit:] if len(chunk) > limit else chunk
    # Go panic.
    panic = None
    if "panic: " in blob or "fatal error: " in blob:
        panic = max((i for i, t in enumerate(texts) if t.startswith(("panic: ", "fatal error: "))),
                    default=None)
    if panic is not None:
        return list(lines[panic:panic + min(limit, 6)])
    # Java / JVM.
    java = (_JAVA_LINE.search(blob)
            if any(w in blob for w in ("Exception", "Error", "Caused by: ")) else None)
    if java:
        first = line_of(java.start())
        return list(lines[first:first + limit])[:limit]
    # Node.js and generic "Error:" / "FATAL" / "fatal:" lines near the end.
    marks = sorted({line_of(m.start()) for m in _ERROR_WORD.finditer(blob)}
                   if any(w in blob for w in _ERROR_WORDS) else ())
    if marks:
        last = marks[-1]
        start = max(marks[0], last - limit + 1)
        return list(lines[start:last + 1])
    tail = [ln for ln in lines if ln.text.strip()]
    return tail[-min(limit, 5):]
