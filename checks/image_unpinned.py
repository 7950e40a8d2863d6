"""D706: The container's image is not pinned (tag `latest` or no tag, no digest).

What went wrong
    `docker run app` means `app:latest`, and `latest` is just the tag a build or push moved
    last: the same command gives a different image tomorrow, a restart after a pull changes
    what runs, and two hosts run different code under one name.  A version tag is better
    (though tags can be moved too); a digest (`app@sha256:...`) or an image ID cannot change.
    For information: reproducibility, not an immediate danger.

How to confirm by hand
    docker inspect -f '{{.Config.Image}} -> {{.Image}}' NAME
    docker image inspect -f '{{.RepoTags}} {{.RepoDigests}}' IMAGE

Fix
    Name the image by a version tag, better by digest, in `docker run` / Compose
    (`image: app:1.4.2` or `image: app@sha256:...`).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (by_image_id, inspect_evidence, parse_ref, q, check, ContainerEvidence,
                          fact, Finding, Remediation, Severity)


@check("D706", "image-unpinned", severity=Severity.INFO, requires=("inspect",))
def image_unpinned(c: ContainerEvidence) -> Iterator[Finding]:
    """Config.Image without a version tag, digest or image ID."""
    raw = c.image_ref
    if by_image_id(raw, str(c.inspect.get("Image") or "")):
        return
    ref = parse_ref(raw)
    if ref is None or ref.pinned:
        return
    digests = [str(d) for d in c.image.get("RepoDigests") or ()]
    facts = [fact("Config.Image", raw), fact("tag", ref.tag or "(none: latest)"),
             fact("image ID", str(c.inspect.get("Image") or ""))]
    if digests:
        facts.append(fact("digest to pin", digests[0]))
    pin = digests[0] if digests else f"{raw.split('@')[0].rsplit(':', 1)[0]}:VERSION"
    yield Finding(
        title=f"image {raw} is not pinned ({'tag latest' if ref.tag else 'no tag, so latest'},"
              " no digest)",
        facts=tuple(facts),
        evidence=(inspect_evidence(c, "/Config/Image"), inspect_evidence(c, "/Image")),
        remediation=Remediation(
            "Name the image by version tag or digest when you recreate the container.",
            (f"docker image inspect -f '{{{{.RepoTags}}}} {{{{.RepoDigests}}}}' {q(raw)}",
             f"docker run ... {q(pin)}"),
        ),
    )
