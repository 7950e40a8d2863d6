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

In a container run
    A bundle of `diagnose CONTAINER` (also `--filter`, `--project`, `diagnose service`) holds
    only the engine's totals (a cache record's description is a build step of some image,
    often with its arguments): this finding then gives the reclaimable bytes and points to
    `diagnose engine` for the records and the commands.  `diagnose engine` and
    `diagnose --all` list the largest records.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (build_cache, engine_evidence, GiB, human_bytes, listing,
                          reclaim_severity, totals_finding, check, fact, Finding, layout,
                          Remediation, Severity, Snapshot)

MIN_BYTES = 5 * GiB


@check("D608", "build-cache-large", severity=Severity.INFO, requires=("engine-df",),
       scope="run")
def build_cache_large(snap: Snapshot) -> Iterator[Finding]:
    """Reclaimable build cache against the size threshold."""
    b = build_cache(snap.engine)
    if b.size < MIN_BYTES:
        return
    title = f"{human_bytes(b.size)} of reclaimable build cache"
    severity = reclaim_severity(b.size, snap.host)
    if b.totals_only:
        facts = [fact("reclaimable build cache", human_bytes(b.size)),
                 fact("records", f"{b.of('records')} in all"),
                 fact("threshold", human_bytes(MIN_BYTES))]
        yield totals_finding(layout.ENGINE_DF, b, title, facts, "build cache records", severity)
        return
    free = b.listed
    facts = [
        fact("reclaimable build cache", human_bytes(b.size)),
        fact("records", f"{len(free)} reclaimable of {b.of('records')}"),
        fact("threshold", human_bytes(MIN_BYTES)),
        fact("largest", listing([f"{str(r.get('ID'))[:12]} {human_bytes(int(r.get('Size') or 0))}"
                                 for _, r in free], 5)),
    ]
    ev = tuple(engine_evidence(layout.ENGINE_DF, f"/BuildCache/{i}",
                        f"{r.get('ID')} {r.get('Type')} {human_bytes(int(r.get('Size') or 0))} "
                        f"last used {r.get('LastUsedAt')}: {r.get('Description', '')}"[:300])
               for i, r in free[:5])
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=ev,
        remediation=Remediation(
            "Prune the build cache (never touches images, containers or volumes; the next "
            "builds rebuild what they need).",
            ("docker builder du --verbose", "docker builder prune",
             "docker builder prune --all --filter until=168h")),
        severity=severity,
        target="engine",
    )
