"""D408: The server listens on 127.0.0.1 only, so its published port cannot reach it.

What went wrong
    The application says it listens on the loopback address (` * Running on
    http://127.0.0.1:5000`, `Uvicorn running on http://127.0.0.1:8000`, `Listening on
    127.0.0.1:3000`, Vite `Local: http://localhost:5173/`) while the container publishes ports.
    Published ports forward to the container's own network interface (eth0), never to its
    loopback, so clients on the host get `Connection reset by peer` or `Empty reply from
    server` even though the process is up and a health probe from inside passes.

How to confirm by hand
    docker logs NAME 2>&1 | grep -iE 'listening|running on'
    docker port NAME
    curl -v http://127.0.0.1:HOSTPORT/      # reset / empty reply while the app is up

Look-alikes told apart
    A server that also announces a non-loopback address for the port (`Running on all
    addresses (0.0.0.0)`, Flask's second `Running on http://172.17.0.2:5000`, Vite's
    `Network:` line) is reachable and not reported; `port-already-allocated` is a container
    that never started; `dependency-unreachable` is the client side.

Fix
    Bind to all interfaces inside the container: `flask run --host=0.0.0.0`, `uvicorn
    --host 0.0.0.0`, `vite --host`, `HOST=0.0.0.0`, or the server's listen address option.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from diagnose.api import (hits_evidence, hits_facts, inspect_evidence, latest_run_lines,
                          lazy_compile, log_severity, logs_command, network_mode, port_in,
                          published_ports, q, scan_log, Cause, check, ContainerEvidence, fact,
                          Finding, Remediation, Severity)

SLUG = Cause.BIND_TO_LOCALHOST

#: Announcements of a reachable address: all interfaces, or a concrete non-loopback IP.
_EXPOSED = lazy_compile(
    r"\b(?:listening|running|serving|started|bound|server|available)\b[^\n]{0,60}?"
    r"(?:0\.0\.0\.0|\[::\]|:::|all (?:addresses|interfaces)|"
    r"\b(?!127\.)(?:\d{1,3}\.){3}\d{1,3}:\d+)|\bNetwork:\s+https?://\d",
    re.IGNORECASE)


@check("D408", SLUG, severity=Severity.WARNING, requires=("inspect", "logs"))
def bind_to_localhost(c: ContainerEvidence) -> Iterator[Finding]:
    """A loopback-only listen announcement in a running container that publishes ports."""
    if c.status not in ("running", "paused") or network_mode(c) == "host":
        return
    published = published_ports(c)
    if not published and not c.host_config.get("PublishAllPorts"):
        return
    run = latest_run_lines(c)
    hits = scan_log(c, SLUG, run)
    if hits is None:
        return
    exposed_ports = {port_in(ln.text) or "*" for ln in run if _EXPOSED.search(ln.text)}
    cports = {k.split("/")[0] for k in published}
    local_ports = {port_in(ln.text) for ln in hits.lines}
    loopback_only = {p for p in local_ports
                     if p not in exposed_ports and "*" not in exposed_ports
                     and (not p or not cports or p in cports)}
    if not loopback_only:
        return
    shown = sorted(loopback_only, key=lambda p: (not p, p))[0]
    bindings = published.get(f"{shown}/tcp") or [b for bs in published.values() for b in bs]
    facts = [fact("listens on", f"loopback port {shown}" if shown else "loopback"),
             fact("published ports", "; ".join(f"{k} -> {', '.join(v)}"
                                               for k, v in published.items()) or "all (-P)")]
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits)
    evidence.append(inspect_evidence(c, "/HostConfig/PortBindings"))
    where = f"127.0.0.1:{shown}" if shown else "127.0.0.1"
    yield Finding(
        title=(f"listens on {where} only: the published port"
               f"{' ' + bindings[0] if bindings else ''} forwards to eth0 and cannot reach it"),
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Make the server listen on 0.0.0.0 (all interfaces) inside the container; the "
            "port mapping itself is fine.",
            tuple(dict.fromkeys((
                logs_command(c), f"docker port {q(c.name)}",
                f"curl -sv http://{bindings[0].replace('0.0.0.0', '127.0.0.1')}/"
                if bindings and "(random)" not in bindings[0] else f"docker port {q(c.name)}",
                "flask run --host=0.0.0.0   # or: uvicorn --host 0.0.0.0, vite --host"))),
        ),
        severity=log_severity(c, hits),
    )
