"""D111: A bind mount puts a directory onto a file (or a file onto a directory).

What went wrong
    runc cannot mount a host directory over a file in the image, or a host file over a
    directory.  The classic way in: `-v ./app.conf:/etc/app.conf` when `./app.conf` did not
    exist on the host at create time, so Docker created it as an empty *directory*, which
    then cannot cover the image's *file*.  The start fails with exit code 127 and status
    `created`:

        error mounting "/srv/app.conf" to rootfs at "/etc/app.conf": mount ... not a
        directory: unknown: Are you trying to mount a directory onto a file (or vice-versa)?
        Check if the specified host path exists and is the expected type
        rootfs_linux.go:58: mounting "/srv/app.conf" to rootfs "..." at "..." caused
        "not a directory"                                                   (runc <= 1.0)

    mounts.json says what the host path is now (a directory or a file).

How to confirm by hand
    docker inspect -f '{{.State.Error}}' NAME
    ls -ld /srv/app.conf                   # on the engine host: a directory?

Look-alikes told apart
    `entrypoint-not-found` (also 127, but `exec: "x": ... not found`, no `error mounting`),
    `mount-source-missing` (the source does not exist at all).

Fix
    Make the host path the same type as the target: remove the empty directory Docker made
    and put the file there (`rmdir /srv/app.conf && cp app.conf /srv/app.conf`), fix a wrong
    relative path, then recreate the container.  `--mount type=bind` fails fast instead of
    creating a directory.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (excerpt, failure_facts, failure_for, lazy_compile, override_commands, q,
                          unescape, Cause, check, ContainerEvidence, Evidence, fact, Finding,
                          layout, Remediation, Severity)

SLUG = Cause.BIND_MOUNT_TYPE_MISMATCH
_MOUNTING = lazy_compile(r'mounting "(?P<src>[^"]+)" to rootfs (?:at "(?P<dst>[^"]+)"|'
                         r'"[^"]*" at "(?P<dst2>[^"]+)")')


def mount_pair(error: str) -> tuple[str, str]:
    """(host source, container target) of the failing mount, from any runc generation."""
    m = _MOUNTING.search(unescape(error))
    if not m:
        return "", ""
    dst = m.group("dst") or m.group("dst2") or ""
    # runc <= 1.0 names the target under the rootfs path; keep the container-side part.
    if "/merged/" in dst:
        dst = "/" + dst.split("/merged/", 1)[1]
    return m.group("src"), dst


@check("D111", SLUG, severity=Severity.CRITICAL, requires=("inspect",))
def bind_mount_type_mismatch(c: ContainerEvidence) -> Iterator[Finding]:
    """State.Error says a mount failed with `not a directory`."""
    failure = failure_for(c, SLUG)
    if failure is None or failure[0] is None:
        return
    sf = failure[0]
    src, dst = mount_pair(sf.error)
    facts, evidence = failure_facts(c, failure)
    facts += [fact("host source", src or "?"), fact("container target", dst or "?")]
    kind = ""
    for i, m in enumerate(c.mounts):
        if str(m.get("Source")) == src and "source_kind" in m:
            kind = str(m["source_kind"])
            facts.append(fact("host source is", kind + (
                " (Docker creates a missing -v source as an empty directory)"
                if kind == "directory" else "")))
            evidence.append(Evidence(file=c.path(layout.MOUNTS), pointer=f"/{i}",
                                     excerpt=excerpt(m, ascii_only=False)))
            break
    target_kind = "file" if kind == "directory" else "directory" if kind == "file" else ""
    what = (f"a {kind} onto a {target_kind}" if target_kind else
            "a directory onto a file (or the reverse)")
    commands = [f"ls -ld {q(src)}"] if src else []
    if kind == "directory":
        commands.append(f"rmdir {q(src)}   # if Docker made it empty; then put the file there")
    commands += override_commands(c, with_mounts=False)
    yield Finding(
        title=f"bind mount of {src or '?'} onto {dst or '?'} fails: it mounts {what}",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Make the host path the same type as the target in the image (usually: replace "
            "the empty directory Docker created with the intended file), then recreate the "
            "container; prefer `--mount type=bind`, which fails fast on a missing source.",
            tuple(commands),
        ),
    )
