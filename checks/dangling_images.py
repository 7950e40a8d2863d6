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
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (batched_commands, engine_evidence, epoch_stamp, GiB, human_bytes,
                          image_sizes, listing, reclaim_severity, short_id, check, fact, Finding,
                          layout, Remediation, Severity, Snapshot)

MIN_COUNT = 5
MIN_BYTES = 1 * GiB


@check("D604", "dangling-images", severity=Severity.INFO,
       requires=("engine-images", "engine-containers"), scope="run")
def dangling_images(snap: Snapshot) -> Iterator[Finding]:
    """Untagged images no container uses, against the count and size thresholds."""
    images = snap.engine.json(layout.ENGINE_IMAGES) or {}
    containers = snap.engine.json(layout.ENGINE_CONTAINERS) or {}
    in_use = set(containers.get("images_in_use") or ())
    sizes = image_sizes(snap.engine)
    listed = [(i, img) for i, img in enumerate(images.get("dangling") or ())
              if img.get("Id") not in in_use]
    kept = len(images.get("dangling") or ()) - len(listed)
    unlisted = max(int(images.get("dangling_total") or 0)
                   - len(images.get("dangling") or ()), 0)
    count = len(listed) + unlisted
    reclaimable = sum(sizes.get(str(img.get("Id")), int(img.get("Size") or 0))
                      for _, img in listed)
    if count < MIN_COUNT and reclaimable < MIN_BYTES:
        return
    ids = [short_id(img.get("Id")) for _, img in listed]
    facts = [
        fact("dangling images", count),
        fact("reclaimable", human_bytes(reclaimable) + ("" if snap.engine.df else
                                                   " (image sizes; docker system df missing)")),
        fact("threshold", f"{MIN_COUNT} images or {human_bytes(MIN_BYTES)}"),
        fact("images", listing(ids)),
    ]
    if kept:
        facts.append(fact("dangling but used by a container (kept)", kept))
    ev = tuple(engine_evidence(layout.ENGINE_IMAGES, f"/dangling/{i}",
                        f"{img.get('Id')} created {epoch_stamp(img.get('Created'))} "
                        f"{human_bytes(sizes.get(str(img.get('Id')), int(img.get('Size') or 0)))}")
               for i, img in listed[:10])
    cmds = batched_commands("docker rmi", ids)
    summary = (f"Remove exactly these {len(ids)} untagged images (no container uses them; "
               "`docker rmi` refuses any that gained a user since).")
    if unlisted:
        summary += (f" {unlisted} more were not listed (the list is bounded): review them with "
                    "`docker images -f dangling=true`; `docker image prune` removes them all.")
        cmds.append("docker images -f dangling=true")
    yield Finding(
        title=f"{count} dangling images ({human_bytes(reclaimable)} reclaimable)",
        facts=tuple(facts),
        evidence=ev,
        remediation=Remediation(summary, tuple(cmds)),
        severity=reclaim_severity(reclaimable, snap.host),
        target="engine",
    )
