"""D405: The application could not listen: its address is already in use.

What went wrong
    The application's own bind(2) failed with EADDRINUSE: `bind: Address already in use`,
    Node `listen EADDRINUSE: address already in use :::3000`, Python `OSError: [Errno 98]
    Address already in use`, nginx `bind() to 0.0.0.0:80 failed (98: Address already in use)`,
    Java `java.net.BindException`, gunicorn `Connection in use: ('0.0.0.0', 8000)`.  Another
    process in the same network namespace holds the port: a second server started by the
    entrypoint script (or a leftover from a previous start in the same container), a sidecar
    sharing the namespace (`--network container:X`, Kubernetes-style pods), or, with
    `--network host`, any process on the host.

How to confirm by hand
    docker logs NAME 2>&1 | grep -iE 'address already in use|EADDRINUSE'
    docker top NAME                                   # two servers in one container?
    docker inspect -f '{{.HostConfig.NetworkMode}}' NAME
    docker exec NAME netstat -ltnp                    # who holds the port (if netstat exists)

Look-alikes told apart
    `port-already-allocated` is the engine failing to publish a *host* port (`Bind for
    0.0.0.0:8080 failed: port is already allocated`, `Error starting userland proxy`): it is in
    State.Error, the process never ran, and this check never reads it (engine messages relayed
    in the logs are ignored too).

Fix
    Run one server per port in the container (check the entrypoint for a second start); with a
    shared namespace (`--network container:X` or `--network host`) choose a port nothing else
    there uses, or stop the other holder.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (hits_evidence, hits_facts, inspect_evidence, log_severity, logs_command,
                          network_mode, port_in, q, scan_log, Cause, check, ContainerEvidence, fact,
                          Finding, Remediation, Severity)

SLUG = Cause.ADDRESS_IN_USE


@check("D405", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def address_in_use(c: ContainerEvidence) -> Iterator[Finding]:
    """EADDRINUSE from the application itself (never the engine's port publishing)."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    ports = list(dict.fromkeys(p for ln in hits.lines if (p := port_in(ln.text))))
    mode = network_mode(c)
    procs = [" ".join(map(str, p[-1:])) for p in (c.top.get("Processes") or ())]

    facts = []
    if ports:
        facts.append(fact("ports", ", ".join(ports)))
    facts.append(fact("HostConfig.NetworkMode", mode))
    if procs:
        facts.append(fact("processes in the container", f"{len(procs)}: "
                          + "; ".join(procs[:6])[:300]))
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits)
    evidence.append(inspect_evidence(c, "/HostConfig/NetworkMode"))

    port = f"port {ports[-1]}" if ports else "its port"
    if mode == "host":
        holder = "a process on the host holds it (--network host shares the host's ports)"
    elif mode.startswith("container:"):
        holder = (f"it shares the network namespace of {mode.split(':', 1)[1][:12]}, "
                  "where something else holds it")
    else:
        holder = "another process in the same container (network namespace) holds it"
    yield Finding(
        title=f"could not listen on {port}: {holder}",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=_remedy(c, ports, mode),
        severity=log_severity(c, hits),
    )


def _remedy(c: ContainerEvidence, ports: list[str], mode: str) -> Remediation:
    name = q(c.name)
    port = ports[-1] if ports else "PORT"
    cmds = [logs_command(c)]
    if mode == "host":
        cmds += [f"ss -ltnp 'sport = :{port}'", "docker ps --filter network=host"]
        summary = ("With --network host the container competes with every host process for "
                   "ports: stop the other holder or configure another port.")
    elif mode.startswith("container:"):
        other = mode.split(":", 1)[1]
        cmds += [f"docker top {q(other)}", f"docker logs --tail 20 {q(other)}"]
        summary = ("Containers sharing one network namespace share its ports: give each "
                   "server its own port.")
    else:
        cmds += [f"docker top {name}", f"docker exec {name} netstat -ltnp",
                 f"docker inspect -f '{{{{json .Config.Entrypoint}}}} {{{{json .Config.Cmd}}}}' "
                 f"{name}"]
        summary = ("Two servers in one container want the same port: check the entrypoint "
                   "and command for a second start (or a supervisor starting the same program "
                   "twice) and give each its own port.")
    return Remediation(summary, tuple(cmds))
