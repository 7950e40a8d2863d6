"""D115: A mount hides what the image put there (the entrypoint, the app, node_modules).

What went wrong
    A bind mount or a volume is mounted over a directory the image filled: `-v $PWD:/app`
    during development, `-v /srv/empty:/app`, or a named volume on `/app/node_modules`.  The
    mount replaces the directory, so the entrypoint, the application or its dependencies that
    were built into the image are not there, and the program fails as if they had never been:
    `exec: "/app/start.sh": stat /app/start.sh: no such file or directory` (the container
    never starts), Node's `Error: Cannot find module 'express'`, Python's `can't open file
    '/app/main.py'`.

    An empty *named* volume is filled from the image the first time it is used, so it hides
    nothing then; but it keeps what it got: a volume first used with an older image keeps
    that image's `node_modules` and hides the new image's (`Cannot find module 'cors'` after
    a dependency was added).  A bind mount always hides the image's directory.

    The image side is read from the image's history (the COPY/ADD steps and the package
    installs that wrote at or above the mount's destination) and its own entrypoint.  When a
    step wrote only *above* the destination (`COPY . /app` and a mount on
    `/app/node_modules`), the history cannot say whether the missed file was in it: the
    finding says so (confidence medium) and how to look.

How to confirm by hand
    docker inspect -f '{{json .Mounts}}' NAME
    docker run --rm --entrypoint ls IMAGE -la /app /app/node_modules     (the image's view)
    docker history --no-trunc IMAGE | grep -E 'COPY|ADD|WORKDIR|npm'

Look-alikes told apart
    `entrypoint-not-found` and `app-exit-error` when the path is not under a mount, or the
    image never wrote there (the file was never built in); `mount-source-missing` when the
    mount's source does not exist at all.

Fix
    Do not mount over the directory the image filled: mount a subdirectory for data, or for
    development mount the source and keep dependencies in the image (an anonymous volume on
    `/app/node_modules`, `-v /app/node_modules`); for a stale named volume remove it so that
    the new image fills it again (`docker volume rm VOLUME`, after saving what it holds).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (Confidence, ended, inspect_evidence, layout, log_evidence, q, shadowed,
                          Cause, check, ContainerEvidence, Evidence, fact, Finding, Remediation,
                          Severity)

SLUG = Cause.VOLUME_SHADOWS_IMAGE_CONTENT


@check("D115", SLUG, severity=Severity.ERROR, requires=("inspect",))
def volume_shadows_image_content(c: ContainerEvidence) -> Iterator[Finding]:
    """A path the program missed lies under a bind mount or volume over image content."""
    shadow = shadowed(c)
    if shadow is None:
        return
    mount = shadow.mount
    what = f"{mount.kind} {mount.source} -> {mount.destination}" if mount.source else (
        f"{mount.kind} on {mount.destination}")
    title = f"the {what} hides the image's {mount.destination}: {shadow.path} is not there"
    if mount.kind == "volume":
        title += " (the volume keeps content from before this image, or from elsewhere)"
    facts = [fact("missing", shadow.path), fact("how it showed", shadow.said[:300]),
             fact("mount", mount.describe()),
             fact("the image wrote there", "; ".join(shadow.steps)[:600])]
    confidence = Confidence.HIGH
    if not shadow.exact:
        confidence = Confidence.MEDIUM
        facts.append(fact("still possible", f"the image never had {shadow.path} (its history "
                          f"shows a step that wrote above {mount.destination} only); `docker "
                          f"run --rm --entrypoint ls IMAGE -la {shadow.path}` tells them apart"))
    evidence = [inspect_evidence(c, mount.pointer) if mount.pointer else
                inspect_evidence(c, "/Mounts"),
                Evidence(file=c.path(layout.IMAGE_HISTORY), excerpt="\n".join(shadow.steps))]
    if shadow.line is not None:
        evidence += log_evidence(c, [shadow.line], 1)
    else:
        evidence.append(inspect_evidence(c, "/State/Error"))
    image = q(c.image_ref or "IMAGE")
    cmds = [f"docker inspect -f '{{{{json .Mounts}}}}' {q(c.name)}",
            f"docker run --rm --entrypoint ls {image} -la {q(mount.destination)}"]
    if mount.kind == "volume" and mount.source:
        cmds.append(f"docker volume rm {q(mount.source)}   # after saving what it holds: the "
                    "next container fills it from the image again")
    failed = not c.ever_started or ended(c) and bool(c.exit_code)
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Do not mount over the directory the image filled: mount data into a subdirectory, "
            "keep dependencies in the image (an anonymous volume on node_modules), or remove a "
            "stale named volume so the image fills it again.",
            tuple(cmds),
        ),
        severity=Severity.ERROR if failed else Severity.WARNING,
        confidence=confidence,
    )
