"""How the latest run ended: the kill story of a signal death, and the one check that explains
a non-zero exit.

Checks are independent and never see each other's results, yet some must not both fire: a
CRLF shebang makes runc log `exec /x: no such file or directory` and exit 1, which must be
reported as `bad-shebang-crlf`, not as a generic `app-exit-error`.  So the reading that tells
look-alikes apart (:func:`explained_exit`) is written once, here, on top of the start, exec
and log-signature readings, and every check that could claim the same exit asks it.
"""

from __future__ import annotations

import bisect
import enum
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.logs import LogLine, last_with_text
from diagnose.evidence.readings.common import (
    event_attr,
    signal_of_event,
    signal_of_exit,
)
from diagnose.evidence.readings.crash import aborted_as_pid1, shm_facts
from diagnose.evidence.readings.exec_failure import exec_diagnosis
from diagnose.evidence.readings.lifecycle import latest_run_events, latest_run_lines
from diagnose.evidence.readings.log_signatures import Hits, exit_cause
from diagnose.evidence.readings.restart import engine_restart
from diagnose.evidence.readings.start import start_failure
from diagnose.model.causes import Category, Cause
from diagnose.model.findings import Severity
from diagnose.model.jsonview import as_list, as_map
from diagnose.model.lazyre import lazy_compile
from diagnose.model.times import parse_time

#: Signals whose death means the process crashed (when nobody sent them from outside).
CRASH_SIGNALS = frozenset({4, 5, 6, 7, 8, 11, 24, 25, 31})


class KillKind(enum.StrEnum):
    """How a signal death came about (see :class:`Kill`)."""

    OOM = "oom"
    STOP_TIMEOUT = "stop-timeout"
    SIGKILL = "sigkill"
    SIGNAL = "signal"
    UNKNOWN = "unknown"


class Sender(enum.StrEnum):
    """Who sent the fatal signal (see :class:`Kill`)."""

    DOCKER_STOP = "docker-stop"
    DOCKER_KILL = "docker-kill"
    OUTSIDE = "outside"
    KERNEL = "kernel"
    UNKNOWN = "unknown"


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

    kind: KillKind
    signal: int | None
    events: tuple[tuple[int, Mapping[str, Any]], ...]
    sender: Sender = Sender.UNKNOWN
    stop_gap: float | None = None
    #: An OOM kill the engine did not record (Podman): the kernel's record of it (index into
    #: runtime.json's kernel_oom records, and the record), or None.
    kernel: tuple[int, Mapping[str, Any]] | None = None
    #: False when the OOM kill is inferred, not recorded or confirmed (`unconfirmed_oom`).
    certain: bool = True


#: Seconds of slack between the kernel's clock (since boot) and the engine's run times.
KERNEL_SLACK = 2.0


def kernel_oom(c: ContainerEvidence) -> tuple[int, Mapping[str, Any]] | None:
    """The kernel's OOM-kill record of this container's latest run (runtime.json, collected on
    a local Podman, which never sets OOMKilled), or None."""
    started = parse_time(c.state.get("StartedAt"))
    finished = parse_time(c.state.get("FinishedAt"))
    if started is None:
        return None
    records = as_list(as_map(c.runtime.get("kernel_oom")).get("records"))
    for i in range(len(records) - 1, -1, -1):
        rec = as_map(records[i])
        when = parse_time(rec.get("time"))
        if "oom-kill:" not in str(rec.get("text") or "") or when is None:
            continue
        late = finished is not None and (when - finished).total_seconds() > KERNEL_SLACK
        if (started - when).total_seconds() <= KERNEL_SLACK and not late:
            return i, rec
    return None


