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

In a container run, and with --all
    A container being diagnosed is never listed for removal: its exit is the evidence.  A
    bundle of `diagnose CONTAINER` (also `--filter`, `--project`, `diagnose service`) holds
    only the engine's totals: this finding then gives the count and the writable layers'
    size, names no container, and points to `diagnose engine`, which lists them with the
    commands.  `diagnose --all` diagnoses every container, so every exited one is a target:
    the finding counts them and names them, but lists none for removal; read each one's
    findings first, then remove those you no longer need (`docker rm NAME`, plain rm keeps
    volumes).  Only `diagnose engine`, which diagnoses no container, lists them all with the
    `docker rm` commands.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from diagnose.api import (batched_commands, engine_evidence, exited_containers as counted, GiB,
                          human_bytes, listing, reclaim_severity, totals_finding, check, fact,
                          Finding, layout, Remediation, Severity, Snapshot)

MIN_COUNT = 10
MIN_BYTES = 1 * GiB


def _anonymous(name: str) -> bool:
    return len(name) == 64 and all(ch in "0123456789abcdef" for ch in name)


def _name(c: Mapping[str, Any]) -> str:
    return str((c.get("Names") or [str(c.get("Id"))[:12]])[0])


@check("D605", "exited-containers-piling-up", severity=Severity.INFO,
       requires=("engine-containers",), scope="run")
def exited_containers(snap: Snapshot) -> Iterator[Finding]:
    """Exited containers against the count and size thresholds."""
    e = counted(snap.engine)
    if e.count < MIN_COUNT and e.size < MIN_BYTES:
        return
    title = f"{e.count} exited containers piling up ({human_bytes(e.size)} in writable layers)"
    facts = [
        fact("exited containers", e.count),
        fact("writable layers", human_bytes(e.size) if e.sized
             else "unknown (docker system df missing)"),
        fact("threshold", f"{MIN_COUNT} containers or {human_bytes(MIN_BYTES)}"),
    ]
    severity = reclaim_severity(e.size, snap.host)
    if e.totals_only:
        yield totals_finding(layout.ENGINE_CONTAINERS, e, title, facts, "containers", severity)
        return
    # Never a target of this run: `diagnose --all` diagnoses every container there is.
    targets = {c.id for c in snap.containers}
    exited = [c for _, c in e.listed]
    removable = [_name(c) for c in exited if c.get("Id") not in targets]
    diagnosed = [_name(c) for c in exited if c.get("Id") in targets]
    with_anon = [_name(c) for c in exited if c.get("Id") not in targets
                 and any(_anonymous(str(m.get("Name") or "")) for m in c.get("Mounts") or ())]
    if removable:
        facts += [fact("containers", listing(removable)),
                  fact("of which with anonymous volumes", len(with_anon))]
    if diagnosed:
        facts.append(fact("diagnosed in this run (never listed for removal)",
                          listing(diagnosed)))
    ev = tuple(engine_evidence(layout.ENGINE_CONTAINERS, f"/exited/{i}",
                               f"{_name(c)} ({str(c.get('Id'))[:12]}) {c.get('Status')} "
                               f"image {c.get('Image')}")
               for i, c in e.listed[:10])
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=ev,
        remediation=_remedy(e.count, len(exited), removable, diagnosed, with_anon),
        severity=severity,
        target="engine",
    )


def _remedy(count: int, listed: int, removable: list[str], diagnosed: list[str],
            with_anon: list[str]) -> Remediation:
    cmds = batched_commands("docker rm", removable)
    summary = (f"Remove exactly these {len(removable)} exited containers; plain `docker rm` "
               "keeps their volumes." if removable else "")
    if with_anon:
        summary += (" WARNING: `docker rm -v` (last command) also DELETES the anonymous volumes "
                    f"of {len(with_anon)} of them; their data is lost (named volumes are kept).")
        cmds += batched_commands("docker rm -v", with_anon)
    if diagnosed:
        summary += (f" {len(diagnosed)} of them are diagnosed in this run and never listed "
                    "for removal: read their findings first (an exit is evidence; this bundle "
                    "keeps their inspect and logs), then remove each one you no longer need "
                    "with `docker rm NAME` (plain `rm` keeps its volumes), and run one-off "
                    "containers with `--rm`.")
        cmds.append("docker ps -a -f status=exited")
    if count > listed:
        summary += (f" {count - listed} more were not listed (the list is bounded): "
                    "`docker ps -a -f status=exited` shows them.")
    return Remediation(summary.strip(), tuple(cmds))
