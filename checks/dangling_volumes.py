"""D606: Dangling volumes (used by no container) are piling up on the engine.

What went wrong
    Removing a container does not remove its volumes (unless `docker rm -v` or `--rm`).  An
    image that declares a `VOLUME` gets a fresh anonymous volume (a 64-hex name) on every
    `docker run`, so they pile up unnoticed; Compose keeps named volumes after
    `docker compose down`.  A dangling volume is referenced by no container, running or
    stopped.  Anonymous ones are almost always leftovers; named ones may well hold data that
    someone means to keep (a database whose container was recreated).

    Thresholds: reported from 5 dangling volumes, or from 1 GiB in them (`docker system df`),
    whichever comes first.  Information until the space is worth having back: a warning from
    10 GiB, from 10% of the data root's filesystem, or when `engine-disk-low` holds.

How to confirm by hand
    docker volume ls -f dangling=true
    docker system df -v

Fix
    Removing a volume DELETES ITS DATA for good.  The anonymous ones listed can usually go
    (`docker volume rm NAME...`); inspect each named one first (`docker volume inspect`,
    or mount it read-only: `docker run --rm -v NAME:/v:ro IMAGE ls -la /v`).  Commands are
    shown, never run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from diagnose.api import (batched_commands, engine_evidence, GiB, human_bytes, listing,
                          reclaim_severity, volume_sizes, check, fact, Finding, layout, Remediation,
                          Severity, Snapshot)

MIN_COUNT = 5
MIN_BYTES = 1 * GiB


def anonymous(volume: dict[str, Any]) -> bool:
    """An anonymous volume: the engine's label (Engine >= 23), or a 64-hex generated name."""
    if "com.docker.volume.anonymous" in (volume.get("Labels") or {}):
        return True
    name = str(volume.get("Name") or "")
    return len(name) == 64 and all(ch in "0123456789abcdef" for ch in name)


@check("D606", "dangling-volumes", severity=Severity.INFO, requires=("engine-volumes",),
       scope="run")
def dangling_volumes(snap: Snapshot) -> Iterator[Finding]:
    """Volumes no container references, against the count and size thresholds."""
    doc = snap.engine.json(layout.ENGINE_VOLUMES) or {}
    vols = list(doc.get("dangling") or ())
    count = int(doc.get("dangling_total") or len(vols))
    sizes = volume_sizes(snap.engine)
    size = sum(max(sizes.get(str(v.get("Name")), 0), 0) for v in vols)
    if count < MIN_COUNT and size < MIN_BYTES:
        return
    anon = [str(v.get("Name")) for v in vols if anonymous(v)]
    named = [str(v.get("Name")) for v in vols if not anonymous(v)]
    facts = [
        fact("dangling volumes", count),
        fact("size", human_bytes(size) if snap.engine.df else "unknown (docker system df missing)"),
        fact("threshold", f"{MIN_COUNT} volumes or {human_bytes(MIN_BYTES)}"),
        fact("anonymous", listing(anon) if anon else "none"),
        fact("named (may hold data you want)", listing(named) if named else "none"),
    ]
    ev = tuple(engine_evidence(layout.ENGINE_VOLUMES, f"/dangling/{i}",
                        f"{v.get('Name')} driver {v.get('Driver')} created {v.get('CreatedAt')}"
                        f" {human_bytes(max(sizes.get(str(v.get('Name')), 0), 0))}")
               for i, v in enumerate(vols[:10]))
    cmds = batched_commands("docker volume rm", anon)
    cmds += [f"docker volume inspect {n}" for n in named[:10]]
    cmds += [f"{c}  # named: only after checking the data" for c in
             batched_commands("docker volume rm", named)]
    summary = ("WARNING: removing a volume deletes its data for good.  The anonymous volumes "
               f"({len(anon)}) are leftovers of removed containers; inspect the {len(named)} "
               "named ones before removing any.")
    if count > len(vols):
        summary += (f" {count - len(vols)} more were not listed (the list is bounded): "
                    "`docker volume ls -f dangling=true` shows them.")
    yield Finding(
        title=f"{count} dangling volumes ({human_bytes(size)}) used by no container",
        facts=tuple(facts),
        evidence=ev,
        remediation=Remediation(summary, tuple(cmds)),
        severity=reclaim_severity(size, snap.host),
        target="engine",
    )
