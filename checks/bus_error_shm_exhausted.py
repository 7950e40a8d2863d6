"""D210: Shared memory (/dev/shm) is too small: a bus error or a segment that did not fit.

What went wrong
    A container's `/dev/shm` is a tmpfs of 64 MiB unless `--shm-size` says otherwise.  Programs
    that share memory between processes put it there: PostgreSQL's parallel queries (dynamic
    shared memory segments `/PostgreSQL.N`), PyTorch DataLoader workers (`/torch_...`),
    Chromium, multiprocessing queues.  A program that maps more of it than fits dies of SIGBUS
    when it touches the pages that do not fit (exit 135 = 128 + 7, or a shell or a DataLoader
    reporting `Bus error`), or gets ENOSPC when it reserves them first: PostgreSQL's `could
    not resize shared memory segment "/PostgreSQL.3977435352" to 16777216 bytes: No space
    left on device` (the query fails, the server stays up).

    The `/PostgreSQL.N` path is a POSIX shared memory name, not a file on the data directory:
    this is not a full disk, and the engine's data root has nothing to do with it.

    An exit 135 with no message naming shared memory may also come from a memory-mapped file
    that was truncated under the program; the finding then says so (confidence medium).

How to confirm by hand
    docker inspect -f '{{.HostConfig.ShmSize}} {{.HostConfig.IpcMode}}' NAME
    docker exec NAME df -h /dev/shm                        (running: how full it is)
    docker logs NAME 2>&1 | grep -i -E 'bus error|shared memory|/dev/shm'

Look-alikes told apart
    `no-space-left`: a full tmpfs, volume or writable layer (a path that is not /dev/shm or a
    shared memory segment); `killed-by-signal`: a SIGBUS sent by `docker kill -s BUS`, or with
    a /dev/shm that is not the container's own small one (`--ipc host`, a large
    `--shm-size`); `segfault` (139).

Fix
    Give the container more shared memory: `docker run --shm-size 1g` (Compose `shm_size:
    1gb`, Kubernetes an `emptyDir` with `medium: Memory` on /dev/shm), or share the host's
    with `--ipc host`; PyTorch can use `torch.multiprocessing.set_sharing_strategy('file_system')`,
    Chromium `--disable-dev-shm-usage`, PostgreSQL a lower `max_parallel_workers_per_gather`
    or `work_mem`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from diagnose.api import (Confidence, ended, events_fact, exit_evidence, explained_exit, Hits,
                          hits_evidence, hits_facts, inspect_evidence, latest_run_lines,
                          lazy_compile, lifecycle_evidence,
                          log_severity, logs_command, names_shm, q, run_facts, scan_log,
                          shm_facts, Cause, check, ContainerEvidence, fact, Finding,
                          Remediation, Severity)

SLUG = Cause.BUS_ERROR_SHM_EXHAUSTED
_SHM_WORDS = lazy_compile(r"/dev/shm|shared memory", re.IGNORECASE)


def _who(text: str) -> str:
    if "/PostgreSQL." in text:
        return "PostgreSQL could not fit a dynamic shared memory segment (a parallel query)"
    if "/torch_" in text or "DataLoader" in text:
        return "a PyTorch DataLoader worker ran out of shared memory"
    if names_shm(text):
        return "a shared memory segment did not fit in /dev/shm"
    return "a process died of a bus error"


@check("D210", SLUG, severity=Severity.ERROR, requires=("inspect",))
def bus_error_shm_exhausted(c: ContainerEvidence) -> Iterator[Finding]:
    """Exit 135 with the default /dev/shm, or shared memory ENOSPC / `Bus error` in the logs."""
    by_exit = ended(c) and explained_exit(c) == SLUG
    hits: Hits | None = scan_log(c, SLUG) if c.has("logs") else None
    if not by_exit and hits is None:
        return
    shm = shm_facts(c)
    named = [ln for ln in (hits.lines if hits else ()) if names_shm(ln.text)]
    said = named[-1] if named else (hits.latest if hits else None)
    facts = run_facts(c) if by_exit else []
    facts.append(fact("/dev/shm", shm.describe()))
    if by_exit:
        facts += [fact("signal", "SIGBUS (bus error), sent by no Docker command"), events_fact(c)]
    if hits is not None:
        facts += hits_facts(hits)
    # A program that says it maps /dev/shm and then dies of SIGBUS leaves no doubt either.
    mentioned = by_exit and any(_SHM_WORDS.search(ln.text) for ln in latest_run_lines(c))
    confidence = Confidence.HIGH if named or mentioned else Confidence.MEDIUM
    if confidence != Confidence.HIGH:
        facts.append(fact("still possible", "a memory-mapped file truncated under the program "
                          "(no log line names /dev/shm or a shared memory segment); `docker "
                          "run --shm-size 1g` that makes the failure go away tells them apart"))
    evidence = [inspect_evidence(c, "/HostConfig/ShmSize", c.host_config.get("ShmSize")),
                inspect_evidence(c, "/HostConfig/IpcMode", c.host_config.get("IpcMode"))]
    if by_exit:
        evidence = exit_evidence(c) + evidence + lifecycle_evidence(c)
    if hits is not None:
        evidence += hits_evidence(c, hits)
    what = _who(said.text) if said is not None else "the process died of a bus error (SIGBUS)"
    title = f"{what}: /dev/shm is {shm.describe()}"
    image = q(c.image_ref or "IMAGE")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Give the container more shared memory (--shm-size, Compose shm_size) or share "
            "the host's (--ipc host); or make the program use less of it.",
            (f"docker run --shm-size 1g {image}",
             f"docker inspect -f '{{{{.HostConfig.ShmSize}}}} {{{{.HostConfig.IpcMode}}}}' "
             f"{q(c.name)}",
             logs_command(c)),
        ),
        severity=Severity.ERROR if by_exit else log_severity(c, hits) if hits else None,
        confidence=confidence,
    )
