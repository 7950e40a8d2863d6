"""Facts about a container's latest run, worded once for the exit and running-state checks.

The readings that tell look-alikes apart live in :mod:`diagnose.signatures`; this module only
turns evidence into the facts and evidence pointers a finding quotes (exit code, run length,
what the engine's events still say, the command PID 1 runs).  Pure functions of the evidence.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

from diagnose.checklib import argv, event_attr, event_evidence, inspect_evidence
from diagnose.model import Evidence, fact
from diagnose.signatures import latest_run_events, run_end_recorded
from diagnose.snapshot import ContainerEvidence, parse_time

#: The engine resets its restart back-off after a run of 10 s: below that a run "failed fast".
QUICK_SECONDS = 10.0

SHELLS = frozenset({"sh", "ash", "bash", "dash", "zsh", "ksh", "mksh"})


def ended(c: ContainerEvidence) -> bool:
    """True when the latest run is over (exited, or waiting to restart) and it ever ran."""
    return c.status in ("exited", "restarting") and c.ever_started


def human_seconds(seconds: float | None) -> str:
    """`350 ms`, `4.2 s`, `3 min`, `2.5 h`, or `unknown`."""
    if seconds is None:
        return "unknown"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


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
    seq = [event_label(e) for _, e in latest_run_events(c) if e.get("Action") in _LIFECYCLE]
    return fact("events", " -> ".join(seq[-8:]))


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
    from diagnose.tree import exit_meaning

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
