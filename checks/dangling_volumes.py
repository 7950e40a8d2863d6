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

In a container run
    A bundle of `diagnose CONTAINER` (also `--filter`, `--project`, `diagnose service`) holds
    only the engine's totals: this finding then gives the count, the size and how many are
    anonymous or named, names no volume, and points to `diagnose engine`, which lists them
    with the commands.  `diagnose engine` and `diagnose --all` list every volume.  A dangling
    volume is used by no container, so it is never one a target uses.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (anonymous_volume, batched_commands, dangling_volumes as counted,
                          engine_evidence, GiB, human_bytes, listing, reclaim_severity,
                          totals_finding, volume_sizes, check, fact, Finding, layout, Remediation,
                          Severity, Snapshot)

MIN_COUNT = 5
MIN_BYTES = 1 * GiB


@check("D606", "dangling-volumes", severity=Severity.INFO, requires=("engine-volumes",),
       scope="run")
def dangling_volumes(snap: Snapshot) -> Iterator[Finding]:
    """Volumes no container references, against the count and size thresholds."""
    d = counted(snap.engine)
    if d.count < MIN_COUNT and d.size < MIN_BYTES:
        return
    title = f"{d.count} dangling volumes ({human_bytes(d.size)}) used by no container"
    size = human_bytes(d.size) if d.sized else "unknown (docker system df missing)"
    severity = reclaim_severity(d.size, snap.host)
    if d.totals_only:
        facts = [fact("dangling volumes", d.count), fact("size", size),
                 fact("threshold", f"{MIN_COUNT} volumes or {human_bytes(MIN_BYTES)}"),
                 fact("anonymous", d.of("anonymous")),
                 fact("named (may hold data you want)", d.of("named"))]
        yield totals_finding(layout.ENGINE_VOLUMES, d, title, facts, "volumes", severity)
        return
    vols = [v for _, v in d.listed]
    sizes = volume_sizes(snap.engine)
    anon = [str(v.get("Name")) for v in vols if anonymous_volume(v)]
    named = [str(v.get("Name")) for v in vols if not anonymous_volume(v)]
    facts = [
        fact("dangling volumes", d.count),
        fact("size", size),
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
    if d.count > len(vols):
        summary += (f" {d.count - len(vols)} more were not listed (the list is bounded): "
                    "`docker volume ls -f dangling=true` shows them.")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=ev,
        remediation=Remediation(summary, tuple(cmds)),
        severity=severity,
        target="engine",
    )
