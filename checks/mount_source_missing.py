"""D110: A bind mount's source path does not exist on the engine host.

What went wrong
    The container bind-mounts a host path (`--mount type=bind,src=/srv/data,...`, compose
    long syntax) that is gone: deleted, renamed, on a disk that is not mounted, or never
    created on this host.  `--mount` refuses to create it, so every start fails:

        invalid mount config for type "bind": bind source path does not exist: /srv/data
        error while creating mount source path '/srv/data': mkdir /srv/data: read-only file
        system                                                  (`-v` with an unwritable parent)
        Mounts denied: The path /x is not shared from the host ...        (Docker Desktop)

    Docker 20.10 returns the first error to whoever ran `docker start` but does NOT record
    it in State.Error: the container just stays `created` (or `exited`) as if nobody had
    tried.  The evidence is the host check in mounts.json (`source_exists: false`, local
    engines) and the engine's archive endpoint, which mounts every source to serve a copy and
    answers 404 even for `/` (entrypoint.json: `filesystem.readable: false`).
    (`-v /srv/data:/data` instead creates a missing source as an empty directory, so that
    form starts, with an empty mount.)

How to confirm by hand
    docker inspect -f '{{json .HostConfig.Mounts}}' NAME
    ls -ld /srv/data                      # on the engine host
    docker start NAME                     # prints the error

Look-alikes told apart
    `created-not-started` (nothing stops a start: no error, every source exists),
    `bind-mount-type-mismatch` (the source exists but is a directory where the target is a
    file, or the reverse).

Fix
    Restore or create the source path on the engine host (right type: directory or file),
    or recreate the container with the correct path.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (entrypoint_evidence, excerpt, lazy_compile, missing_bind_mounts,
                          override_commands, q, start_blocked_by_mount, start_evidence,
                          start_failure, state_facts, Cause, check, ContainerEvidence, Evidence,
                          fact, Finding, layout, Remediation, Severity)

SLUG = Cause.MOUNT_SOURCE_MISSING
_SOURCE = lazy_compile(r"bind source path does not exist: (?P<a>\S+)|"
                       r"mount source path '(?P<b>[^']+)'|The path (?P<c>\S+) is not shared")


def source_in(error: str) -> str:
    """The host path a mount error names ('' when none)."""
    m = _SOURCE.search(error)
    return (m.group("a") or m.group("b") or m.group("c") or "") if m else ""


@check("D110", SLUG, severity=Severity.CRITICAL, requires=("inspect",))
def mount_source_missing(c: ContainerEvidence) -> Iterator[Finding]:
    """A missing bind source: State.Error says so, or the host check and archive do."""
    sf = start_failure(c)
    recorded = sf is not None and sf.category == SLUG
    blocked = start_blocked_by_mount(c)
    running_missing = [] if blocked else missing_bind_mounts(c)
    if not (recorded or blocked or running_missing):
        return
    facts = state_facts(c, sf if recorded else None)
    evidence = start_evidence(c) if recorded else [
        Evidence(file=c.path(layout.INSPECT), pointer="/State/Error",
                 excerpt=str(c.state.get("Error") or "(empty)"))]
    missing = blocked or running_missing
    for m in missing:
        how = "checked on the engine host" if m.checked else \
            "inferred: the engine cannot open the container's filesystem"
        facts.append(fact("missing source", f"{m.source} -> {m.destination} ({how})"))
        evidence.append(Evidence(file=c.path(layout.MOUNTS), pointer=f"/{m.index}",
                                 excerpt=excerpt(c.mounts[m.index], ascii_only=False)))
    if not recorded and blocked:
        facts.append(fact("State.Error", "(empty: Docker returns this start error to the "
                          "caller without recording it)"))
    if c.entrypoint.readable is False:
        why = c.entrypoint.filesystem_error
        facts.append(fact("archive endpoint",
                          why if why is not None else "cannot open the filesystem"))
        evidence.append(entrypoint_evidence(c, "/filesystem"))
    sources = [m.source for m in missing]
    if not sources and sf is not None and source_in(sf.error):
        sources = [source_in(sf.error)]
    if running_missing:
        title = (f"bind source {sources[0]} is gone: the container still runs, but its next "
                 "start will fail")
        severity = Severity.WARNING
    else:
        where = sources[0] if sources else "a bind source"
        title = f"bind mount source {where} does not exist: the container cannot start"
        severity = Severity.CRITICAL
    commands = [f"ls -ld {q(s)}" for s in sources[:3]]
    commands.append(f"docker inspect -f '{{{{json .HostConfig.Mounts}}}}' {q(c.name)}")
    commands += [f"mkdir -p {q(s)} && docker start {q(c.name)}   # if it should be a directory"
                 for s in sources[:1]]
    commands += override_commands(c, with_mounts=False)
    yield Finding(
        title=title,
        severity=severity,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Restore the source path on the engine host (same type: directory or file; "
            "restore its data if it had any), or recreate the container with the right path.",
            tuple(commands),
        ),
    )
