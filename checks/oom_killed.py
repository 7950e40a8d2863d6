"""D201: The kernel OOM killer killed the container.

What went wrong
    The container's memory cgroup hit its limit (`--memory`) and the kernel killed a process
    in it.  Docker records this as `State.OOMKilled=true` and emits an `oom` event before
    `die`; the exit code is usually 137 (128 + SIGKILL).  On cgroup v2 the flag is also set
    when a *child* process was killed, so the exit code may differ.

How to confirm by hand
    docker inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}' NAME
    docker events --since 1h --filter container=NAME --filter event=oom

Look-alikes told apart
    `killed-after-stop-timeout` (kill 15 then kill 9 events, no oom) and `killed-by-signal`
    (a plain SIGKILL from `docker kill` or an orchestrator).

Fix
    Raise the limit (`docker update --memory`) or cap the runtime's heap below it
    (`-XX:MaxRAMPercentage`, `--max-old-space-size`, `GOMEMLIMIT`), and look for a leak.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.checklib import event_evidence, events_with, inspect_evidence, q
from diagnose.model import Finding, Remediation, Severity, fact
from diagnose.registry import check
from diagnose.snapshot import ContainerEvidence


def _mib(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MiB"


@check("D201", "oom-killed", severity=Severity.CRITICAL, requires=("inspect",))
def oom_killed(c: ContainerEvidence) -> Iterator[Finding]:
    """OOMKilled flag or an `oom` event."""
    flagged = bool(c.state.get("OOMKilled"))
    oom_events = events_with(c, "oom")
    if not flagged and not oom_events:
        return
    limit = int(c.host_config.get("Memory") or 0)
    facts = [
        fact("State.OOMKilled", flagged),
        fact("exit code", c.exit_code),
        fact("memory limit", _mib(limit) if limit else "none (host memory)"),
        fact("oom events", len(oom_events)),
    ]
    evidence = [inspect_evidence(c, "/State/OOMKilled")]
    if limit:
        evidence.append(inspect_evidence(c, "/HostConfig/Memory"))
    evidence += event_evidence(c, oom_events[-3:])
    new_limit = f"{max(limit * 2 // 1024 // 1024, 256)}m" if limit else "512m"
    yield Finding(
        title=(f"killed by the kernel OOM killer at its {_mib(limit)} memory limit" if limit
               else "killed by the kernel OOM killer"),
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
