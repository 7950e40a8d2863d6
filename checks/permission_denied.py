"""D406: The application was denied access to a file or directory it uses.

What went wrong
    A runtime file operation failed with EACCES: `Permission denied` (busybox `can't create
    /data/x: Permission denied`, `mkdir: cannot create directory '/data/x': Permission denied`),
    Python `PermissionError: [Errno 13]`, Node `EACCES: permission denied, open '/data/x'`,
    Java `AccessDeniedException`, nginx `(13: Permission denied)`, or `chown: changing
    ownership of '/var/lib/postgresql/data': Operation not permitted`.  The usual cause is a UID
    mismatch: the container runs as a non-root user (`--user 65534`, an image `USER`) and the
    directory (a bind mount from the host, a volume first populated by root, or an image
    directory) belongs to root.  As root it points at SELinux labels (bind mounts without `:z`),
    a rootless or user-namespaced engine, or NFS root squashing.  A shell printing
    `sh: ./run.sh: Permission denied` is a script executing a file without the execute bit.

How to confirm by hand
    docker logs NAME 2>&1 | grep -iE 'permission denied|EACCES|Errno 13'
    docker inspect -f 'user={{.Config.User}} {{json .Mounts}}' NAME
    docker run --rm --entrypoint sh -v SRC:DST IMAGE -c 'id; ls -ld DST'
    ls -ln SRC                                       # bind mount: owner on the host

Look-alikes told apart
    `entrypoint-not-executable` (runc could not exec the entrypoint: `exec /x: permission
    denied` or State.Error with exit 126; never claimed here), `read-only-filesystem` (EROFS,
    `Read-only file system`), and lines that merely mention permissions (`permission denied for
    table` is an SQL privilege, `Permission denied (publickey)` an SSH login).

Fix
    Make the owner match the user: `chown -R UID:GID` the host directory or the volume (e.g.
    from a throwaway root container), or run with `--user` matching the data's owner; with
    SELinux add `:z`/`:Z` to the bind mount; `chmod +x` files a script executes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from diagnose.api import (hits_evidence, hits_facts, inspect_evidence, lazy_compile, log_severity,
                          logs_command, mount_for, MountHit, paths_in, q, scan_log, strip_stamp,
                          Cause, check, ContainerEvidence, fact, Finding, Remediation, Severity)

SLUG = Cause.PERMISSION_DENIED

#: A shell that could not execute a file: `sh: ./run.sh: Permission denied`,
#: `/entry.sh: line 4: /app/start: Permission denied` (not a redirection `can't create`).
_SHELL_EXEC = lazy_compile(
    r"^(?:\S*/)?(?:ba|da|a|z)?sh: (?:line \d+: |\d+: )?(?!can't |cannot )(?P<path>[^\s:]+): "
    r"(?:cannot execute: )?Permission denied\s*$|^\S+\.sh: line \d+: (?P<p2>[^\s:]+): "
    r"Permission denied\s*$", re.IGNORECASE)


@check("D406", SLUG, severity=Severity.ERROR, requires=("inspect", "logs"))
def permission_denied(c: ContainerEvidence) -> Iterator[Finding]:
    """EACCES on data paths at runtime, joined with the user and the mount holding the path."""
    hits = scan_log(c, SLUG)
    if hits is None:
        return
    execs: list[str] = []
    paths: list[str] = []
    for ln in hits.lines:
        shell = _SHELL_EXEC.match(strip_stamp(ln.text))
        if shell:
            execs.append(shell.group("path") or shell.group("p2"))
        else:
            paths += paths_in(ln.text)
    execs = list(dict.fromkeys(execs))
    paths = list(dict.fromkeys(paths))
    where = {p: mount_for(c, p) for p in paths}
    user = str(c.config.get("User") or "") or "root (image default)"
    as_root = user.split(":")[0] in ("root", "0", "root (image default)")
    selinux = any("selinux" in str(o).lower()
                  for o in c.engine.info.get("SecurityOptions") or ())

    facts = [fact("Config.User", user)]
    for p, m in list(where.items())[:5]:
        facts.append(fact(f"path {p}", m.describe()))
    if execs:
        facts.append(fact("files a shell could not execute", ", ".join(execs)))
    if selinux:
        facts.append(fact("engine security options", "SELinux enabled"))
    facts += hits_facts(hits)
    evidence = hits_evidence(c, hits)
    evidence.append(inspect_evidence(c, "/Config/User", c.config.get("User") or ""))
    for m in {m.pointer: m for m in where.values() if m.kind in ("bind", "volume")}.values():
        evidence.append(inspect_evidence(c, m.pointer))

    if paths:
        m = where[paths[0]]
        on = "" if m.kind == "rootfs" else f" (on {m.describe()})"
        who = "root" if as_root else f"user {user}"
        title = f"{who} was denied access to {paths[0]}{on}"
    elif execs:
        title = f"a shell could not execute {execs[-1]}: it lacks the execute bit"
    else:
        title = "the application was denied access (`Permission denied`)"
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=_remedy(c, user, as_root, selinux, [(p, where[p]) for p in paths], execs),
        severity=log_severity(c, hits),
    )


def _remedy(c: ContainerEvidence, user: str, as_root: bool, selinux: bool,
            denied: list[tuple[str, MountHit]], execs: list[str]) -> Remediation:
    name = q(c.name)
    uid = user.split(":")[0] if not as_root else "UID"
    cmds = [logs_command(c)]
    summary = []
    for path, m in denied[:2]:
        if m.kind == "bind":
            summary.append(f"Give user {uid} the host directory {m.source} "
                           "(or run with --user matching its owner).")
            cmds += [f"ls -lnd {q(m.source)}", f"sudo chown -R {uid} {q(m.source)}"]
            if selinux:
                cmds.append(f"docker run -v {q(m.source)}:{q(m.destination)}:z ...")
        elif m.kind == "volume":
            summary.append(f"Give user {uid} the volume {m.source}.")
            cmds.append(f"docker run --rm -v {q(m.source)}:/v busybox chown -R {uid} /v")
        else:
            parent = path.rsplit("/", 1)[0] or "/"
            summary.append(f"{parent} belongs to another user in the image: create what the "
                           f"application writes with the right owner in the Dockerfile (`RUN "
                           f"mkdir -p DIR && chown {uid} DIR`) or write to a volume.")
            cmds.append(f"docker run --rm --entrypoint ls {q(c.image_ref or 'IMAGE')} -ldn "
                        f"{q(parent)}")
    if execs:
        summary.append(f"Make {', '.join(execs)} executable (chmod +x in the "
                       "repository or COPY --chmod=755) or run it through its interpreter.")
    if as_root and denied:
        summary.append("It runs as root and is still denied: check SELinux labels (:z), a "
                       "rootless or userns-remapped engine, or NFS root squashing.")
    if not summary:
        summary.append("Find the path in the quoted lines and make its owner match the user "
                       f"the container runs as ({user}).")
    cmds.append(f"docker inspect -f '{{{{.Config.User}}}} {{{{json .Mounts}}}}' {name}")
    return Remediation(" ".join(summary), tuple(dict.fromkeys(cmds)))
