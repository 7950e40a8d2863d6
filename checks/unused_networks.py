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
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from diagnose.api import (batched_commands, engine_evidence, listing, check, fact, Finding, layout,
                          Remediation, Severity, Snapshot)

MIN_COUNT = 5
POOL_WARNING_SHARE = 0.8
DEFAULT_POOL_CAPACITY = 31
_BUILTIN = frozenset({"bridge", "host", "none", "docker_gwbridge", "ingress"})


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


def candidate(net: Mapping[str, Any]) -> bool:
    """A local, user-defined network (one the cleanup may suggest removing)."""
    return (net.get("Scope") == "local" and net.get("Name") not in _BUILTIN
            and net.get("Driver") not in ("null", "host") and not net.get("Ingress")
            and not net.get("ConfigOnly"))


@check("D607", "unused-networks", severity=Severity.INFO,
       requires=("engine-networks", "engine-containers"), scope="run")
def unused_networks(snap: Snapshot) -> Iterator[Finding]:
    """User-defined networks attached to no container, and how full the address pools are."""
    nets = snap.engine.json(layout.ENGINE_NETWORKS) or {}
    used = (snap.engine.json(layout.ENGINE_CONTAINERS) or {}).get("networks_in_use") or {}
    ids, names = set(used.get("ids") or ()), set(used.get("names") or ())
    listed = list(nets.get("networks") or ())
    unused = [(i, n) for i, n in enumerate(listed)
              if candidate(n) and n.get("Id") not in ids and n.get("Name") not in names]
    if len(unused) < MIN_COUNT:
        return
    bridges = sum(1 for n in listed if n.get("Driver") == "bridge" and n.get("Scope") == "local")
    capacity = pool_capacity(snap.engine.info)
    crowded = bridges >= POOL_WARNING_SHARE * capacity
    unused_names = [str(n.get("Name")) for _, n in unused]
    facts = [
        fact("unused networks", len(unused)),
        fact("networks", listing(unused_names)),
        fact("local bridge networks", f"{bridges} of about {capacity} the address pools hold "
             f"(warning from {POOL_WARNING_SHARE:.0%})"),
        fact("threshold", f"{MIN_COUNT} unused networks"),
    ]
    ev = tuple(engine_evidence(layout.ENGINE_NETWORKS, f"/networks/{i}",
                        f"{n.get('Name')} ({str(n.get('Id'))[:12]}) driver {n.get('Driver')} "
                        f"subnets {', '.join(n.get('Subnets') or ()) or '-'}")
               for i, n in unused[:10])
    yield Finding(
        title=f"{len(unused)} user-defined networks used by no container"
              + (f" ({bridges} bridge networks: the address pools are nearly full)"
                 if crowded else ""),
        facts=tuple(facts),
        evidence=ev,
        remediation=Remediation(
            f"Remove exactly these {len(unused)} networks (no container, running or stopped, "
            "is attached to them); this frees their subnets.",
            tuple(batched_commands("docker network rm", unused_names))),
        severity=Severity.WARNING if crowded else Severity.INFO,
        target="engine",
    )
