"""D703: The container shares a namespace with the host (network, pid, ipc or uts).

What went wrong
    `--network host`, `--pid host`, `--ipc host` and `--uts host` switch off one layer of
    isolation each.  With the host's network the container binds host ports directly and
    reaches every local service (including ones listening on 127.0.0.1); with the host's PID
    namespace it sees, and as root can signal or ptrace, every process on the host; with the
    host's IPC namespace it shares shared memory with host processes.  The UTS namespace only
    holds the hostname, so sharing it alone is information; the others are warnings.

How to confirm by hand
    docker inspect -f 'net={{.HostConfig.NetworkMode}} pid={{.HostConfig.PidMode}}' NAME
    docker inspect -f 'ipc={{.HostConfig.IpcMode}} uts={{.HostConfig.UTSMode}}' NAME

Fix
    Recreate the container without the `host` modes: publish ports (`-p`) on a user-defined
    network instead of `--network host`; drop `--pid host` unless it is a host monitoring
    agent.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (host_namespaces, inspect_evidence, q, check, ContainerEvidence, fact,
                          Finding, Remediation, Severity)


@check("D703", "host-namespace", severity=Severity.WARNING, requires=("inspect",))
def host_namespace(c: ContainerEvidence) -> Iterator[Finding]:
    """HostConfig NetworkMode, PidMode, IpcMode and UTSMode set to `host`."""
    shared = host_namespaces(c)
    if not shared:
        return
    names = [ns for _, ns in shared]
    yield Finding(
        title=f"shares the host's {', '.join(names)} namespace"
              + ("s" if len(names) > 1 else ""),
        facts=tuple(fact(f"HostConfig.{fld}", "host") for fld, _ in shared),
        evidence=tuple(inspect_evidence(c, f"/HostConfig/{fld}") for fld, _ in shared),
        remediation=Remediation(
            "Recreate it without the host namespaces: publish ports (-p) on a user-defined "
            "network instead of --network host; keep --pid host for host agents only.",
            ("docker inspect -f 'net={{.HostConfig.NetworkMode}} pid={{.HostConfig.PidMode}} "
             f"ipc={{{{.HostConfig.IpcMode}}}} uts={{{{.HostConfig.UTSMode}}}}' {q(c.name)}",),
        ),
        severity=Severity.INFO if names == ["uts"] else Severity.WARNING,
    )
