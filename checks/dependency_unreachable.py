"""D404: A service the application connects to refused or did not answer.

What went wrong
    A connection failed: refused (`Connection refused`, `ECONNREFUSED`, `[Errno 111]`, libpq
    `could not connect to server`, MySQL `Can't connect to MySQL server on 'db' (111)`), timed
    out (`Connection timed out`, `ETIMEDOUT`, Go `dial tcp 10.0.0.5:5432: i/o timeout`, busybox
    `nc: timed out`) or had no route (`No route to host`, `Network is unreachable`).
    When the target is `localhost`, `127.0.0.1` or `::1` (or a local Unix socket such as
    /var/run/postgresql/.s.PGSQL.5432), that is the classic mistake: inside a container
    localhost is the container itself, not the host and not the other containers, so a database
    running elsewhere is never there.  Otherwise the dependency is not listening (yet): it is
    starting, crashed, or listens on another port or only on its own 127.0.0.1.

How to confirm by hand
    docker logs NAME 2>&1 | grep -iE 'refused|timed out|unreachable'
    docker inspect -f '{{.HostConfig.NetworkMode}}' NAME
    docker run --rm --network NETWORK busybox nc -zv HOST PORT

Look-alikes told apart
    `dns-resolution-failure` (the name never resolved: nothing was connected to);
    `bind-to-localhost` (the server side: it listens on 127.0.0.1 only).

Fix
    Use the dependency's container or Compose service name (or `host.docker.internal` with
    `--add-host host.docker.internal:host-gateway` for a service on the host), never
    localhost; start it first and wait until it is ready (Compose `depends_on:
    condition: service_healthy` with a healthcheck, or retry with back-off); check the port.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (container_with_ip, continuation, Endpoint, endpoint_in, hits_evidence,
                          hits_facts, inspect_evidence, log_severity, LogLine, logs_command,
                          network_mode, q, scan_log, Cause, check, ContainerEvidence, fact, Finding,
                          Remediation, Severity)

SLUG = Cause.DEPENDENCY_UNREACHABLE


def failure_kind(text: str) -> str:
    """How the connection failed, as words that follow "connection to X"."""
    low = text.lower()
    if "timed out" in low or "timeout" in low or "etimedout" in low:
        return "timed out"
    if "unreachable" in low or "no route" in low:
        return "unreachable"
    if "socket" in low and ("no such file" in low or "(2)" in low):
        return "failed (no such socket)"
    return "refused"


@check("D404", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def dependency_unreachable(c: ContainerEvidence) -> Iterator[Finding]:
    """Refused/timed-out connections in the logs, localhost targets called out."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    targets: dict[str, tuple[Endpoint | None, str, LogLine]] = {}
    context: list[LogLine] = []
    quoted = set(hits.quoted())
    # A restart loop repeats the same lines: read each distinct message once.
    read: dict[tuple[str, ...], tuple[Endpoint | None, str]] = {}
    for ln in hits.lines:
        lines = continuation(c, ln)
        texts = tuple(x.text for x in lines)
        if texts not in read:
            read[texts] = (endpoint_in(lines), failure_kind(" ".join(texts)))
        ep, kind = read[texts]
        targets[str(ep) if ep else "?"] = (ep, kind, ln)
        if ln in quoted:
            context += lines[1:]
    mode = network_mode(c)
    latest_ep, latest_kind, _ = max(targets.values(), key=lambda t: (t[2].timestamp,
                                                                      t[2].number))
    local = [t for t in targets.values() if t[0] is not None and t[0].loopback]

    facts = [fact("targets", ", ".join(f"{k} ({v[1]})" for k, v in targets.items())[:300]),
             fact("HostConfig.NetworkMode", mode)]
    owner = None
    if latest_ep is not None and (latest_ep.ip or latest_ep.host):
        owner = container_with_ip(c, latest_ep.ip or latest_ep.host)
        if owner:
            facts.append(fact(f"{latest_ep.ip or latest_ep.host}", f"container {owner[0]} on "
                              f"network {owner[1]}"))
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits, extra=context)
    evidence.append(inspect_evidence(c, "/HostConfig/NetworkMode"))

    shown = str(latest_ep) if latest_ep else ""
    if local and mode == "host":
        title = (f"connection to {local[-1][0]} {local[-1][1]}: with --network host that is the "
                 "host itself, and nothing listens there")
    elif local and mode.startswith("container:"):
        title = (f"connection to {local[-1][0]} {local[-1][1]}: localhost is the network "
                 f"namespace of {mode.split(':', 1)[1][:12]}, and nothing listens there")
    elif local:
        title = (f"connection to {local[-1][0]} {local[-1][1]}: inside a container localhost "
                 "is the container itself, not the host or another container")
    elif owner:
        title = f"connection to {shown} ({owner[0]}) {latest_kind}: nothing listens there"
    elif latest_ep is not None:
        title = f"connection to {shown} {latest_kind}"
    else:
        title = f"a connection {latest_kind.replace('failed', 'failed:')} (the log names no target)"
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=_remedy(c, latest_ep, bool(local), mode, owner),
        severity=log_severity(c, hits),
    )


def _remedy(c: ContainerEvidence, ep: Endpoint | None, local: bool, mode: str,
            owner: tuple[str, str] | None) -> Remediation:
    port = ep.port if ep and ep.port else "PORT"
    net = "NETWORK" if mode in ("default", "host", "none") or mode.startswith("container:") \
        else mode
    if local and mode != "host":
        return Remediation(
            "Point the application at the dependency's container or Compose service name on a "
            "shared user-defined network (or at host.docker.internal for a service on the "
            "host), not at localhost; then make it wait until the dependency is ready.",
            (logs_command(c),
             f"docker inspect -f '{{{{json .Config.Env}}}}' {q(c.name)}",
             f"docker run --rm --network {q(net)} busybox nc -zv SERVICE {port}",
             f"docker run --add-host host.docker.internal:host-gateway "
             f"{q(c.image_ref or 'IMAGE')}"),
        )
    who = q(owner[0]) if owner else "SERVICE"
    host = q(ep.host) if ep else "HOST"
    return Remediation(
        "Make sure the dependency is running and listening on that port on an address other "
        "containers can reach (not only its own 127.0.0.1), and let this container wait for it "
        "(Compose depends_on with condition: service_healthy, or retries with back-off).",
        (logs_command(c), f"docker ps -a --filter name={who}", f"docker logs --tail 50 {who}",
         f"docker run --rm --network {q(net)} busybox nc -zv {host} {port}"),
    )
