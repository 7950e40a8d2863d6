"""The "what went wrong" decision tree as a path of questions and evidence-backed answers.

The path is what a human would check by hand, in order; each step quotes where the answer
comes from, and names the checks that fired at that stage.
"""

from __future__ import annotations

from collections.abc import Sequence

from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.readings.common import argv
from diagnose.evidence.readings.lifecycle import event_label, exit_meaning, last_line
from diagnose.evidence.readings.start import start_blocked_by_mount
from diagnose.model.findings import CheckOutcome, PathStep, Status
from diagnose.model.jsonview import as_map, dig
from diagnose.model.text import human_seconds


class _Fired:
    """The checks that fired, by stage: `-> id, id` after a step's answer."""

    def __init__(self, outcomes: Sequence[CheckOutcome]) -> None:
        self.ids: dict[str, list[str]] = {}
        for o in outcomes:
            for f in o.findings:
                self.ids.setdefault(f.stage, []).append(f.id)

    def __call__(self, stage: str) -> str:
        ids = self.ids.get(stage)
        return f" -> {', '.join(dict.fromkeys(ids))}" if ids else ""


def decision_path(c: ContainerEvidence, outcomes: Sequence[CheckOutcome]) -> list[PathStep]:
    """Walk the tree over the evidence; every answer cites the bundle file it comes from."""
    if not c.inspect:
        rec = c.records.get("inspect")
        reason = rec.reason if rec else "not collected"
        return [PathStep("exists", "Does it exist?", f"unknown: inspect failed ({reason})")]
    found = _Fired(outcomes)
    ins = c.path(layout.INSPECT)
    steps = [
        PathStep("exists", "Does it exist?",
                 f"yes: {c.name} ({c.id[:12]}), image {c.image_ref}, status {c.status}",
                 (f"{ins}#/State/Status",)),
        PathStep("start", "Did it ever start?", _started(c) + found("exists") + found("start"),
                 (f"{ins}#/State/StartedAt", _start_error_ref(c))),
    ]
    if c.status in ("exited", "restarting", "dead") and c.ever_started:
        steps.append(PathStep("exit", "How did it exit?", _exit(c) + found("exit"),
                              (f"{ins}#/State/ExitCode", f"{ins}#/State/OOMKilled",
                               c.path(layout.EVENTS))))
    steps.append(PathStep("running", "Restarts, health, processes?",
                          _running(c) + found("running"),
                          (f"{ins}#/RestartCount", f"{ins}#/State/Health")))
    steps.append(PathStep("logs", "What do its logs say?", _logs(c) + found("logs"),
                          (c.path(layout.LOG_STDOUT), c.path(layout.LOG_STDERR))))
    steps.append(_entrypoint_step(c))
    for stage, question in (
        ("project", "Did a service it depends on fail?"),
        ("engine", "Is the engine or host the problem?"),
        ("hygiene", "Security and hygiene"),
    ):
        if found.ids.get(stage):
            steps.append(PathStep(stage, question, found(stage).removeprefix(" -> ")))
    skipped = [o for o in outcomes if o.status is Status.SKIPPED]
    if skipped:
        steps.append(
            PathStep("checks", "What could not be checked?",
                     "; ".join(f"{o.id}: {o.reason}" for o in skipped[:6])
                     + (f" (+{len(skipped) - 6} more)" if len(skipped) > 6 else ""))
        )
    return steps


def _started(c: ContainerEvidence) -> str:
    st = c.state
    if c.ever_started:
        return f"yes, last started {st.get('StartedAt')}"
    if c.start_error:
        return f"no: the engine failed to start it: {c.start_error}"
    if start_blocked_by_mount(c):
        return ("no: a start fails on a missing bind mount source (Docker does not record "
                "that in State.Error)")
    return "no: created but never started"


def _start_error_ref(c: ContainerEvidence) -> str:
    """Where the start error is (inspect's State.Error, or Podman's runtime log)."""
    rel, pointer = c.start_error_pointer
    return f"{c.path(rel)}#{pointer}"


def _exit(c: ContainerEvidence) -> str:
    ran = human_seconds(c.run_seconds(), "unknown time")
    answer = (f"exit code {exit_meaning(c.exit_code)} after {ran}, "
              f"OOMKilled={'true' if c.state.get('OOMKilled') else 'false'}")
    kills = [e for e in c.events if e.get("Action") in ("kill", "oom", "die")]
    if kills:
        answer += f"; events: {' -> '.join(event_label(e) for e in kills[-6:])}"
    return answer


def _running(c: ContainerEvidence) -> str:
    restarts = c.inspect.get("RestartCount", 0)
    policy = dig(c.host_config, "RestartPolicy", "Name") or "no"
    health = as_map(c.state.get("Health"))
    bits = [f"restart policy {policy}, {restarts} restarts"]
    if health.get("Status"):  # Podman puts an empty Health on every container (no healthcheck)
        bits.append(
            f"health {health.get('Status')} (failing streak {health.get('FailingStreak', 0)})")
    if c.state.get("Paused"):
        bits.append("paused")
    return "; ".join(bits)


def _logs(c: ContainerEvidence) -> str:
    log_rec = c.records.get("logs")
    if log_rec is None or not log_rec.ok:
        return f"not collected ({log_rec.reason if log_rec else 'no record'})"
    answer = (f"{c.log_line_count('stdout')} stdout and {c.log_line_count('stderr')} "
              "stderr lines")
    if log_rec.truncated:
        answer += " (truncated by the caps)"
    if c.log_unanalysed():
        answer += f" ({c.log_unanalysed()})"
    last = last_line(c)
    if last is not None:
        answer += f"; last line: {last.text[:160]!r}"
    return answer


def _entrypoint_step(c: ContainerEvidence) -> PathStep:
    probe = c.entrypoint
    q = "Would an entrypoint override reveal the cause?"
    cmd = " ".join(argv(c)) or "(no command)"
    if not probe:
        rec = c.records.get("entrypoint")
        return PathStep("entrypoint", q, f"command {cmd!r}; not probed "
                        f"({rec.reason if rec else 'no record'})")
    target = probe.resolved or probe.argv0
    bits = [f"command {cmd!r}"]
    refs = [c.path(layout.ENTRYPOINT)]
    if probe.readable is False:
        why = probe.filesystem_error
        bits.append(f"its filesystem could not be read "
                    f"({why if why is not None else 'archive endpoint'})")
    override = c.records.get("probe")
    if override is not None and override.ok:
        thrown = as_map(as_map(c.json(layout.PROBE)).get("throwaway"))
        bits.append(f"--probe: the throwaway override container could not start: "
                    f"{thrown.get('start_error')}" if thrown.get("start_error") else
                    "--probe: a throwaway override container ran read-only probes")
        refs.append(c.path(layout.PROBE))
    if probe.exists is False:
        bits.append(f"{probe.argv0} not found in the container")
    elif target:
        f = probe.file
        kind = f.kind if f.kind is not None else "file"
        mode = f.mode_octal if f.mode_octal is not None else "?"
        bits.append(f"{target}: {kind}, mode {mode}")
        if f.shebang:
            bits.append(f"shebang {f.shebang!r}")
        if f.interpreter:
            bits.append(f"ELF loader {f.interpreter}")
    return PathStep("entrypoint", q, "; ".join(bits), tuple(refs))
