"""D607: User-defined networks that no container uses are piling up on the engine.

What went wrong
    Networks take no disk, but every bridge network takes a subnet from the engine's address
    pools, and those run out: with the default pools (172.17-31.0.0/16 and 192.168.0.0/16 in
    /20s) an engine has room for 31 bridge networks, after which `docker network create` and
    `docker compose up` fail with "could not find an available, non-overlapping IPv4 address
    pool".  Compose creates one network per project and leaves it behind when the project is
    abandoned.  A network counts as unused when no container, running or stopped, is attached
    to it; the built-in networks (bridge, host, none), swarm-scoped networks and the ingress
    and docker_gwbridge networks are never counted.

    Thresholds: reported from 5 unused networks.  A warning when the engine's local bridge
    networks fill 80% of its address pools (25 of the default 31; the pools of
    `docker info` are used when it reports them), information otherwise.

How to confirm by hand
    docker network ls --filter type=custom
    docker network inspect -f '{{.Name}}: {{len .Containers}} attached' NETWORK

Fix
    Remove exactly the listed networks (`docker network rm NAME...`, shown, never run): the
    engine refuses to remove a network a running container uses.  `docker network prune`
    would also remove networks created after this bundle.

In a container run
    A bundle of `diagnose CONTAINER` (also `--filter`, `--project`, `diagnose service`) holds
    only the engine's totals: this finding then gives the count and how full the address
    pools are, names no network, and points to `diagnose engine`, which lists them with the
    commands.  `diagnose engine` and `diagnose --all` list every network.  An unused network
    has no container attached, so it is never one a target uses.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from diagnose.api import (batched_commands, engine_evidence, listing, totals_finding,
                          unused_networks as counted, check, fact, Finding, layout, Remediation,
                          Severity, Snapshot)

MIN_COUNT = 5
POOL_WARNING_SHARE = 0.8
DEFAULT_POOL_CAPACITY = 31


def pool_capacity(info: Mapping[str, Any]) -> int:
    """How many networks the engine's default address pools hold."""
    total = 0
    for pool in info.get("DefaultAddressPools") or ():
        try:
            base = ipaddress.ip_network(str(pool.get("Base")), strict=False)
            size = int(pool.get("Size"))
        except (ValueError, TypeError):
            continue
        if size >= base.prefixlen:
            total += 2 ** (size - base.prefixlen)
    return total or DEFAULT_POOL_CAPACITY


@check("D607", "unused-networks", severity=Severity.INFO,
       requires=("engine-networks", "engine-containers"), scope="run")
def unused_networks(snap: Snapshot) -> Iterator[Finding]:
    """User-defined networks attached to no container, and how full the address pools are."""
    u = counted(snap.engine)
    if u.count < MIN_COUNT:
        return
    bridges = u.of("local_bridges")
    capacity = pool_capacity(snap.engine.info)
    crowded = bridges >= POOL_WARNING_SHARE * capacity
    title = (f"{u.count} user-defined networks used by no container"
             + (f" ({bridges} bridge networks: the address pools are nearly full)"
                if crowded else ""))
    pools = fact("local bridge networks", f"{bridges} of about {capacity} the address pools "
                 f"hold (warning from {POOL_WARNING_SHARE:.0%})")
    threshold = fact("threshold", f"{MIN_COUNT} unused networks")
    severity = Severity.WARNING if crowded else Severity.INFO
    if u.totals_only:
        facts = [fact("unused networks", u.count), pools, threshold]
        yield totals_finding(layout.ENGINE_NETWORKS, u, title, facts, "networks", severity)
        return
    unused_names = [str(n.get("Name")) for _, n in u.listed]
    facts = [fact("unused networks", u.count), fact("networks", listing(unused_names)), pools,
             threshold]
    ev = tuple(engine_evidence(layout.ENGINE_NETWORKS, f"/networks/{i}",
                        f"{n.get('Name')} ({str(n.get('Id'))[:12]}) driver {n.get('Driver')} "
                        f"subnets {', '.join(n.get('Subnets') or ()) or '-'}")
               for i, n in u.listed[:10])
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=ev,
        remediation=Remediation(
            f"Remove exactly these {u.count} networks (no container, running or stopped, "
            "is attached to them); this frees their subnets.",
            tuple(batched_commands("docker network rm", unused_names))),
        severity=severity,
        target="engine",
    )
