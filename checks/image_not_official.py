"""D707: The container's image is not an official-library image.

What went wrong
    Nothing, necessarily: this is information for review, following the source notes' advice
    to prefer official images, then images whose Dockerfile you can read, and to treat images
    built by hand with suspicion.  "Official" is decided from the image reference alone:
    `docker.io/library/NAME`, which is what a bare `NAME` (no slash, no registry) means.
    Anything with a user or organisation (`someone/app`), another registry (`ghcr.io/...`,
    `registry.local:5000/...`) or no name at all (an untagged image) is not official.

Look-alikes told apart
    An official-looking name that was built or tagged locally (`docker build -t nginx .`):
    the image has no registry digest for that repository (`RepoDigests` is empty), so it did
    not come from Docker Hub's library.  It is reported too, saying so.

How to confirm by hand
    docker inspect -f '{{.Config.Image}}' NAME
    docker image inspect -f '{{.RepoTags}} {{.RepoDigests}}' IMAGE
    docker image history --no-trunc IMAGE

Fix
    Prefer the official image or the project maintainers' own; read the Dockerfile (and the
    scripts it runs) of anything else, or rebuild it yourself from a reviewed Dockerfile.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (inspect_evidence, provenance, q, check, ContainerEvidence, fact, Finding,
                          Remediation, Severity)


@check("D707", "image-not-official", severity=Severity.INFO, requires=("inspect",))
def image_not_official(c: ContainerEvidence) -> Iterator[Finding]:
    """The image reference against docker.io/library/NAME, and its registry digests."""
    p = provenance(c)
    if p.official:
        return
    ref = p.ref
    raw = c.image_ref
    facts = [fact("Config.Image", raw)]
    if ref is not None:
        facts += [fact("registry", ref.registry), fact("repository", ref.repository)]
    digests = [str(d) for d in c.image.get("RepoDigests") or ()]
    facts.append(fact("RepoDigests", ", ".join(digests) or "(none: built or tagged locally)"))
    if p.official_name:
        title = (f"{raw} has an official-library name but no registry digest: it was built or "
                 "tagged locally, not pulled from the library")
    elif ref is None:
        title = f"image {raw} has no name (an untagged, locally built image)"
    else:
        title = f"{raw} is not an official-library image ({ref.registry}/{ref.repository})"
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=(inspect_evidence(c, "/Config/Image"),),
        remediation=Remediation(
            "Review where this image comes from: read its Dockerfile and history, or prefer "
            "an official or maintainer-built image.",
            (f"docker image history --no-trunc {q(raw)}",
             f"docker image inspect -f '{{{{.RepoTags}}}} {{{{.RepoDigests}}}}' {q(raw)}"),
        ),
    )
