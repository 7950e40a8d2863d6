"""D702: The engine's socket is mounted into the container.

What went wrong
    A bind mount of /var/run/docker.sock (or another runtime socket: containerd, podman,
    cri-o, or the /run directory that holds it) lets the container drive the engine: start a
    privileged container with the host's / mounted, and so own the host.  Mounting it
    read-only changes nothing (`:ro` does not stop API calls over a socket).  CI runners and
    monitoring agents do this on purpose; anything else should not.

How to confirm by hand
    docker inspect -f '{{range .Mounts}}{{.Source}} -> {{.Destination}}{{println}}{{end}}' NAME

Fix
    Remove the mount.  A tool that only reads (monitoring) can go through a filtering socket
    proxy that allows GET requests only; a CI runner can use rootless Docker or a separate VM.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (inspect_evidence, q, socket_mounts, check, ContainerEvidence, fact,
                          Finding, Remediation, Severity)


@check("D702", "docker-socket-mounted", severity=Severity.WARNING, requires=("inspect",))
def docker_socket_mounted(c: ContainerEvidence) -> Iterator[Finding]:
    """Bind mounts of engine sockets (or the directories holding them)."""
    found = socket_mounts(c)
    if not found:
        return
    pairs = [f"{m.get('Source')} -> {m.get('Destination')}"
             + ("" if m.get("RW", True) else " (ro: no protection for a socket)")
             for _, m in found]
    yield Finding(
        title=f"the engine socket is mounted into the container ({pairs[0]}): it controls the "
              "host",
        facts=tuple(fact(f"mount {n + 1}", p) for n, p in enumerate(pairs)),
        evidence=tuple(inspect_evidence(c, f"/Mounts/{i}") for i, _ in found),
        remediation=Remediation(
            "Remove the socket mount; give read-only tools a filtering socket proxy instead.",
            ("docker inspect -f '{{range .Mounts}}{{.Source}} -> {{.Destination}}{{println}}"
             f"{{{{end}}}}' {q(c.name)}",),
        ),
    )
