"""D605: Exited containers are piling up on the engine.

What went wrong
    A container that exits is kept (with its writable layer, its logs and its anonymous
    volumes) until someone removes it.  One-off `docker run` without `--rm`, crashed
    experiments and old Compose runs accumulate; `docker ps -a` fills with them, their
    writable layers and logs take disk, and they hold on to images that could otherwise go.

    Thresholds: reported from 10 exited containers, or from 1 GiB in their writable layers
    (`SizeRw` from `docker system df`), whichever comes first.  Information until the space is
    worth having back: a warning from 10 GiB, from 10% of the data root's filesystem, or when
    `engine-disk-low` holds.

How to confirm by hand
    docker ps -a -f status=exited
    docker system df -v

Fix
    Remove exactly the listed containers (`docker rm NAME...`, shown, never run): plain
    `docker rm` keeps their volumes.  `docker rm -v` also deletes their anonymous volumes
    (named volumes are always kept): only for containers whose data you do not need.
    Run one-off containers with `--rm` so they clean up after themselves.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (batched_commands, container_sizes, engine_evidence, GiB, human_bytes,
                          listing, reclaim_severity, check, fact, Finding, layout, Remediation,
                          Severity, Snapshot)

MIN_COUNT = 10
MIN_BYTES = 1 * GiB


def _anonymous(name: str) -> bool:
    return len(name) == 64 and all(ch in "0123456789abcdef" for ch in name)


@check("D605", "exited-containers-piling-up", severity=Severity.INFO,
       requires=("engine-containers",), scope="run")
def exited_containers(snap: Snapshot) -> Iterator[Finding]:
    """Exited containers against the count and size thresholds."""
    doc = snap.engine.json(layout.ENGINE_CONTAINERS) or {}
    exited = list(doc.get("exited") or ())
    count = int(doc.get("exited_total") or len(exited))
    sizes = container_sizes(snap.engine)
    size = sum(sizes.get(str(c.get("Id")), 0) for c in exited)
    if count < MIN_COUNT and size < MIN_BYTES:
        return
    names = [(c.get("Names") or [str(c.get("Id"))[:12]])[0] for c in exited]
    with_anon = [(c.get("Names") or [str(c.get("Id"))[:12]])[0] for c in exited
                 if any(_anonymous(str(m.get("Name") or "")) for m in c.get("Mounts") or ())]
    facts = [
        fact("exited containers", count),
        fact("writable layers", human_bytes(size) if snap.engine.df
             else "unknown (docker system df missing)"),
        fact("threshold", f"{MIN_COUNT} containers or {human_bytes(MIN_BYTES)}"),
        fact("containers", listing(names)),
        fact("of which with anonymous volumes", len(with_anon)),
    ]
    ev = tuple(engine_evidence(layout.ENGINE_CONTAINERS, f"/exited/{i}",
                        f"{names[i]} ({str(c.get('Id'))[:12]}) {c.get('Status')} "
                        f"image {c.get('Image')}")
               for i, c in enumerate(exited[:10]))
    cmds = batched_commands("docker rm", names)
    summary = (f"Remove exactly these {len(names)} exited containers; plain `docker rm` keeps "
               "their volumes.")
    if with_anon:
        summary += (" WARNING: `docker rm -v` (last command) also DELETES the anonymous volumes "
                    f"of {len(with_anon)} of them; their data is lost (named volumes are kept).")
    if count > len(exited):
        summary += (f" {count - len(exited)} more were not listed (the list is bounded): "
                    "`docker ps -a -f status=exited` shows them.")
    if with_anon:
        cmds += batched_commands("docker rm -v", with_anon)
    yield Finding(
        title=f"{count} exited containers piling up ({human_bytes(size)} in writable layers)",
        facts=tuple(facts),
        evidence=ev,
        remediation=Remediation(summary, tuple(cmds)),
        severity=reclaim_severity(size, snap.host),
        target="engine",
    )
