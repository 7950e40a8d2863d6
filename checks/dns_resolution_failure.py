"""D403: A host name the application needs does not resolve.

What went wrong
    The application looked a name up and got no address: glibc `Temporary failure in name
    resolution` / `Name or service not known`, nginx `host not found in upstream "app:9000"`,
    Go `lookup db on 127.0.0.11:53: no such host`, Node `getaddrinfo ENOTFOUND db`, Java
    `UnknownHostException`, busybox `bad address 'db'` and nslookup `server can't find db:
    NXDOMAIN`.  Inside Docker the usual reasons: the name is another container's or Compose
    service's, but the two do not share a user-defined network (on the default `bridge` network
    containers cannot resolve each other's names at all); the name is misspelt or the service
    is not running (names of stopped containers are removed from the embedded DNS server,
    127.0.0.11); `--network none`; or, for external names, the host's resolvers are unreachable.

How to confirm by hand
    docker inspect -f '{{.HostConfig.NetworkMode}} {{json .NetworkSettings.Networks}}' NAME
    docker network inspect NETWORK -f '{{range .Containers}}{{.Name}} {{end}}'
    docker run --rm --network NETWORK busybox nslookup NAME

Look-alikes told apart
    `dependency-unreachable` (the name resolves, but the connection is refused or times out);
    `network-not-found` (the network itself is gone: a start failure in State.Error).

Fix
    Attach both containers to the same user-defined network and use the container name, the
    Compose service name or a `--network-alias`; start the dependency first (Compose
    `depends_on` with a health condition); for nginx upstreams that may be absent at start use
    `resolver 127.0.0.11` with a variable in `proxy_pass`; for external names fix the host's DNS
    or set `--dns`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from diagnose.api import (hits_evidence, hits_facts, inspect_evidence, lazy_compile, log_severity,
                          logs_command, network_members, network_mode, network_others, q,
                          scan_log, Cause, check, ContainerEvidence, fact, Finding, Remediation,
                          Severity)

SLUG = Cause.DNS_RESOLUTION_FAILURE

_NAME = lazy_compile(
    r"(?:upstream|lookup|ENOTFOUND|EAI_AGAIN|bad address|can't find|resolve host:?|"
    r"resolve hostname:?|UnknownHostException:|server host|host name|resolving|unknown host)"
    r"\s+['\"]?(?P<name>[A-Za-z0-9][\w.-]*)", re.IGNORECASE)


def names_in(text: str) -> list[str]:
    """Host names a resolution error names (port suffixes stripped)."""
    return [m.group("name").split(":")[0].rstrip(".") for m in _NAME.finditer(text)]


@check("D403", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def dns_resolution_failure(c: ContainerEvidence) -> Iterator[Finding]:
    """Name-resolution errors in the logs, joined with the container's networks."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    names = list(dict.fromkeys(n for ln in hits.lines for n in names_in(ln.text)))
    mode = network_mode(c)
    members = network_members(c)
    unnamed = network_others(c)
    attached = sorted((c.inspect.get("NetworkSettings") or {}).get("Networks") or {})
    dns = c.host_config.get("Dns") or []

    facts = []
    if names:
        facts.append(fact("names that failed", ", ".join(names[:6])))
    facts.append(fact("HostConfig.NetworkMode", mode))
    facts.append(fact("networks", ", ".join(attached) or "(none)"))
    if dns:
        facts.append(fact("HostConfig.Dns", ", ".join(map(str, dns))))
    default_bridge = mode in ("default", "bridge") or attached == ["bridge"]
    user_nets = [n for n in attached if n not in ("bridge", "host", "none")]
    for net in user_nets[:3]:
        others = [m for m in members.get(net, []) if m != c.name][:10]
        if unnamed.get(net):  # not targets of this run: counted, never named in the bundle
            others.append(f"{unnamed[net]} not diagnosed here (`docker network inspect {q(net)}`)")
        facts.append(fact(f"containers on {net}", ", ".join(others) or "(none but this one)"))
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits)
    evidence.append(inspect_evidence(c, "/HostConfig/NetworkMode"))
    if attached:
        evidence.append(inspect_evidence(c, "/NetworkSettings/Networks", attached))

    shown = names[0] if names else ""
    if mode == "none":
        why = ": the container has no network (--network none)"
    elif shown and _is_external(shown):
        why = " (an external name: the resolvers the engine passes on could not find it)"
    elif default_bridge and not user_nets:
        why = (": it runs on the default bridge network, where containers cannot resolve each "
               "other's names")
    elif user_nets and shown:
        why = (f": no running container or alias named {shown} on {', '.join(user_nets)} "
               "(the embedded DNS server, 127.0.0.11)")
    else:
        why = ""
    yield Finding(
        title=(f"`{shown}` does not resolve{why}" if shown else f"name resolution fails{why}"),
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=_remedy(c, shown, user_nets, default_bridge, mode),
        severity=log_severity(c, hits),
    )


def _is_external(name: str) -> bool:
    """Fully qualified names are looked up upstream; bare names are container/service names."""
    return "." in name


def _remedy(c: ContainerEvidence, name: str, user_nets: list[str], default_bridge: bool,
            mode: str) -> Remediation:
    me = q(c.name)
    target = q(name) if name else "NAME"
    net = q(user_nets[0]) if user_nets else "NETWORK"
    cmds = [logs_command(c)]
    if name and not _is_external(name):
        cmds += [f"docker ps -a --filter name={target}",
                 f"docker network inspect {net} -f '{{{{range .Containers}}}}{{{{.Name}}}} "
                 "{{end}}'"]
        if default_bridge and not user_nets:
            cmds += ["docker network create appnet", f"docker network connect appnet {me}",
                     f"docker network connect appnet {target}"]
        else:
            cmds.append(f"docker network connect {net} {target}")
        summary = (f"Make `{name}` a container (or Compose service, or --network-alias) on a "
                   "user-defined network this container shares, and make sure it is running; "
                   "names resolve only on shared user-defined networks.")
    else:
        cmds += [f"docker run --rm --network {q(mode) if mode != 'default' else 'bridge'} "
                 f"{q(c.image_ref or 'busybox')} nslookup {target}",
                 "cat /etc/resolv.conf"]
        summary = ("Check the host's resolvers (the engine passes them to containers) or set "
                   "--dns / the daemon's `dns` option; with --network none nothing resolves.")
    return Remediation(summary, tuple(cmds))
