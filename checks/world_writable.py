"""D709: The image makes files world-writable (`chmod 777` in its history).

What went wrong
    A build step ran `chmod 777`, `chmod -R 777`, `chmod a+rwx` or another mode that lets
    every user write (the "others" write bit), usually to get past a permission error.  Any
    process in the container, whatever its user, can then replace those files, scripts and
    binaries included; combined with a process running as root it is an easy way up.  Sticky
    modes (`1777`, `+t`: the /tmp way to share a directory) are not reported.

    Severity: a warning when the chmod is recursive or aimed at a system directory (/, /etc,
    /usr, /bin, /lib, /var...), information otherwise.

How to confirm by hand
    docker image history --no-trunc --format '{{.CreatedBy}}' IMAGE | grep -n chmod

Fix
    Give the directory to the user that needs it instead (`chown app:app /data` or
    `COPY --chown=app:app`) and keep modes at 755/644 (or 1777 for a shared scratch
    directory).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (q, world_writable_steps, check, ContainerEvidence, Evidence, fact,
                          Finding, layout, Remediation, Severity)


@check("D709", "world-writable-in-history", severity=Severity.INFO, requires=("history",))
def world_writable(c: ContainerEvidence) -> Iterator[Finding]:
    """chmod steps with the others-write bit and no sticky bit."""
    hits = world_writable_steps(c.history)
    if not hits:
        return
    severe = [h for h in hits if h.severe]
    image = c.image_ref or str(c.inspect.get("Image") or "")
    yield Finding(
        title=f"image history makes files world-writable: {(severe or hits)[0].excerpt[:120]}",
        facts=tuple(fact(f"layer {h.index}", h.excerpt[:160]
                         + (" (recursive or system path)" if h.severe else ""))
                    for h in hits[:8]),
        evidence=tuple(Evidence(file=c.path(layout.IMAGE_HISTORY), pointer=f"/{h.index}/CreatedBy",
                                excerpt=h.excerpt) for h in hits[:8]),
        remediation=Remediation(
            "Rebuild giving ownership to the user that writes (chown / COPY --chown) instead "
            "of opening the files to everyone.",
            (f"docker image history --no-trunc --format '{{{{.CreatedBy}}}}' {q(image)}",),
        ),
        severity=Severity.WARNING if severe else Severity.INFO,
    )
