"""D401: The application tried to write to a read-only filesystem.

What went wrong
    A write failed with EROFS (errno 30, `Read-only file system`): the container was started
    with `--read-only` (HostConfig.ReadonlyRootfs) and the application writes outside its
    tmpfs and volumes (a cache, a pid file, /tmp), or the path is on a mount declared read-only
    (`-v src:dst:ro`, `--mount ...,readonly`).  Typical lines:
    `nginx: [emerg] mkdir() "/var/cache/nginx/client_temp" failed (30: Read-only file system)`,
    `sed: can't create temp file '/etc/nginx/conf.d/default.confXXXXXX': Read-only file system`,
    `sh: can't create /x: Read-only file system`, `OSError: [Errno 30] Read-only file system`,
    Node `EROFS: read-only file system, open '/app/x'`.

How to confirm by hand
    docker inspect -f '{{.HostConfig.ReadonlyRootfs}} {{json .HostConfig.Tmpfs}}' NAME
    docker inspect -f '{{range .Mounts}}{{.Destination}} rw={{.RW}}{{"\\n"}}{{end}}' NAME
    docker logs NAME 2>&1 | grep -i 'read-only file system'

Look-alikes told apart
    `permission-denied` (EACCES: the filesystem is writable, the user may not write);
    writes under /proc/sys or /sys (`sysctl: error setting key ...: Read-only file system`):
    kernel settings are read-only in an unprivileged container, set them with `--sysctl`;
    neither `--read-only` nor a read-only mount covering the path means the backing filesystem
    itself went read-only (the host remounted it after I/O errors: every container on it is
    affected; read the host's kernel log).

Fix
    Keep `--read-only` and give the application writable places: `--tmpfs` for caches, pid
    and temp directories (`--tmpfs /tmp --tmpfs /var/cache/nginx --tmpfs /var/run`), a volume
    for state; or drop `:ro` from the mount it really must write.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (hits_evidence, hits_facts, inspect_evidence, log_severity, logs_command,
                          mount_for, MountHit, paths_in, q, scan_log, Cause, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)

SLUG = Cause.READ_ONLY_FILESYSTEM


@check("D401", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def read_only_filesystem(c: ContainerEvidence) -> Iterator[Finding]:
    """EROFS in the logs, joined with --read-only and read-only mounts."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    paths = list(dict.fromkeys(p for ln in hits.lines for p in paths_in(ln.text)))
    where: dict[str, MountHit] = {p: mount_for(c, p) for p in paths}
    read_only = {p: m for p, m in where.items() if not m.writable}
    rootfs_ro = bool(c.host_config.get("ReadonlyRootfs"))

    facts = [fact("HostConfig.ReadonlyRootfs", rootfs_ro)]
    for p, m in list(where.items())[:5]:
        facts.append(fact(f"path {p}", m.describe()))
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits)
    evidence.append(inspect_evidence(c, "/HostConfig/ReadonlyRootfs", rootfs_ro))
    for m in {m.pointer: m for m in read_only.values() if m.kind != "rootfs"}.values():
        evidence.append(inspect_evidence(c, m.pointer))

    shown = paths[0] if paths else ""
    kernel = [p for p in paths if p.startswith(("/proc/", "/sys/"))]
    if kernel:
        title = (f"writes to {kernel[0]} fail: kernel settings are read-only inside an "
                 "unprivileged container")
    elif read_only and paths and shown in read_only:
        cause = where[shown].describe()
        title = f"writes to {shown} fail: it is on {cause}"
    elif rootfs_ro:
        title = "writes fail with `Read-only file system`: the root filesystem is read-only"
    elif not read_only and paths:
        title = (f"writes to {shown} fail with `Read-only file system` although no read-only "
                 "setting of the container covers it: the filesystem itself is read-only "
                 "(remounted after I/O errors?)")
    else:
        title = "writes fail with `Read-only file system`"
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=_remedy(c, read_only, paths, rootfs_ro),
        severity=log_severity(c, hits),
    )


def _remedy(c: ContainerEvidence, read_only: dict[str, MountHit], paths: list[str],
            rootfs_ro: bool) -> Remediation:
    name = q(c.name)
    image = q(c.image_ref or "IMAGE")
    kernel = [p for p in paths if p.startswith(("/proc/", "/sys/"))]
    if kernel:
        key = kernel[0].removeprefix("/proc/sys/").replace("/", ".")
        return Remediation(
            "Set namespaced kernel parameters when creating the container (`--sysctl`), not "
            "from inside it; host-wide ones belong on the host (sysctl.conf).",
            (logs_command(c), f"docker run --sysctl {q(key)}=VALUE {image}",
             f"sysctl {q(key)}"),
        )
    rootfs_paths = [p for p, m in read_only.items() if m.kind == "rootfs"]
    ro_mounts = {m.destination: m for m in read_only.values() if m.kind != "rootfs"}
    cmds = [logs_command(c)]
    summary = []
    if rootfs_ro or rootfs_paths:
        dirs = list(dict.fromkeys(d for d in map(_dir_of, rootfs_paths) if d))[:4] or ["/tmp"]
        # Scratch directories get a tmpfs; others a named volume, which the engine fills with
        # the image's content on first use (a tmpfs would hide the image's files there).
        flags = " ".join(f"--tmpfs {q(d)}" if _scratch(d) else
                         f"-v {q(c.name + '-' + d.strip('/').replace('/', '-'))}:{q(d)}"
                         for d in dirs)
        summary.append("Keep --read-only but give the application writable directories "
                       f"where it writes: {', '.join(dirs)}.")
        cmds.append(f"docker run --read-only {flags} {image}")
    for dest, m in ro_mounts.items():
        summary.append(f"{dest} is mounted read-only ({m.describe()}); mount it writable if "
                       "the application must write there, or point the application elsewhere.")
        cmds.append(f"docker inspect -f '{{{{json .Mounts}}}}' {name}")
    if not summary:
        summary.append("No read-only setting of this container covers "
                       f"{', '.join(paths[:3]) or 'the path'}: check whether the host "
                       "filesystem was remounted read-only after I/O errors.")
        cmds += ["dmesg | grep -iE 'remount|read-only|I/O error'",
                 "findmnt -o TARGET,OPTIONS | grep -w ro"]
    return Remediation(" ".join(summary), tuple(cmds))


SCRATCH = ("/tmp", "/var/tmp", "/run", "/var/run", "/var/cache", "/var/log", "/var/lock")


def _scratch(directory: str) -> bool:
    """Directories whose content may start empty on every run."""
    return any(directory == s or directory.startswith(s + "/") for s in SCRATCH)


def _dir_of(path: str) -> str:
    """The directory to make writable: the parent of the path written ('' for the top level,
    where a tmpfs would hide the image's own directory)."""
    parent = path.rsplit("/", 1)[0]
    return parent if parent.count("/") >= 1 and parent != "" else ""
