"""D608: The build cache has grown large.

What went wrong
    BuildKit keeps every intermediate result of every build (`docker builder du`) so later
    builds are fast; nothing removes it automatically unless garbage collection is configured
    (`builder.gc` in daemon.json).  On build machines it becomes the largest user of the
    engine's disk.  Only cache that is neither in use by a running build nor shared with an
    image counts as reclaimable (as in `docker system df`).  The classic builder keeps no such
    cache (its intermediate images are counted by `docker images -a`).

    Thresholds: reported from 5 GiB reclaimable.  Information until the space is worth having
    back: a warning from 10 GiB, from 10% of the data root's filesystem, or when
    `engine-disk-low` holds.

How to confirm by hand
    docker builder du --verbose
    docker system df

Fix
    `docker builder prune` removes dangling cache only; `docker builder prune --all` removes
    all the reclaimable cache counted here (never images, containers or volumes; the next
    builds are slower).  Add `--filter until=168h` to keep the last week's cache.  Commands
    are shown, never run; cache records cannot be removed one by one reliably.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (build_cache_reclaimable, engine_evidence, GiB, human_bytes, listing,
                          reclaim_severity, check, fact, Finding, layout, Remediation, Severity,
                          Snapshot)

MIN_BYTES = 5 * GiB


@check("D608", "build-cache-large", severity=Severity.INFO, requires=("engine-df",),
       scope="run")
def build_cache_large(snap: Snapshot) -> Iterator[Finding]:
    """Reclaimable build cache against the size threshold."""
    cache = list(snap.engine.df.get("BuildCache") or ())
    reclaimable = build_cache_reclaimable(cache)
    if reclaimable < MIN_BYTES:
        return
    free = sorted(((i, b) for i, b in enumerate(cache)
                   if not b.get("InUse") and not b.get("Shared")),
                  key=lambda ib: -int(ib[1].get("Size") or 0))
    facts = [
        fact("reclaimable build cache", human_bytes(reclaimable)),
        fact("records", f"{len(free)} reclaimable of {len(cache)}"),
        fact("threshold", human_bytes(MIN_BYTES)),
        fact("largest", listing([f"{str(b.get('ID'))[:12]} {human_bytes(int(b.get('Size') or 0))}"
                                 for _, b in free], 5)),
    ]
    ev = tuple(engine_evidence(layout.ENGINE_DF, f"/BuildCache/{i}",
                        f"{b.get('ID')} {b.get('Type')} {human_bytes(int(b.get('Size') or 0))} "
                        f"last used {b.get('LastUsedAt')}: {b.get('Description', '')}"[:300])
               for i, b in free[:5])
    yield Finding(
        title=f"{human_bytes(reclaimable)} of reclaimable build cache",
        facts=tuple(facts),
        evidence=ev,
        remediation=Remediation(
            "Prune the build cache (never touches images, containers or volumes; the next "
            "builds rebuild what they need).",
            ("docker builder du --verbose", "docker builder prune",
             "docker builder prune --all --filter until=168h")),
        severity=reclaim_severity(reclaimable, snap.host),
        target="engine",
    )
