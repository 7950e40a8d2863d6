"""D704: The container was given dangerous capabilities (--cap-add).

What went wrong
    Docker drops most Linux capabilities by default.  Adding some back hands out host-level
    power: SYS_ADMIN (mount, namespaces: close to --privileged), NET_ADMIN (reconfigure
    interfaces, routes and firewall of its network namespace, or the host's with
    --network host), SYS_PTRACE (read and alter other processes' memory), SYS_MODULE (load
    kernel modules), SYS_RAWIO, DAC_READ_SEARCH (open any file by handle: a known escape),
    SYS_TIME, SYS_BOOT, MAC_ADMIN/MAC_OVERRIDE, BPF, PERFMON, and ALL.  A privileged container
    has them all anyway (see `privileged`).

How to confirm by hand
    docker inspect -f '{{.HostConfig.CapAdd}}' NAME

Fix
    Recreate it with only the capabilities the workload needs (often none, or
    NET_BIND_SERVICE); start from `--cap-drop ALL` and add back one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (dangerous_caps, inspect_evidence, q, check, ContainerEvidence, fact,
                          Finding, Remediation, Severity)


@check("D704", "dangerous-capabilities", severity=Severity.WARNING, requires=("inspect",))
def dangerous_capabilities(c: ContainerEvidence) -> Iterator[Finding]:
    """HostConfig.CapAdd entries from the dangerous set."""
    caps = dangerous_caps(c)
    if not caps:
        return
    yield Finding(
        title=f"added dangerous capabilities: {', '.join(caps)}",
        facts=(fact("HostConfig.CapAdd", ", ".join(str(x) for x in
                                                    c.host_config.get("CapAdd") or ())),
               fact("dangerous", ", ".join(caps))),
        evidence=(inspect_evidence(c, "/HostConfig/CapAdd"),),
        remediation=Remediation(
            "Recreate it with only the capabilities the workload needs: --cap-drop ALL, then "
            "--cap-add each one it proves to need.",
            (f"docker inspect -f '{{{{.HostConfig.CapAdd}}}}' {q(c.name)}",),
        ),
    )
