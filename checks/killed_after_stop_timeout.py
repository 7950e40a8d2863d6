"""D202: Killed with SIGKILL because it ignored the stop signal.

What went wrong
    Something stopped the container (`docker stop`, `docker compose down`, a restart of the
    service) and the engine sent PID 1 the stop signal (SIGTERM unless `STOPSIGNAL` says
    otherwise).  PID 1 did not exit within the stop timeout (10 s by default, `-t` /
    `--stop-timeout` / Compose `stop_grace_period`), so the engine killed it with SIGKILL:
    exit code 137, `OOMKilled=false`, and the events `kill` (signal 15), then about the
    timeout later `kill` (signal 9), `die` (137), `stop`.  The usual reason is a PID 1 that
    never sees the signal: a shell (`sh -c ...`, shell-form `CMD`, an entrypoint script without
    `exec "$@"`) does not forward it to its child, and the kernel drops signals to a
    container's PID 1 that has no handler for them.  The application loses its chance to shut
    down cleanly (open transactions, buffered writes), and every stop takes the full timeout.

How to confirm by hand
    docker events --since 1h --filter container=NAME --filter event=kill --filter event=die
    docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}} {{json .Config.Cmd}}' NAME

Look-alikes told apart
    `oom-killed` (OOMKilled=true or an `oom` event), `killed-by-signal` (a plain SIGKILL from
    `docker kill` or from outside Docker: no earlier stop signal).  Without the events (the
    engine keeps only a few hundred, engine-wide) the three cannot be told apart from inspect
    alone: this check then stays silent and `killed-by-signal` says so.

Fix
    Make the application PID 1 (exec-form `CMD ["app"]`, `exec "$@"` at the end of entrypoint
    scripts) or run an init that forwards signals (`docker run --init`, tini, dumb-init), and
    handle SIGTERM in the application.  If shutdown is legitimately slow, raise the timeout
    (`--stop-timeout 30`, Compose `stop_grace_period: 30s`).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (command_text, ended, event_attr, events_fact, exit_evidence,
                          human_seconds, inspect_evidence, kill_story, KillKind, lifecycle_evidence,
                          pid1_is_shell, q, run_facts, signal_name, signal_of_event, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)


@check("D202", "killed-after-stop-timeout", severity=Severity.WARNING, requires=("inspect",))
def killed_after_stop_timeout(c: ContainerEvidence) -> Iterator[Finding]:
    """Exit 137 after a stop signal was followed by SIGKILL (events kill N, then kill 9)."""
    if not ended(c):
        return
    story = kill_story(c)
    if story is None or story.kind != KillKind.STOP_TIMEOUT:
        return
    first = next((e for _, e in story.events if e.get("Action") == "kill"
                  and signal_of_event(event_attr(e, "signal")) not in (None, 9)), None)
    stop_sig = signal_of_event(event_attr(first, "signal")) if first is not None else 15
    stop_name = signal_name(stop_sig or 15)
    configured = c.config.get("StopTimeout")
    gap = human_seconds(story.stop_gap)
    facts = run_facts(c) + [
        fact("State.OOMKilled", bool(c.state.get("OOMKilled"))),
        fact("stop signal", stop_name),
        fact("SIGKILL came after", gap if story.stop_gap is not None
             else "unknown (the stop signal's event has left the engine's ring)"),
        fact("configured stop timeout",
             f"{configured} s (--stop-timeout)" if isinstance(configured, int)
             else "engine default 10 s (a `docker stop -t N` is not recorded)"),
        fact("PID 1 command", command_text(c)),
        fact("--init", bool(c.host_config.get("Init"))),
        events_fact(c),
    ]
    if pid1_is_shell(c):
        facts.append(fact("PID 1 is a shell",
                          "yes: it neither forwards the stop signal to its child nor exits on "
                          "it (no handler in a container's PID 1)"))
    evidence = exit_evidence(c) + lifecycle_evidence(c, 5)
    evidence.append(inspect_evidence(c, "/Config/Cmd"))
    image = c.image_ref or "IMAGE"
    yield Finding(
        title=(f"ignored {stop_name} from `docker stop` and was killed with SIGKILL "
               + (f"{gap} later (stop timeout)" if story.stop_gap is not None
                  else "when the stop timeout ran out")),
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Let PID 1 receive the stop signal: exec-form CMD/ENTRYPOINT, `exec \"$@\"` at the "
            "end of entrypoint scripts, or `--init`; handle SIGTERM in the application. Raise "
            "the stop timeout only if a clean shutdown really takes longer.",
            (
                f"docker inspect -f '{{{{json .Config.Entrypoint}}}} {{{{json .Config.Cmd}}}} "
                f"{{{{.HostConfig.Init}}}}' {q(c.name)}",
                f"docker run -d --init --stop-timeout 30 {q(image)}",
            ),
        ),
    )