def unconfirmed_oom(c: ContainerEvidence) -> str:
    """Why a SIGKILL under Podman may well be an OOM kill that nobody can confirm ("" when it
    is not that case): Podman does not record OOM kills, the container had a memory limit,
    no kill event sent the signal, and the kernel's log could not be read or no longer
    reaches back to the kill."""
    if not c.engine.is_podman or c.exit_code != 137 or not c.host_config.get("Memory"):
        return ""
    if any(e.get("Action") in ("kill", "stop") for _, e in latest_run_events(c)):
        return ""
    if not c.runtime:
        rec = c.records.get("runtime")
        return "the kernel log was not read" + (f" ({rec.reason})" if rec and rec.reason
                                                 else "")
    log = as_map(c.runtime.get("kernel_oom"))
    if log.get("error"):
        return f"the kernel log could not be read ({log.get('error')})"
    oldest = parse_time(log.get("oldest"))
    finished = parse_time(c.state.get("FinishedAt"))
    if oldest is not None and finished is not None and oldest > finished:
        return "the kernel log no longer reaches back to when it died"
    return ""


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
    relevant = tuple((i, e) for i, e in run if e.get("Action") in ("oom", "kill", "die"))
    if flagged or any(e.get("Action") == "oom" for _, e in run):
        return Kill(KillKind.OOM, sig, relevant, Sender.KERNEL)
    if sig is None:
        return None
    if sig == 9 and c.status not in ("running", "paused"):
        record = kernel_oom(c)
        if record is not None:
            return Kill(KillKind.OOM, sig, relevant, Sender.KERNEL, kernel=record)
        if unconfirmed_oom(c):
            return Kill(KillKind.OOM, sig, relevant, Sender.KERNEL, certain=False)
    kills = [(i, e) for i, e in run if e.get("Action") == "kill"]
    signals = [signal_of_event(event_attr(e, "signal")) for _, e in kills]
    dies = tuple((i, e) for i, e in run if e.get("Action") == "die")
    stopped = any(e.get("Action") == "stop" for _, e in run)
    if sig in signals:
        sender = Sender.DOCKER_STOP if stopped else Sender.DOCKER_KILL
    else:
        sender = Sender.OUTSIDE if dies else Sender.UNKNOWN
    if sig == 9:
        if signals and signals[-1] == 9 and any(s not in (None, 9) for s in signals[:-1]):
            first = next(e for (_, e), s in zip(kills, signals, strict=True) if s not in (None, 9))
            gap = _seconds_between(first, kills[-1][1])
            return Kill(KillKind.STOP_TIMEOUT, sig, tuple(kills) + dies, sender, gap)
        stop_signal = signal_of_event(c.config.get("StopSignal") or "SIGTERM")
        if signals and signals[-1] == 9 and stopped and stop_signal != 9:
            # `docker stop` ended in SIGKILL although the stop signal is not SIGKILL: a timeout
            # whose first kill event has already left the engine's ring.
            return Kill(KillKind.STOP_TIMEOUT, sig, tuple(kills) + dies, sender)
        if signals and signals[-1] == 9:
            return Kill(KillKind.SIGKILL, sig, tuple(kills) + dies, sender)
        return Kill(KillKind.UNKNOWN, sig, dies, sender)
    return Kill(KillKind.SIGNAL, sig, tuple(kills) + dies, sender)


LOG_PATTERNS: dict[Cause, re.Pattern[str]] = {
    # 127 from a shell: busybox `sh: x: not found`, dash `sh: 1: x: not found`,
    # bash `bash: x: command not found`, `line 3: x: command not found`.
    Cause.COMMAND_NOT_FOUND: lazy_compile(
        r"(?:^|: )(?:line \d+: |\d+: )?(?P<cmd>[^\s:]+): (?:command )?not found\s*$"),
    Cause.MISSING_SHARED_LIBRARY: lazy_compile(
        r"error while loading shared libraries: (?P<lib>\S+): cannot open shared object file|"
        r"Error loading shared library (?P<lib2>\S+): No such file or directory|"
        r"Error relocating .*: symbol not found"),
}


def explained_exit(c: ContainerEvidence) -> Category | None:
    """The specific check that explains a non-zero exit, or None when only the application's
    own output can (then `app-exit-error` reports it with the decisive log lines).

    Several checks ask; it is worked out once per container."""
    return c.derived("explained_exit", _explained_exit)


def _explained_exit(c: ContainerEvidence) -> Category | None:
    if c.status == "dead":
        return Cause.DEAD
    sf = start_failure(c)
    if sf is not None:
        return sf.category
    ed = exec_diagnosis(c)
    if ed is not None:
        return ed.cause
    if engine_restart(c) is not None:
        return Cause.HOST_OR_DAEMON_RESTART
    story = kill_story(c)
    if story is not None:
        if story.kind == KillKind.OOM:
            return Cause.OOM_KILLED
        if story.kind == KillKind.STOP_TIMEOUT:
            return Cause.KILLED_AFTER_STOP_TIMEOUT
        if story.sender in (Sender.DOCKER_STOP, Sender.DOCKER_KILL):
            return Cause.KILLED_BY_SIGNAL
        # abort() as PID 1 faults instead of dying of SIGABRT (see readings.crash): 139.
        if story.signal == 6 or aborted_as_pid1(c):
            return Cause.ABORTED
        if story.signal == 7 and shm_facts(c).small:
            return Cause.BUS_ERROR_SHM_EXHAUSTED
        if story.signal == 11:
            return Cause.SEGFAULT
        return Cause.KILLED_BY_SIGNAL
    if c.exit_code == 127:
        for line in reversed(latest_run_lines(c)):
            for slug in (Cause.MISSING_SHARED_LIBRARY, Cause.COMMAND_NOT_FOUND):
                if LOG_PATTERNS[slug].search(line.text):
                    return slug
    # The application's last words name a D4xx log signature (read-only filesystem, DNS...).
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
    return last_with_text(lines, min(limit, 5))


def log_severity(c: ContainerEvidence, hits: Hits) -> Severity:
    """The severity of a log signature's finding: ERROR when the signature is why the latest
    run failed; WARNING when the latest run
    logged it; INFO when only earlier runs did."""
    if explained_exit(c) == hits.slug:
        return Severity.ERROR
    if hits.latest_run:
        return Severity.WARNING
    return Severity.INFO

