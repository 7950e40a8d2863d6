"""D402: A write failed because the filesystem is full (No space left on device).

What went wrong
    A write or create failed with ENOSPC (`No space left on device`, `[Errno 28]`, MySQL
    `Disk is full writing ...`).  Where the path lives decides what is full:
    a size-limited tmpfs (`--tmpfs /data:size=64k`), a volume or bind mount (its host
    filesystem), or the container's writable layer, which lives on the engine's data root
    (`docker info` Docker Root Dir) together with every image, layer and json-file log on the
    host.

How to confirm by hand
    docker logs NAME 2>&1 | grep -i 'no space left'
    docker inspect -f '{{json .HostConfig.Tmpfs}} {{.HostConfig.ShmSize}} {{json .Mounts}}' NAME
    docker exec NAME df -h PATH; docker exec NAME df -i PATH   # running: bytes and inodes
    docker system df; df -h /var/lib/docker                     # the engine's data root

Look-alikes told apart
    `bus-error-shm-exhausted`: a path under /dev/shm or a POSIX shared memory segment
    (PostgreSQL's `/PostgreSQL.N`, PyTorch's `/torch_...`) is shared memory, not a disk; inode
    exhaustion prints the same text (compare `df -i`); the engine failing to *create* a
    container on a full disk lands in State.Error (a start failure), not in the logs.

Fix
    tmpfs: give it a bigger `size=`; volume or bind mount: free or grow the host
    filesystem; writable layer or data root: `docker system df`, remove unused images and
    containers, rotate json-file logs (`--log-opt max-size=10m --log-opt max-file=3`), move
    data to a volume.  No prune command is suggested (`docker container prune` would also
    delete the stopped container being diagnosed, and everyone else's): `diagnose engine`
    lists exactly what cleanup would reclaim, with the commands for those objects.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (hits_evidence, hits_facts, inspect_evidence, log_severity, logs_command,
                          mount_for, MountHit, paths_in, q, scan_log, Cause, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)

SLUG = Cause.NO_SPACE_LEFT


@check("D402", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def no_space_left(c: ContainerEvidence) -> Iterator[Finding]:
    """ENOSPC in the logs, located on its mount (tmpfs, /dev/shm, volume, writable layer)."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    paths = list(dict.fromkeys(p for ln in hits.lines for p in paths_in(ln.text)))
    where = {p: mount_for(c, p) for p in paths}
    facts = [fact(f"path {p}", m.describe()) for p, m in list(where.items())[:5]]
    root = str(c.engine.info.get("DockerRootDir") or "")
    if root:
        facts.append(fact("engine data root", root))
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits)
    for m in {m.pointer: m for m in where.values() if m.pointer}.values():
        evidence.append(inspect_evidence(c, m.pointer))

    full = where[paths[0]] if paths else None
    if full is None:
        title = "writes fail with `No space left on device`"
    elif full.kind == "shm":
        title = f"shared memory /dev/shm is full ({full.options})"
    elif full.kind == "tmpfs":
        title = f"the tmpfs at {full.destination} is full ({full.options or 'no size set'})"
    elif full.kind in ("volume", "bind"):
        title = f"the filesystem behind {full.describe()} is full"
    else:
        title = (f"writing {paths[0]} fails with `No space left on device`: the writable layer "
                 f"is on the engine's data root{f' ({root})' if root else ''}, which is full")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=_remedy(c, full, root),
        severity=log_severity(c, hits),
    )


def _remedy(c: ContainerEvidence, full: MountHit | None, root: str) -> Remediation:
    name = q(c.name)
    image = q(c.image_ref or "IMAGE")
    running = c.status == "running"
    if full is not None and full.kind == "shm":
        return Remediation(
            "Give the container more shared memory (or share the host's IPC namespace); "
            "Chromium can be told `--disable-dev-shm-usage` instead.",
            (f"docker run --shm-size 1g {image}", logs_command(c)),
        )
    if full is not None and full.kind == "tmpfs":
        return Remediation(
            f"The tmpfs at {full.destination} has a size cap; raise it (tmpfs uses memory and "
            "counts against the container's memory limit) or write bulk data to a volume.",
            (f"docker run --tmpfs {q(full.destination)}:size=256m {image}",)
            + ((f"docker exec {name} df -h {q(full.destination)}",) if running else ()),
        )
    target = full.source if full is not None and full.kind == "bind" else (root or
                                                                            "/var/lib/docker")
    cmds = [f"df -h {q(target)}", f"df -i {q(target)}", "docker system df"]
    if running and full is not None:
        cmds.append(f"docker exec {name} df -h {q(full.destination)}")
    # Never a prune: it would delete this (stopped) container too, and other people's.
    cmds += ["diagnose engine"] if full is None or full.kind in ("rootfs", "volume") else []
    return Remediation(
        "Free or grow the filesystem that is full (bytes, or inodes: check both); on the "
        "engine's data root remove unused images and stopped containers (`diagnose engine` "
        "lists exactly which, with the commands) and cap json-file logs with --log-opt "
        "max-size.",
        tuple(cmds),
    )
