"""Readings of a container's life: its latest run, its state and exit code in words, and the facts
every exit and running-state finding quotes.

`docker logs` and the engine's events cover every run of a container; most questions are about
the latest one (:func:`latest_run_lines`, :func:`latest_run_events`).  Pure functions of one
container's evidence.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.logs import LogLine
from diagnose.evidence.readings.common import (
    argv,
    event_attr,
    event_evidence,
    event_time,
    inspect_evidence,
    signal_name,
    signal_of_exit,
)
from diagnose.model.findings import Evidence, fact
from diagnose.model.jsonview import dig
from diagnose.model.text import human_seconds
from diagnose.model.times import parse_time


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




def exit_meaning(code: int | None) -> str:
    """A short reading of an exit code (Linux, Docker conventions)."""
    if code is None:
        return "unknown"
    sig = signal_of_exit(code)
    if sig is not None:
        return f"{code} = 128+{sig} ({signal_name(sig)})"
    return {
        0: "0 (success)",
        1: "1 (general error)",
        2: "2 (misuse / Go panic)",
        125: "125 (engine error)",
        126: "126 (command cannot be invoked)",
        127: "127 (command not found)",
        128: "128 (start failed in the engine)",
        255: "255 (runtime exec failure or exit(-1))",
    }.get(code, str(code))


def state_summary(c: ContainerEvidence) -> str:
    """One line: the container's state as a person would say it."""
    if not c.inspect:
        return "unknown (inspect failed)"
    st = c.state
    status = c.status
    health = dig(st, "Health", "Status")
    restarts = c.inspect.get("RestartCount", 0)
    extra = []
    if health:
        extra.append(health)
    if restarts:
        extra.append(f"{restarts} restart{'s' if restarts != 1 else ''}")
    if st.get("OOMKilled"):
        extra.append("OOMKilled")
    tail = f" [{', '.join(extra)}]" if extra else ""
    if status == "created":
        if c.start_error and not st.get("Error"):  # Podman: read from its OCI runtime log
            return f"created, start failed (Podman records no exit code){tail}"
        if c.start_error:
            return f"created, start failed (exit {c.exit_code}){tail}"
        return f"created, never started{tail}"
    if status == "exited":
        ran = human_seconds(c.run_seconds(), "unknown time")
        return f"exited {exit_meaning(c.exit_code)} after {ran}{tail}"
    if status == "restarting":
        return f"restarting, last exit {exit_meaning(c.exit_code)}{tail}"
    return f"{status}{tail}"


def last_line(c: ContainerEvidence) -> LogLine | None:
    """The line a person would call "the last one".

    The engine timestamps stdout and stderr in separate copiers, so lines printed a moment apart
    can swap across streams; when the latest stdout line is within 100 ms of the latest stderr
    line, the stderr one (where errors go) is taken.
    """
    last = next((ln for ln in reversed(c.log_lines) if ln.text.strip()), None)
    err = next((ln for ln in reversed(c.stderr) if ln.text.strip()), None)
    if last is None or err is None or last.stream == "stderr":
        return last
    t_last, t_err = parse_time(last.timestamp), parse_time(err.timestamp)
    if t_last is not None and t_err is not None and (t_last - t_err).total_seconds() < 0.1:
        return err
    return last




#: The engine resets its restart back-off after a run of 10 s: below that a run "failed fast".
QUICK_SECONDS = 10.0


SHELLS = frozenset({"sh", "ash", "bash", "dash", "zsh", "ksh", "mksh"})


def ended(c: ContainerEvidence) -> bool:
    """True when the latest run is over (exited, or waiting to restart) and it ever ran."""
    return c.status in ("exited", "restarting") and c.ever_started




def command_text(c: ContainerEvidence) -> str:
    """Entrypoint + Cmd as one readable line."""
    return " ".join(argv(c)) or "(no command)"


def shell_script(c: ContainerEvidence) -> str | None:
    """The script of a `sh -c SCRIPT` command (shell form), else None."""
    words = argv(c)
    if len(words) >= 3 and posixpath.basename(words[0]) in SHELLS and words[1] == "-c":
        return words[2]
    return None


def pid1_is_shell(c: ContainerEvidence) -> bool:
    """True when PID 1 is a shell (`sh -c ...`, or a bare shell) rather than the application."""
    words = argv(c)
    return bool(words) and posixpath.basename(words[0]) in SHELLS and not c.host_config.get("Init")


def uptime_seconds(c: ContainerEvidence) -> float | None:
    """Seconds from the current run's start to the moment the evidence was collected."""
    start = parse_time(c.state.get("StartedAt"))
    end = parse_time(c.collected_at)
    if start is None or end is None:
        return None
    return max((end - start).total_seconds(), 0.0)


def event_label(e: Mapping[str, Any]) -> str:
    """`kill 15`, `die 137`, `stop`."""
    action = str(e.get("Action", ""))
    if action == "kill" and event_attr(e, "signal") is not None:
        return f"kill {event_attr(e, 'signal')}"
    if action == "die" and event_attr(e, "exitCode") is not None:
        return f"die {event_attr(e, 'exitCode')}"
    return action


_LIFECYCLE = ("start", "kill", "oom", "die", "stop", "pause", "unpause", "restart")


def events_fact(c: ContainerEvidence) -> tuple[str, str]:
    """What the engine's events say about the end of the latest run, or why they cannot."""
    rec = c.records.get("events")
    if rec is None or not rec.ok:
        why = rec.reason if rec is not None and rec.reason else "not collected"
        return fact("events", f"not available ({why}): reading inspect only")
    if not run_end_recorded(c):
        return fact("events", "none left for the end of the latest run (the engine keeps only "
                              "~256 recent events engine-wide): reading inspect only")
    run = [e for _, e in latest_run_events(c) if e.get("Action") in _LIFECYCLE]
    seq = " -> ".join(event_label(e) for e in run[-8:])
    kept = sum(1 for e in run[-8:] if e.get("Source") == "watch-journal")
    if kept:  # the engine had dropped them: say where they come from
        seq += f" ({kept} of them from the diagnose watch journal)"
    return fact("events", seq)


def lifecycle_evidence(c: ContainerEvidence, limit: int = 4) -> list[Evidence]:
    """Pointers to the kill/oom/die/stop events of the latest run (the latest `limit`)."""
    picked = [(i, e) for i, e in latest_run_events(c)
              if e.get("Action") in ("kill", "oom", "die", "stop")]
    return event_evidence(c, picked[-limit:])


def exit_evidence(c: ContainerEvidence) -> list[Evidence]:
    """The inspect fields every exit finding rests on."""
    return [inspect_evidence(c, "/State/ExitCode"), inspect_evidence(c, "/State/OOMKilled")]


def run_facts(c: ContainerEvidence) -> list[tuple[str, str]]:
    """Exit code, run length and restart count: the common head of exit findings."""
    facts = [fact("exit code", exit_meaning(c.exit_code)),
             fact("ran for", human_seconds(c.run_seconds()))]
    restarts = c.inspect.get("RestartCount") or 0
    if restarts:
        facts.append(fact("restarts", restarts))
    return facts


def last_text(lines: Sequence[Any], width: int = 160) -> str:
    """The last line's text, shortened for a title."""
    if not lines:
        return ""
    text = str(lines[-1].text).strip()
    return text if len(text) <= width else text[: width - 3] + "..."
