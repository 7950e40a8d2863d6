"""D603: The engine's data root is running out of disk space (or inodes).

What went wrong
    Everything the engine stores (image layers, containers' writable layers, volumes, build
    cache, json-file logs) lives under its data root (`docker info`: Docker Root Dir, usually
    /var/lib/docker).  When that filesystem fills up, pulls and builds fail, containers die
    with "no space left on device", and json-file logs stop.  Inodes can run out first, with
    free bytes to spare.  The free space is measured on this host with psutil (statvfs), so
    only when the engine is local (a unix socket); remote engines are not measured.

    Thresholds: a warning below 10% free or below 5 GiB free; an error below 5% free (then
    builds and writes are failing or about to).  On filesystems with at least 50 GiB free it
    stays a warning whatever the share.  Inodes: a warning below 10% free, an error below 5%.

How to confirm by hand
    df -h "$(docker info -f '{{.DockerRootDir}}')"; df -i "$(docker info -f '{{.DockerRootDir}}')"
    docker system df

Look-alikes told apart
    The cleanup checks (`dangling-images`, `exited-containers-piling-up`, `dangling-volumes`,
    `build-cache-large`) say what can be reclaimed; this one says the disk is short.  When both
    fire, the cleanup findings are raised to warnings.

Fix
    Reclaim what the cleanup findings list (each shows the exact commands), find large logs
    (`du -sh DATA_ROOT/containers/*/*-json.log`) and cap them (`--log-opt max-size`), or grow
    the filesystem / move the data root (`data-root` in daemon.json).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (data_root, df_summary, DISK_ERROR_SHARE, DISK_WARNING_BYTES,
                          DISK_WARNING_SHARE, engine_evidence, free_share, GiB, human_bytes, q,
                          check, fact, Finding, layout, Remediation, Severity, Snapshot)

#: This much free space is never an emergency, whatever its share of a huge disk.
PLENTY_BYTES = 50 * GiB


def _severity(share: float, free: int) -> Severity | None:
    if share < DISK_ERROR_SHARE and free < PLENTY_BYTES:
        return Severity.ERROR
    if share < DISK_WARNING_SHARE or free < DISK_WARNING_BYTES:
        return Severity.WARNING
    return None


def _inode_severity(total: int, free: int) -> Severity | None:
    if total <= 0:
        return None
    share = free / total
    if share < DISK_ERROR_SHARE:
        return Severity.ERROR
    if share < DISK_WARNING_SHARE:
        return Severity.WARNING
    return None


@check("D603", "engine-disk-low", severity=Severity.WARNING, requires=("host",), scope="run")
def engine_disk_low(snap: Snapshot) -> Iterator[Finding]:
    """Free bytes and inodes on the data root's filesystem against the thresholds."""
    root = data_root(snap.host)
    if root is None:
        return
    path = str(root.get("path", ""))
    free, total = int(root.get("free") or 0), int(root.get("total") or 0)
    share = free_share(root)
    by_bytes = _severity(share, free)
    inodes_total = int(root.get("inodes_total") or 0)
    inodes_free = int(root.get("inodes_free") or 0)
    by_inodes = _inode_severity(inodes_total, inodes_free)
    found = [s for s in (by_bytes, by_inodes) if s is not None]
    if not found:
        return
    facts = [
        fact("data root", path),
        fact("free", f"{human_bytes(free)} of {human_bytes(total)} ({share * 100:.1f}%)"),
        fact("thresholds", f"warning below {DISK_WARNING_SHARE:.0%} or "
             f"{human_bytes(DISK_WARNING_BYTES)} free, error below {DISK_ERROR_SHARE:.0%}"),
    ]
    if inodes_total:
        facts.append(fact("inodes free", f"{inodes_free} of {inodes_total} "
                          f"({inodes_free / inodes_total * 100:.1f}%)"))
    for kind, (count, size, reclaimable) in df_summary(snap.engine.df).items():
        if snap.engine.df:
            facts.append(fact(f"{kind} (docker system df)", f"{count}, {human_bytes(size)}, "
                              f"{human_bytes(reclaimable)} reclaimable"))
    ev = [engine_evidence(layout.HOST_FACTS, "/data_root/free", str(free)),
          engine_evidence(layout.HOST_FACTS, "/data_root/total", str(total))]
    if by_inodes is not None:
        ev.append(engine_evidence(layout.HOST_FACTS, "/data_root/inodes_free", str(inodes_free)))
    what = (f"only {share * 100:.1f}% ({human_bytes(free)}) free" if by_bytes is not None
            else f"only {inodes_free / inodes_total * 100:.1f}% of inodes free")
    yield Finding(
        title=f"{what} on the engine's data root {path}",
        facts=tuple(facts),
        evidence=tuple(ev),
        remediation=Remediation(
            "Reclaim space with the cleanup findings' commands (dangling images, exited "
            "containers, dangling volumes, build cache), cap container logs, or grow the "
            "filesystem.",
            (f"df -h {q(path)}", f"df -i {q(path)}", "docker system df -v",
             f"du -sh {q(path)}/containers/*/*-json.log | sort -h | tail"),
        ),
        severity=max(found),
        target="engine",
    )
