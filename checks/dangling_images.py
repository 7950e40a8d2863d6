"""D604: Dangling images are piling up on the engine.

What went wrong
    Rebuilding an image under a tag it already has (`docker build -t app .` again) moves the
    tag to the new image; the old one keeps its layers but loses its name and shows as
    `<none>:<none>` in `docker images`.  These dangling images are the usual reason the
    engine's disk grows on build machines.  Intermediate build layers (`docker images -a`)
    are not dangling and are not counted.

    Thresholds: reported from 5 dangling images, or from 1 GiB reclaimable (each image's own
    layers, `Size - SharedSize` from `docker system df`), whichever comes first.  Information
    until the space is worth having back: a warning from 10 GiB, from 10% of the data root's
    filesystem, or when `engine-disk-low` holds.

How to confirm by hand
    docker images -f dangling=true
    docker system df -v

Look-alikes told apart
    A dangling image that a container (even a stopped one) still uses cannot be removed and is
    left out of the list (counted as a fact): `docker rmi` would refuse it.

Fix
    Remove exactly the listed images (`docker rmi ID...`): the command is shown, never run.
    `docker image prune` removes every dangling image, including ones made after this bundle.

In a container run
    A bundle of `diagnose CONTAINER` (also `--filter`, `--project`, `diagnose service`) holds
    only the engine's totals: this finding then gives the count and the reclaimable bytes,
    names no image, and points to `diagnose engine`, which lists them with the commands.
    `diagnose engine` and `diagnose --all` list every image.  A dangling image is used by no
    container, so it is never one a target uses.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (batched_commands, dangling_images as counted, engine_evidence,
                          epoch_stamp, GiB, human_bytes, image_sizes, listing, reclaim_severity,
                          short_id, totals_finding, check, fact, Finding, layout, Remediation,
                          Severity, Snapshot)

MIN_COUNT = 5
MIN_BYTES = 1 * GiB


@check("D604", "dangling-images", severity=Severity.INFO,
       requires=("engine-images", "engine-containers"), scope="run")
def dangling_images(snap: Snapshot) -> Iterator[Finding]:
    """Untagged images no container uses, against the count and size thresholds."""
    d = counted(snap.engine)
    if d.count < MIN_COUNT and d.size < MIN_BYTES:
        return
    title = f"{d.count} dangling images ({human_bytes(d.size)} reclaimable)"
    facts = [
        fact("dangling images", d.count),
        fact("reclaimable", human_bytes(d.size) + ("" if d.sized else
                                                  " (image sizes; docker system df missing)")),
        fact("threshold", f"{MIN_COUNT} images or {human_bytes(MIN_BYTES)}"),
    ]
    if d.of("in_use"):
        facts.append(fact("dangling but used by a container (kept)", d.of("in_use")))
    severity = reclaim_severity(d.size, snap.host)
    if d.totals_only:
        yield totals_finding(layout.ENGINE_IMAGES, d, title, facts, "images", severity)
        return
    sizes = image_sizes(snap.engine)
    ids = [short_id(img.get("Id")) for _, img in d.listed]
    facts.insert(3, fact("images", listing(ids)))
    ev = tuple(engine_evidence(layout.ENGINE_IMAGES, f"/dangling/{i}",
                        f"{img.get('Id')} created {epoch_stamp(img.get('Created'))} "
                        f"{human_bytes(sizes.get(str(img.get('Id')), int(img.get('Size') or 0)))}")
               for i, img in d.listed[:10])
    cmds = batched_commands("docker rmi", ids)
    summary = (f"Remove exactly these {len(ids)} untagged images (no container uses them; "
               "`docker rmi` refuses any that gained a user since).")
    if d.of("unlisted"):
        summary += (f" {d.of('unlisted')} more were not listed (the list is bounded): review "
                    "them with `docker images -f dangling=true`; `docker image prune` removes "
                    "them all.")
        cmds.append("docker images -f dangling=true")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=ev,
        remediation=Remediation(summary, tuple(cmds)),
        severity=severity,
        target="engine",
    )
