"""D710: An unofficial image runs on the default bridge network.

What went wrong
    Every container on the engine's default `bridge` network can reach every other one on it
    (any port, no name resolution needed), so a container you do not fully trust sits next
    to all the rest.  The source notes' advice: run untrustworthy containers on their own
    network (`docker network create -d bridge X`, `docker run --net X`), where they reach only
    what is attached to X.  "Unofficial" means what `image-not-official` reports: not a
    `docker.io/library/NAME` image pulled from Docker Hub.  This is information: the default
    bridge is where every `docker run` lands by default.

How to confirm by hand
    docker inspect -f '{{.HostConfig.NetworkMode}} {{.Config.Image}}' NAME
    docker network inspect -f '{{range .Containers}}{{.Name}} {{end}}' bridge

Fix
    Give it a user-defined network of its own and attach only what it must talk to.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (inspect_evidence, on_default_bridge, provenance, q, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)


@check("D710", "untrusted-on-default-bridge", severity=Severity.INFO, requires=("inspect",))
def untrusted_on_default_bridge(c: ContainerEvidence) -> Iterator[Finding]:
    """NetworkMode default/bridge and an image that is not official."""
    if not on_default_bridge(c) or provenance(c).official:
        return
    net = f"{c.name}-net"
    yield Finding(
        title=f"unofficial image {c.image_ref} runs on the default bridge, next to every other "
              "container there",
        facts=(fact("HostConfig.NetworkMode", str(c.host_config.get("NetworkMode") or "")),
               fact("image", c.image_ref)),
        evidence=(inspect_evidence(c, "/HostConfig/NetworkMode"),
                  inspect_evidence(c, "/Config/Image")),
        remediation=Remediation(
            "Run it on a user-defined network of its own and attach only what it needs.",
            (f"docker network create -d bridge {q(net)}",
             f"docker run --network {q(net)} ... {q(c.image_ref)}"),
        ),
    )
