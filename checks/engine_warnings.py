"""D602: `docker info` reports warnings about the engine or its host.

What went wrong
    The engine checks its host when it starts and lists what it found wrong in `docker info`
    (the `Warnings` field, printed at the end of `docker info`).  Some are security problems
    (the API is reachable over TCP without TLS: anyone who can connect is root on the host),
    some break networking (bridge-nf-call-iptables or IPv4 forwarding disabled: published
    ports and container-to-container traffic fail), some are deprecations (a storage driver
    or cgroup v1 going away).  Others only say the kernel cannot enforce a kind of limit
    ("No swap limit support"): those are information, every other warning is a warning.
    Each warning is quoted as the engine wrote it.

How to confirm by hand
    docker info --format '{{range .Warnings}}{{println .}}{{end}}'

Fix
    Per warning: enable TLS (`--tlsverify`) or listen on the unix socket only; set the
    sysctls (`net.bridge.bridge-nf-call-iptables=1`, `net.ipv4.ip_forward=1`); move to the
    overlay2 storage driver and cgroup v2; enable swap accounting (`swapaccount=1`) when swap
    limits matter.  Restart the engine afterwards (at a time of your choosing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from diagnose.api import (engine_evidence, lazy_compile, check, fact, Finding, layout, Remediation,
                          Severity, Snapshot)

#: Warnings that only say a limit cannot be enforced on this kernel.
_CAPABILITY_NOTE = lazy_compile(r"\bNo [\w ./-]+ support\b|cgroup v1 is deprecated", re.I)

#: Fix commands for the warnings that have one (shown, never run).
_FIXES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (lazy_compile(rx, re.I), cmd) for rx, cmd in (
        (r"bridge-nf-call-iptables", "sysctl -w net.bridge.bridge-nf-call-iptables=1"),
        (r"bridge-nf-call-ip6tables", "sysctl -w net.bridge.bridge-nf-call-ip6tables=1"),
        (r"IPv4 forwarding is disabled", "sysctl -w net.ipv4.ip_forward=1"),
        (r"without encryption", "grep -n tcp:// /etc/docker/daemon.json "
         "/lib/systemd/system/docker.service  # serve TLS (--tlsverify) or drop the tcp host"),
        (r"swap limit", "grep -o 'swapaccount=[01]' /proc/cmdline  # add swapaccount=1 to the "
         "kernel command line"),
    )
)


@check("D602", "engine-warnings", severity=Severity.WARNING, requires=("engine",), scope="run")
def engine_warnings(snap: Snapshot) -> Iterator[Finding]:
    """Every `docker info` warning, quoted."""
    warnings = [str(w).strip() for w in snap.engine.info.get("Warnings") or () if str(w).strip()]
    if not warnings:
        return
    notes = [w for w in warnings if _CAPABILITY_NOTE.search(w)]
    severity = Severity.INFO if len(notes) == len(warnings) else Severity.WARNING
    ev = tuple(engine_evidence(layout.ENGINE_INFO, f"/Warnings/{i}", w)
               for i, w in enumerate(snap.engine.info.get("Warnings") or ()) if str(w).strip())
    first_lines = [w.splitlines()[0].removeprefix("WARNING: ") for w in warnings]
    cmds = ["docker info --format '{{range .Warnings}}{{println .}}{{end}}'"]
    cmds += [cmd for rx, cmd in _FIXES if any(rx.search(w) for w in warnings)]
    yield Finding(
        title=f"docker info reports {len(warnings)} warning{'s' if len(warnings) != 1 else ''}: "
              + "; ".join(first_lines[:3]) + (" ..." if len(first_lines) > 3 else ""),
        facts=tuple(fact(f"warning {i + 1}", line) for i, line in enumerate(first_lines))
        + (fact("only capability notes", len(notes) == len(warnings)),),
        evidence=ev,
        remediation=Remediation(
            "Fix each warning on the engine host (the engine re-checks when it restarts; "
            "restart it only when that suits you).", tuple(cmds)),
        severity=severity,
        target="engine",
    )
