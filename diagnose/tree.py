"""The "what went wrong" decision tree as a path of questions and evidence-backed answers.

The path is what a human would check by hand, in order; each step quotes where the answer
comes from, and names the checks that fired at that stage.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from diagnose import layout
from diagnose.checklib import argv, signal_name, signal_of_exit
from diagnose.jsonview import as_map, dig
from diagnose.model import CheckOutcome, PathStep, Status
from diagnose.snapshot import ContainerEvidence, LogLine, parse_time
from diagnose.startsig import start_blocked_by_mount


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown time"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


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
        if st.get("Error"):
            return f"created, start failed (exit {c.exit_code}){tail}"
        return f"created, never started{tail}"
    if status == "exited":
        return f"exited {exit_meaning(c.exit_code)} after {_duration(c.run_seconds())}{tail}"
    if status == "restarting":
        return f"restarting, last exit {exit_meaning(c.exit_code)}{tail}"
    return f"{status}{tail}"


def decision_path(c: ContainerEvidence, outcomes: Sequence[CheckOutcome]) -> list[PathStep]:
    """Walk the tree over the evidence; every answer cites the bundle file it comes from."""
    fired: dict[str, list[str]] = {}
    for o in outcomes:
        for f in o.findings:
            fired.setdefault(f.stage, []).append(f.id)

    def found(stage: str) -> str:
        ids = fired.get(stage)
        return f" -> {', '.join(dict.fromkeys(ids))}" if ids else ""

    steps: list[PathStep] = []
    ins = c.path(layout.INSPECT)
    if not c.inspect:
        rec = c.records.get("inspect")
        reason = rec.reason if rec else "not collected"
        return [PathStep("exists", "Does it exist?", f"unknown: inspect failed ({reason})")]
    st = c.state
    steps.append(
        PathStep(
            "exists",
            "Does it exist?",
            f"yes: {c.name} ({c.id[:12]}), image {c.image_ref}, status {c.status}",
            (f"{ins}#/State/Status",),
        )
    )
    if c.ever_started:
        started = f"yes, last started {st.get('StartedAt')}"
    elif st.get("Error"):
        started = f"no: the engine failed to start it: {st.get('Error')}"
    elif start_blocked_by_mount(c):
        started = ("no: a start fails on a missing bind mount source (Docker does not record "
                   "that in State.Error)")
    else:
        started = "no: created but never started"
    steps.append(
        PathStep("start", "Did it ever start?", started + found("exists") + found("start"),
                 (f"{ins}#/State/StartedAt", f"{ins}#/State/Error"))
    )
    if c.status in ("exited", "restarting", "dead") and c.ever_started:
        answer = (
            f"exit code {exit_meaning(c.exit_code)} after {_duration(c.run_seconds())}, "
            f"OOMKilled={'true' if st.get('OOMKilled') else 'false'}"
        )
        kills = [e for e in c.events if e.get("Action") in ("kill", "oom", "die")]
        if kills:
            seq = " -> ".join(_event_label(e) for e in kills[-6:])
            answer += f"; events: {seq}"
        steps.append(
            PathStep("exit", "How did it exit?", answer + found("exit"),
                     (f"{ins}#/State/ExitCode", f"{ins}#/State/OOMKilled",
                      c.path(layout.EVENTS)))
        )
    restarts = c.inspect.get("RestartCount", 0)
    policy = dig(c.host_config, "RestartPolicy", "Name") or "no"
    health = as_map(st.get("Health"))
    running_bits = [f"restart policy {policy}, {restarts} restarts"]
    if health:
        running_bits.append(
            f"health {health.get('Status')} (failing streak {health.get('FailingStreak', 0)})"
        )
    if st.get("Paused"):
        running_bits.append("paused")
    steps.append(
        PathStep("running", "Restarts, health, processes?",
                 "; ".join(running_bits) + found("running"),
                 (f"{ins}#/RestartCount", f"{ins}#/State/Health"))
    )
    log_rec = c.records.get("logs")
    if log_rec is not None and log_rec.ok:
        answer = (f"{c.log_line_count('stdout')} stdout and {c.log_line_count('stderr')} "
                  "stderr lines")
        if log_rec.truncated:
            answer += " (truncated by the caps)"
        if c.log_unanalysed():
            answer += f" ({c.log_unanalysed()})"
        last = last_line(c)
        if last is not None:
            answer += f"; last line: {last.text[:160]!r}"
    else:
        answer = f"not collected ({log_rec.reason if log_rec else 'no record'})"
    steps.append(
        PathStep("logs", "What do its logs say?", answer + found("logs"),
                 (c.path(layout.LOG_STDOUT), c.path(layout.LOG_STDERR)))
    )
    steps.append(_entrypoint_step(c))
    for stage, question in (
        ("project", "Did a service it depends on fail?"),
        ("engine", "Is the engine or host the problem?"),
        ("hygiene", "Security and hygiene"),
    ):
        if fired.get(stage):
            steps.append(PathStep(stage, question, found(stage).removeprefix(" -> ")))
    skipped = [o for o in outcomes if o.status is Status.SKIPPED]
    if skipped:
        steps.append(
            PathStep("checks", "What could not be checked?",
                     "; ".join(f"{o.id}: {o.reason}" for o in skipped[:6])
                     + (f" (+{len(skipped) - 6} more)" if len(skipped) > 6 else ""))
        )
    return steps


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


def _event_label(e: Mapping[str, Any]) -> str:
    attrs = as_map(dig(e, "Actor", "Attributes"))
    action = str(e.get("Action"))
    if action == "kill" and "signal" in attrs:
        return f"kill {attrs['signal']}"
    if action == "die" and "exitCode" in attrs:
        return f"die {attrs['exitCode']}"
    return action


def _entrypoint_step(c: ContainerEvidence) -> PathStep:
    probe = c.entrypoint
    q = "Would an entrypoint override reveal the cause?"
    cmd = " ".join(argv(c)) or "(no command)"
    if not probe:
        rec = c.records.get("entrypoint")
        return PathStep("entrypoint", q, f"command {cmd!r}; not probed "
                        f"({rec.reason if rec else 'no record'})")
    target = probe.get("resolved") or probe.get("argv0")
    bits = [f"command {cmd!r}"]
    refs = [c.path(layout.ENTRYPOINT)]
    fs = as_map(probe.get("filesystem"))
    if fs.get("readable") is False:
        bits.append(f"its filesystem could not be read ({fs.get('error', 'archive endpoint')})")
    override = c.records.get("probe")
    if override is not None and override.ok:
        bits.append("--probe: a throwaway override container ran read-only probes")
        refs.append(c.path(layout.PROBE))
    if probe.get("exists") is False:
        bits.append(f"{probe.get('argv0')} not found in the container")
    elif target:
        f = as_map(probe.get("file"))
        kind = f.get("kind", "file")
        mode = f.get("mode_octal", "?")
        bits.append(f"{target}: {kind}, mode {mode}")
        if f.get("shebang"):
            bits.append(f"shebang {f['shebang']!r}")
        if f.get("interpreter"):
            bits.append(f"ELF loader {f['interpreter']}")
    return PathStep("entrypoint", q, "; ".join(bits), tuple(refs))
