"""D701: The container runs privileged.

What went wrong
    `--privileged` (Compose `privileged: true`) gives the container every capability, every
    host device, no seccomp or AppArmor profile and a writable /sys: root inside is root on
    the host (it can mount the host's disks, load kernel modules, escape trivially).  It is
    almost never needed: a device (`--device`) or one capability (`--cap-add`) usually is.

How to confirm by hand
    docker inspect -f '{{.HostConfig.Privileged}}' NAME

Fix
    Recreate the container without `--privileged`, adding only the device or capability the
    workload needs.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (inspect_evidence, is_privileged, q, check, ContainerEvidence, fact,
                          Finding, Remediation, Severity)


@check("D701", "privileged", severity=Severity.WARNING, requires=("inspect",))
def privileged(c: ContainerEvidence) -> Iterator[Finding]:
    """HostConfig.Privileged."""
    if not is_privileged(c):
        return
    yield Finding(
        title="runs --privileged: root in the container is root on the host",
        facts=(fact("HostConfig.Privileged", True), fact("image", c.image_ref)),
        evidence=(inspect_evidence(c, "/HostConfig/Privileged"),),
        remediation=Remediation(
            "Recreate it without --privileged; grant only the device (--device) or capability "
            "(--cap-add) the workload needs.",
            (f"docker inspect -f '{{{{.HostConfig.Privileged}}}}' {q(c.name)}",),
        ),
    )
