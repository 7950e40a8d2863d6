"""D708: The image was built with an insecure download.

What went wrong
    A build step fetched something over plain http, or with certificate checks switched off
    (`curl -k`/`--insecure`, `wget --no-check-certificate`, `ADD http://...`, pip
    `--trusted-host`, `apk --allow-untrusted`, apt `--allow-unauthenticated`, git
    `http.sslVerify=false`, `NODE_TLS_REJECT_UNAUTHORIZED=0`...).  Anyone on the network path
    of that build could have swapped what was downloaded, and whatever they put there runs in
    this container.  The source notes' advice: always read the Dockerfile and the scripts it
    runs, and look out for http or https with insecure.  Read from `docker image history
    --no-trunc`, so it covers the base image's layers too; downloads over http from
    localhost are left out.

How to confirm by hand
    docker image history --no-trunc --format '{{.CreatedBy}}' IMAGE \\
      | grep -nE 'http://|-k |--insecure|no-check-certificate'

Fix
    Rebuild with https and certificate checks on, and verify what is downloaded (a published
    checksum: `echo "SHA256  file" | sha256sum -c`, or a signature).  If the base image does
    this, pick another base.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (insecure_fetches, q, check, ContainerEvidence, Evidence, fact, Finding,
                          layout, Remediation, Severity)


@check("D708", "insecure-download-in-history", severity=Severity.WARNING,
       requires=("history",))
def insecure_download(c: ContainerEvidence) -> Iterator[Finding]:
    """Build steps in the image history that download insecurely."""
    hits = insecure_fetches(c.history)
    if not hits:
        return
    kinds = list(dict.fromkeys(h.what for h in hits))
    image = c.image_ref or str(c.inspect.get("Image") or "")
    yield Finding(
        title=f"image built with an insecure download: {kinds[0]}"
              + (f" (+{len(kinds) - 1} more kinds)" if len(kinds) > 1 else ""),
        facts=tuple(fact(f"layer {h.index}", f"{h.what}: {h.excerpt[:160]}") for h in hits[:8])
        + ((fact("more", f"{len(hits) - 8} more steps"),) if len(hits) > 8 else ()),
        evidence=tuple(Evidence(file=c.path(layout.IMAGE_HISTORY), pointer=f"/{h.index}/CreatedBy",
                                excerpt=h.excerpt) for h in hits[:8]),
        remediation=Remediation(
            "Rebuild the image downloading over https with certificate checks on, and verify "
            "each download against a published checksum or signature.",
            (f"docker image history --no-trunc --format '{{{{.CreatedBy}}}}' {q(image)}",),
        ),
    )
