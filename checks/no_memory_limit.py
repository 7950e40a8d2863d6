"""D711: A container that was OOM-killed or keeps restarting has no memory limit.

What went wrong
    Without `--memory` a container may use all of the host's memory.  When such a container
    is OOM-killed, it was the *host* that ran out (the kernel picked a victim host-wide, and
    other processes may have died too): a warning.  A container that keeps restarting with
    no limit is information: if a leak is what kills it, nothing stops the next run from
    taking the host down with it.  The cause of the crash itself is reported by the exit
    checks; this is the hygiene advice that goes with it.

How to confirm by hand
    docker inspect -f 'limit={{.HostConfig.Memory}} oom={{.State.OOMKilled}}' NAME
    docker inspect -f 'restarts={{.RestartCount}}' NAME

Fix
    Give it a limit with headroom over its normal peak (`docker stats` shows it), and the same
    value as `--memory-swap` so it cannot swap the host to a crawl.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (inspect_evidence, q, check, ContainerEvidence, fact, Finding, Remediation,
                          Severity)


@check("D711", "no-memory-limit", severity=Severity.WARNING, requires=("inspect",))
def no_memory_limit(c: ContainerEvidence) -> Iterator[Finding]:
    """HostConfig.Memory == 0 on an OOM-killed or restarting container."""
    if int(c.host_config.get("Memory") or 0) > 0:
        return
    oom = bool(c.state.get("OOMKilled"))
    restarts = int(c.inspect.get("RestartCount") or 0)
    if not oom and restarts == 0:
        return
    why = "was OOM-killed" if oom else f"restarted {restarts} times"
    ev = [inspect_evidence(c, "/HostConfig/Memory")]
    ev.append(inspect_evidence(c, "/State/OOMKilled") if oom
              else inspect_evidence(c, "/RestartCount"))
    yield Finding(
        title=f"no memory limit, and it {why}"
              + (": the host itself ran out of memory" if oom else ""),
        facts=(fact("HostConfig.Memory", "0 (unlimited)"), fact("State.OOMKilled", oom),
               fact("RestartCount", restarts)),
        evidence=tuple(ev),
        remediation=Remediation(
            "Set a memory limit with headroom over its normal peak (and --memory-swap to the "
            "same value).",
            (f"docker stats --no-stream {q(c.name)}",
             f"docker update --memory 512m --memory-swap 512m {q(c.name)}"),
        ),
        severity=Severity.WARNING if oom else Severity.INFO,
    )
