"""Who holds a host port that a container failed to publish.

Only for a target whose recorded start error is a port conflict: the containers that publish
that host port (what `docker ps --filter publish=PORT` shows; named when they are targets of
the run, else only counted) and, on a local engine, the host processes listening on it (what
`ss -ltnp` shows, via psutil; their names, never their command lines).  Read-only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import psutil

from diagnose.collect.record import Piece, Skip, dump_json
from diagnose.collect.scope import Scope
from diagnose.evidence import layout

_CONFLICT = re.compile(r"port is already allocated|address already in use|EADDRINUSE|"
                       r"failed to bind host port|Ports are not available", re.IGNORECASE)
_ADDR = re.compile(r"(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]*\]|::):(?P<port>\d+)")


def conflict_port(inspect: Mapping[str, Any]) -> int | None:
    """The host port named by a port-conflict start error, if that is the recorded error."""
    error = str((inspect.get("State") or {}).get("Error") or "")
    if not _CONFLICT.search(error):
        return None
    m = _ADDR.search(error)
    return int(m.group("port")) if m else None


def collect_port_holders(api: Any, inspect: Mapping[str, Any], local: bool,
                         scope: Scope | None = None) -> Piece:
    """Containers publishing the port and (local engine) host processes listening on it.

    A holder that is not in `scope` (not one of the run's targets) is only counted
    (`other_containers`): its name stays out of the bundle; `docker ps --filter publish=PORT`
    names it on the machine."""
    port = conflict_port(inspect)
    if port is None:
        raise Skip("no port conflict recorded in State.Error")
    me = str(inspect.get("Id") or "")
    scope = scope or Scope.of([inspect])
    holders = []
    others = 0
    for c in api.containers(all=True, filters={"publish": str(port)}):
        if c.get("Id") == me:
            continue
        if not scope.container(c.get("Id")):
            others += 1
            continue
        holders.append({"id": c.get("Id"), "names": [n.lstrip("/") for n in c.get("Names") or ()],
                        "state": c.get("State"), "status": c.get("Status"),
                        "ports": [p for p in c.get("Ports") or ()
                                  if p.get("PublicPort") == port]})
    out: dict[str, Any] = {"port": port, "containers": holders}
    if others:
        out["other_containers"] = others
    if local:
        out["host_listeners"] = _listeners(port)
    else:
        out["host_listeners"] = None
        out["host_note"] = "remote engine: host sockets not checked"
    return Piece({layout.PORTS: dump_json(out)},
                 detail={"port": port, "containers": len(holders) + others})


def _listeners(port: int) -> list[dict[str, Any]]:
    found = []
    try:
        conns = psutil.net_connections(kind="inet")
    except (psutil.AccessDenied, OSError) as exc:
        return [{"error": f"cannot list sockets: {exc}"}]
    for conn in conns:
        if conn.status != psutil.CONN_LISTEN or not conn.laddr or conn.laddr.port != port:
            continue
        item: dict[str, Any] = {"address": f"{conn.laddr.ip}:{conn.laddr.port}",
                                "pid": conn.pid}
        if conn.pid:
            try:
                proc = psutil.Process(conn.pid)
                # The name only: a command line may carry secrets.
                item["process"] = proc.name()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        found.append(item)
    return found
