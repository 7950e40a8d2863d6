"""D409: The application ran out of file descriptors (Too many open files).

What went wrong
    open(2), socket(2) or accept(2) failed with EMFILE: `Too many open files`, `[Errno 24]`,
    nginx `(24: Too many open files)`, Go `accept4: too many open files`, Node `EMFILE`.  The
    process reached its `nofile` limit: set low with `--ulimit nofile=...`, inherited from the
    engine's default, or the application leaks descriptors (sockets never closed) until any
    limit is reached.  `Too many open files in system` (ENFILE) is the host-wide `fs.file-max`
    instead.

How to confirm by hand
    docker inspect -f '{{json .HostConfig.Ulimits}}' NAME
    docker exec NAME sh -c 'ulimit -n; ls /proc/1/fd | wc -l'    # running: limit vs in use

Look-alikes told apart
    `fork-failed` (EAGAIN creating processes or threads: the pids or nproc limit, not files).

Fix
    Raise the limit (`--ulimit nofile=65536:65536`, Compose `ulimits: nofile:`; it cannot
    exceed the engine's own hard limit) and look for a descriptor leak when usage keeps growing;
    for ENFILE raise the host's `fs.file-max`.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (hits_evidence, hits_facts, inspect_evidence, log_severity, logs_command,
                          q, scan_log, ulimit, Cause, check, ContainerEvidence, fact, Finding,
                          Remediation, Severity)

SLUG = Cause.TOO_MANY_OPEN_FILES


def nofile_limit(c: ContainerEvidence) -> tuple[int, int] | None:
    """(soft, hard) nofile from HostConfig.Ulimits, when the container sets one."""
    u = ulimit(c, "nofile")
    return (int(u.get("Soft") or 0), int(u.get("Hard") or 0)) if u is not None else None


@check("D409", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def too_many_open_files(c: ContainerEvidence) -> Iterator[Finding]:
    """EMFILE/ENFILE in the logs, joined with the container's nofile ulimit."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    system_wide = any("in system" in ln.text.lower() or "enfile" in ln.text.lower()
                      for ln in hits.lines)
    limit = nofile_limit(c)
    facts = [fact("nofile ulimit", f"{limit[0]} soft, {limit[1]} hard (--ulimit)" if limit
                  else "not set: the engine's default applies")]
    if system_wide:
        facts.append(fact("scope", "host-wide file table (ENFILE, fs.file-max)"))
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits)
    evidence.append(inspect_evidence(c, "/HostConfig/Ulimits", c.host_config.get("Ulimits")
                                     or []))
    if system_wide:
        title = "the host's file table is full (Too many open files in system)"
    elif limit:
        title = f"out of file descriptors at its nofile limit of {limit[0]}"
    else:
        title = "out of file descriptors (Too many open files) at the engine's default limit"
    new = max(65536, (limit[1] if limit else 0))
    cmds = [logs_command(c), f"docker run --ulimit nofile={new}:{new} {q(c.image_ref or 'IMAGE')}"]
    if c.status == "running":
        cmds.insert(1, f"docker exec {q(c.name)} sh -c 'ulimit -n; ls /proc/1/fd | wc -l'")
    if system_wide:
        cmds.append("cat /proc/sys/fs/file-nr /proc/sys/fs/file-max")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Raise the container's nofile limit (recreate it with --ulimit) and check whether "
            "the number of open descriptors keeps growing (a leak).",
            tuple(cmds),
        ),
        severity=log_severity(c, hits),
    )
