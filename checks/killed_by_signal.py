"""D203: The container's main process died of a signal.

What went wrong
    The exit code is 128 + n: PID 1 was ended by signal n (or a shell reported that its child
    was).  Who sent the signal decides what it means, and the engine's events say:
    `docker stop` (a `kill` event, then `stop`: a clean 143 after SIGTERM is a normal stop,
    reported as info), `docker kill [-s SIG]` (a `kill` event with that signal, no `stop`),
    or nobody in Docker (the run's `die` is recorded but no `kill` sent it): the process
    crashed (SIGABRT 134, SIGBUS 135, SIGFPE 136, SIGILL 132...), another process or the host
    sent it, or, for SIGKILL (137), the host's OOM killer: on cgroup v1 a host-wide OOM kill
    does not set `OOMKilled`.

    The engine keeps only a few hundred recent events, engine-wide (and none across its own
    restart).  When the ones for this container are gone, the finding says so, rests on the
    exit code alone, and is not sure: confidence low for SIGKILL (`docker kill`, a `docker
    stop` whose timeout ran out, an engine shutdown, `kill -9` on the host and the host's OOM
    killer all end in 137), medium for the other signals; it lists the senders that remain
    possible and how to tell them apart by hand.

    Severity follows the sender: info for `docker stop`; warning for `docker kill`, and for a
    non-crash signal nobody in Docker sent; error for a crash signal or a SIGKILL nobody in
    Docker sent.  With the events gone: error for a crash signal, warning for SIGKILL (it
    may have been `docker kill` or the host), info for SIGTERM and other requests (most
    likely a stop).

How to confirm by hand
    docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}} {{.State.FinishedAt}}' NAME
    docker events --since 24h --filter container=NAME --filter event=kill --filter event=stop
    dmesg -T | grep -i -E 'killed process|out of memory'     (on the engine host)

Look-alikes told apart
    `oom-killed` (OOMKilled or an `oom` event), `killed-after-stop-timeout` (a stop signal,
    then SIGKILL about the stop timeout later), `segfault` (SIGSEGV, 139, not sent by Docker),
    `aborted` (SIGABRT, 134, not sent by Docker; or 139 of a PID 1 that printed an abort
    message), `bus-error-shm-exhausted` (SIGBUS, 135, with the container's default /dev/shm).

Fix
    Depends on the sender: nothing for an intended stop; find the person, script or
    orchestrator that ran `docker kill`; for a crash read the last log lines and enable core
    dumps (`--ulimit core=-1`); for an unexplained SIGKILL read the host's kernel log and give
    the host (or the container's `--memory` limit) enough memory that the memory cgroup, not
    the global OOM killer, acts.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (command_text, CRASH_SIGNALS, decisive_lines, ended, events_fact,
                          exit_evidence, explained_exit, Kill, kill_story, last_text,
                          latest_run_lines, lifecycle_evidence, log_evidence, logs_command, q,
                          run_facts, Sender, signal_name, Cause, check, Confidence,
                          ContainerEvidence, fact, Finding, Remediation, Severity)

MEANING = {
    1: "hang-up", 2: "interrupt (Ctrl-C)", 3: "quit", 4: "illegal instruction (a binary built "
    "for a newer CPU, or corrupt)", 5: "trace/breakpoint trap", 6: "abort: a failed assertion "
    "or a fatal runtime error", 7: "bus error: a bad memory access, often /dev/shm too small or "
    "a truncated memory-mapped file", 8: "arithmetic exception (division by zero)",
    9: "kill", 13: "write to a closed pipe", 14: "alarm", 15: "termination request",
    24: "CPU time limit exceeded", 25: "file size limit exceeded", 31: "bad system call "
    "(seccomp refused a syscall)",
}

_SENDER = {
    Sender.DOCKER_STOP: "`docker stop` (kill event, then stop)",
    Sender.DOCKER_KILL: "`docker kill` (kill event, no stop)",
    Sender.OUTSIDE: "no Docker command: the run's end is in the events, but no kill event "
                    "sent it",
    Sender.UNKNOWN: "unknown: the engine no longer holds this container's events",
}


def _severity(sig: int, sender: Sender) -> Severity:
    if sender == Sender.DOCKER_STOP:
        return Severity.INFO
    if sender == Sender.DOCKER_KILL:
        return Severity.WARNING
    crash = sig in CRASH_SIGNALS
    if sender == Sender.OUTSIDE:
        return Severity.ERROR if crash or sig == 9 else Severity.WARNING
    # Events gone: a crash signal is still a crash; SIGKILL may be `docker kill` or the host.
    if crash:
        return Severity.ERROR
    return Severity.WARNING if sig == 9 else Severity.INFO


def _still_possible(sig: int) -> str:
    """Who may have sent `sig` when the events are gone, and how to tell them apart."""
    if sig == 9:
        return ("`docker kill`; `docker stop` whose timeout ran out (killed-after-stop-timeout); "
                "the engine or host shutting down; `kill -9` on the host; the host's OOM killer "
                "(on cgroup v1 it leaves OOMKilled=false).  Tell them apart: `dmesg -T | grep -i "
                "'killed process'` on the host for an OOM kill, the engine's log (journalctl -u "
                "docker) for a stop or a shutdown at FinishedAt, shell history or the audit log "
                "for docker kill/stop")
    return (f"`docker stop` or `docker kill -s {signal_name(sig).removeprefix('SIG')}`; the "
            "engine or host shutting down; a process on the host or in the container.  Tell them "
            "apart: the engine's log (journalctl -u docker) at FinishedAt, shell history or the "
            "audit log")


def _title(sig: int, story: Kill, last: str) -> str:
    name = signal_name(sig)
    if story.sender == Sender.DOCKER_STOP:
        return f"stopped by `docker stop`: it exited on {name} as asked (a normal stop)"
    if story.sender == Sender.DOCKER_KILL:
        return ("killed by `docker kill` (SIGKILL)" if sig == 9
                else f"killed by `docker kill -s {name.removeprefix('SIG')}`: "
                     f"it has no handler for {name}")
    if story.sender == Sender.OUTSIDE:
        if sig == 9:
            return ("killed by a SIGKILL that no Docker command sent: the host's OOM killer "
                    "or a `kill -9` on the host")
        if sig in CRASH_SIGNALS:
            tail = f": {last}" if last else ""
            return f"crashed with {name} ({MEANING.get(sig, 'signal')}){tail}"
        return f"ended by {name} that no Docker command sent (a process in the container or host)"
    return (f"died of {name} ({MEANING.get(sig, 'signal')}); who sent it is unknown: the "
            "engine's events for it are gone")


def _remediation(c: ContainerEvidence, story: Kill, sig: int) -> Remediation:
    name = q(c.name)
    commands: tuple[str, ...]
    if story.sender == Sender.DOCKER_STOP:
        summary = ("Nothing to fix if the stop was intended; if it should still be running, "
                   "find who stopped it and start it again.")
        commands = (f"docker events --since 24h --filter container={name} --filter event=stop",
                    f"docker start {name}")
    elif story.sender == Sender.DOCKER_KILL:
        summary = ("A person, script or orchestrator killed it on purpose: find out who, and "
                   "handle the signal in the application if it was meant as a request.")
        commands = (f"docker events --since 24h --filter container={name} --filter event=kill",
                    f"docker start {name}")
    elif sig in CRASH_SIGNALS:
        summary = ("The process crashed: read the last log lines, and rerun with core dumps "
                   "enabled to get a backtrace.")
        commands = (logs_command(c),
                    f"docker run --ulimit core=-1 {q(c.image_ref or 'IMAGE')}")
    else:
        summary = ("Find the sender: the host's kernel log shows OOM kills, the engine's events "
                   "show Docker commands (while it still holds them).")
        commands = ("dmesg -T | grep -i -E 'killed process|out of memory'",
                    f"docker events --since 24h --filter container={name}",
                    f"docker start {name}")
    return Remediation(summary, commands)


@check("D203", "killed-by-signal", severity=Severity.WARNING, requires=("inspect",))
def killed_by_signal(c: ContainerEvidence) -> Iterator[Finding]:
    """Exit 128+n not explained by OOM, a stop timeout or a segfault; who sent the signal."""
    if not ended(c) or explained_exit(c) != Cause.KILLED_BY_SIGNAL:
        return
    story = kill_story(c)
    if story is None or story.signal is None:
        return
    sig = story.signal
    lines = latest_run_lines(c)
    decisive = decisive_lines(lines, 8) if sig in CRASH_SIGNALS else []
    facts = run_facts(c) + [
        fact("signal", f"{signal_name(sig)} ({MEANING.get(sig, 'signal')})"),
        fact("sent by", _SENDER.get(story.sender, story.sender)),
        fact("State.OOMKilled", bool(c.state.get("OOMKilled"))),
        events_fact(c),
        fact("PID 1 command", command_text(c)),
    ]
    if sig == 9 and story.sender in (Sender.OUTSIDE, Sender.UNKNOWN):
        limit = int(c.host_config.get("Memory") or 0)
        facts.append(fact("memory limit", f"{limit // (1024 * 1024)} MiB" if limit
                          else "none (the host's memory)"))
        cgroup = str(c.engine.info.get("CgroupVersion") or "")
        if cgroup:
            facts.append(fact("cgroup version", cgroup + (
                " (a host-wide OOM kill leaves OOMKilled=false)" if cgroup == "1" else "")))
    confidence = Confidence.HIGH
    if story.sender == Sender.UNKNOWN:
        confidence = Confidence.LOW if sig == 9 else Confidence.MEDIUM
        facts.append(fact("still possible", _still_possible(sig)))
    evidence = exit_evidence(c) + lifecycle_evidence(c) + log_evidence(c, decisive, 2)
    yield Finding(
        title=_title(sig, story, last_text(decisive, 120)),
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=_remediation(c, story, sig),
        severity=_severity(sig, story.sender),
        confidence=confidence,
    )
