"""D201: The kernel OOM killer killed the container.

What went wrong
    The container's memory cgroup hit its limit (`--memory`) and the kernel killed a process
    in it.  Docker records this as `State.OOMKilled=true` and emits an `oom` event before
    `die`; the exit code is usually 137 (128 + SIGKILL).  On cgroup v2 the flag is also set
    when a *child* process was killed, so the exit code may differ.  While the container runs
    the flag still describes its previous exit (Docker 20.10 does not clear it on start), so
    for a running container only an `oom` event since its last start counts: a process in it
    was killed and PID 1 survived.

How to confirm by hand
    docker inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}' NAME
    docker events --since 1h --filter container=NAME --filter event=oom

Podman
    Podman never sets OOMKilled and sends no `oom` event (conmon writes its OOM marker where
    Podman does not look).  On a local Podman the kernel's log (`oom-kill: ...
    oom_memcg=.../libpod-<id>`, read into runtime.json) confirms the kill; when it cannot be
    read, a SIGKILL (exit 137) of a container with a memory limit and no kill event is
    reported as *probably* OOM-killed, saying why it cannot be confirmed.

Look-alikes told apart
    `killed-after-stop-timeout` (kill 15 then kill 9 events, no oom) and `killed-by-signal`
    (a plain SIGKILL from `docker kill` or an orchestrator; on cgroup v1 also a host-wide OOM
    kill, which leaves OOMKilled=false).

Fix
    Raise the limit (`docker update --memory`) or cap the runtime's heap below it
    (`-XX:MaxRAMPercentage`, `--max-old-space-size`, `GOMEMLIMIT`), and look for a leak.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (event_evidence, events_fact, exit_meaning, human_seconds,
                          inspect_evidence, Kill, kill_story, KillKind, latest_run_events,
                          layout, q, unconfirmed_oom, check, ContainerEvidence, Evidence, fact,
                          Finding, Remediation, Severity)


def _kernel_evidence(c: ContainerEvidence, story: Kill) -> Evidence:
    """The kernel's record of the kill (runtime.json, collected on a local Podman)."""
    i, record = story.kernel or (0, {})
    return Evidence(file=c.path(layout.RUNTIME), pointer=f"/kernel_oom/records/{i}/text",
                    excerpt=str(record.get("text") or ""))


def _unconfirmed(c: ContainerEvidence, where: str, facts: list[tuple[str, str]]
                 ) -> tuple[str, Severity]:
    """Title and severity of an OOM kill nobody recorded (Podman) and the kernel log could
    not confirm; says why in `facts`."""
    why = unconfirmed_oom(c)
    facts.append(fact("confirmed", f"no: {why}"))
    return (f"probably killed by the kernel OOM killer{where}: SIGKILL with no kill event, and "
            f"Podman does not record OOM kills; {why}, so it cannot be confirmed",
            Severity.ERROR)


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MiB"


@check("D201", "oom-killed", severity=Severity.CRITICAL, requires=("inspect",))
def oom_killed(c: ContainerEvidence) -> Iterator[Finding]:
    """OOMKilled flag or an `oom` event in the latest run."""
    if c.status in ("dead", "removing", "created"):
        return
    running = c.status in ("running", "paused")
    # Only the latest run counts.  The flag describes the last exit; Docker 20.10 keeps it set
    # after a restart, so on a running container it is stale and only an `oom` event since the
    # last start shows a process was killed in this run.
    flagged = bool(c.state.get("OOMKilled")) and not running
    oom_events = [(i, e) for i, e in latest_run_events(c) if e.get("Action") == "oom"]
    # Podman never sets OOMKilled nor sends `oom`: the kernel's log says so, or nobody can.
    story = kill_story(c) if not (flagged or oom_events or running) else None
    if story is not None and story.kind != KillKind.OOM:
        story = None
    if not flagged and not oom_events and story is None:
        return
    limit = int(c.host_config.get("Memory") or 0)
    facts = [
        fact("State.OOMKilled", flagged if story is None
             else "false (Podman never records OOM kills)"),
        fact("exit code", "(still running: PID 1 survived)" if running
             else exit_meaning(c.exit_code)),
        fact("memory limit", _mib(limit) if limit else "none (host memory)"),
        fact("oom events", len(oom_events)),
        events_fact(c),
    ]
    if not running:
        facts.insert(2, fact("ran for", human_seconds(c.run_seconds())))
    evidence = [inspect_evidence(c, "/State/OOMKilled")]
    if limit:
        evidence.append(inspect_evidence(c, "/HostConfig/Memory"))
    evidence += event_evidence(c, oom_events[-3:])
    if story is not None and story.kernel is not None:
        facts.append(fact("kernel log", str(story.kernel[1].get("text") or "")))
        evidence.append(_kernel_evidence(c, story))
    new_limit = f"{max(limit * 2 // 1024 // 1024, 256)}m" if limit else "512m"
    where = f" at its {_mib(limit)} memory limit" if limit else ""
    title = (f"a process in it was killed by the kernel OOM killer{where} (PID 1 survived)"
             if running else f"killed by the kernel OOM killer{where}")
    severity = Severity.ERROR if running else None
    if story is not None and not story.certain:
        title, severity = _unconfirmed(c, where, facts)
    yield Finding(
        title=title,
        severity=severity,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Give the container more memory or make the process use less (cap the runtime "
            "heap below the limit); then look for a leak.",
            (
                f"docker stats --no-stream {q(c.name)}",
                f"docker update --memory {new_limit} --memory-swap {new_limit} {q(c.name)}",
                f"docker start {q(c.name)}",
            ),
        ),
    )
