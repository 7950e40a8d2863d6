"""D108: A published host port is already taken.

What went wrong
    `-p HOSTPORT:PORT` needs the host port to be free.  The engine failed to start the
    container (status `created`, exit code 128; `docker run` exits 125) because:

    - another container already publishes it (Docker's own port allocator):
          Bind for 0.0.0.0:8080 failed: port is already allocated
    - a host process (or a leaked docker-proxy) listens on it:
          Error starting userland proxy: listen tcp4 0.0.0.0:80: bind: address already in use
          failed to bind host port for 0.0.0.0:80:172.17.0.2:80/tcp: address already in use
                                                      (Docker 28; 28.1+ prefixes
                                                       "failed to set up container networking")
    - Docker Desktop on Windows: the port is in a reserved (excluded) range:
          Ports are not available: ... An attempt was made to access a socket in a way
          forbidden by its access permissions.

How to confirm by hand
    docker inspect -f '{{.State.Error}}' NAME
    docker ps --filter publish=8080          # a container holding it
    ss -ltnp 'sport = :8080'                 # a host process holding it
    ports.json in the bundle lists both, collected when the error was a port conflict.  A
    container holding the port is named there only when it is diagnosed in the same run;
    any other is only counted (its name stays out of the bundle: `docker ps` above names it).

Look-alikes told apart
    `address-in-use` (the application inside a *running* container cannot bind: a log line,
    not a start failure).

Fix
    Stop whatever holds the port, or publish on another host port (`-p 8081:80`).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (excerpt, failure_facts, failure_for, image_ref, inspect_evidence,
                          lazy_compile, override_commands, q, Cause, check, ContainerEvidence,
                          Evidence, fact, Finding, layout, Remediation, Severity)

SLUG = Cause.PORT_ALREADY_ALLOCATED
_ADDR = lazy_compile(r"(?P<ip>\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]*\]|::):(?P<port>\d+)")


def holder_of(error: str) -> str:
    """Who holds the port, from the wording of the error."""
    if "port is already allocated" in error:
        return "another container (Docker's own port allocator refused it)"
    if "forbidden by its access permissions" in error:
        return "a Windows reserved (excluded) port range, not a process"
    if "address already in use" in error or "EADDRINUSE" in error:
        return "a process on the host (or a leaked docker-proxy) listening on it"
    return "unknown"


def host_address(error: str) -> tuple[str, str]:
    """(host IP, host port) named by the error ('' when it names none)."""
    m = _ADDR.search(error)
    return (m.group("ip"), m.group("port")) if m else ("", "")


@check("D108", SLUG, severity=Severity.CRITICAL, requires=("inspect",))
def port_already_allocated(c: ContainerEvidence) -> Iterator[Finding]:
    """State.Error says a published host port is taken."""
    failure = failure_for(c, SLUG)
    if failure is None or failure[0] is None:
        return
    sf = failure[0]
    ip, port = host_address(sf.error)
    holder = holder_of(sf.error)
    facts, evidence = failure_facts(c, failure)
    facts += [fact("host port", f"{ip}:{port}" if port else "unknown"), fact("held by", holder)]
    bindings = c.host_config.get("PortBindings") or {}
    container_port = ""
    for cport, binds in bindings.items():
        if any(str((b or {}).get("HostPort")) == port for b in binds or ()):
            container_port = cport
            facts.append(fact("published as", f"{port} -> {cport}"))
            evidence.append(inspect_evidence(
                c, "/HostConfig/PortBindings/" + cport.replace("~", "~0").replace("/", "~1")))
            break
    holders = c.json(layout.PORTS) or {}
    for i, other in enumerate(holders.get("containers") or ()):
        names = ", ".join(other.get("names") or ()) or str(other.get("id", ""))[:12]
        facts.append(fact("held by container", f"{names} ({other.get('status')})"))
        evidence.append(Evidence(file=c.path(layout.PORTS), pointer=f"/containers/{i}",
                                 excerpt=excerpt(other, ascii_only=False)))
    others = holders.get("other_containers")
    if others:
        # Not a target of this run: counted only, its name stays out of the bundle.
        facts.append(fact("held by containers not diagnosed here",
                          f"{others} (`docker ps --filter publish={port or 'PORT'}` names them)"))
        evidence.append(Evidence(file=c.path(layout.PORTS), pointer="/other_containers",
                                 excerpt=excerpt(others, ascii_only=False)))
    for i, proc in enumerate(holders.get("host_listeners") or ()):
        if "pid" in proc:
            facts.append(fact("held by host process", f"{proc.get('process', '?')} pid "
                              f"{proc.get('pid')} listening on {proc.get('address')}"))
            evidence.append(Evidence(file=c.path(layout.PORTS), pointer=f"/host_listeners/{i}",
                                     excerpt=excerpt(proc, ascii_only=False)))
    commands = []
    if "container" in holder:
        commands.append(f"docker ps --filter publish={port or 'PORT'} "
                        "--format '{{.Names}} {{.Status}} {{.Ports}}'")
    if "process" in holder:
        commands.append(f"ss -ltnp 'sport = :{port or 'PORT'}'")
    if "Windows" in holder:
        commands.append("netsh interface ipv4 show excludedportrange protocol=tcp")
    commands.append(f"docker start {q(c.name)}   # once the port is free")
    commands += override_commands(c)
    target = container_port.split("/")[0] or "PORT"
    yield Finding(
        title=f"host port {port or '?'} is already in use, held by {holder.split(' (')[0]}",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Stop or move whatever holds the port and start this container again, or recreate "
            f"it publishing another host port (`-p OTHERPORT:{target}` with {image_ref(c)}).",
            tuple(commands),
        ),
    )
