"""D609: The engine's container runtime is misconfigured: containers fail to start alike.

What went wrong
    Several containers fail to start with the same runtime or cgroup error, whatever their
    image or command: the fault is in the engine's setup, not in any of them.  Typical causes
    in `/etc/docker/daemon.json` or the engine's flags: a `default-runtime` whose binary does
    not exist (`fork/exec /usr/local/bin/crun: no such file or directory`), a runtime with
    wrong arguments (`did not terminate successfully: exit status 1`), runc told to use
    systemd cgroups while the engine uses cgroupfs (`expected cgroupsPath to be of format
    "slice:prefix:name" for systemd cgroups`), a runtime too old for the kernel or the cgroup
    version.  Every new container fails the same way (status created, exit 127 or 128), so
    it is reported once for the run, with the engine's runtime settings, next to each
    container's own `start-failed`.  One container whose error is the engine's default
    runtime failing (not plain runc) is reported as well: every plain `docker run` uses it.

How to confirm by hand
    docker info -f '{{.DefaultRuntime}} {{json .Runtimes}} {{.CgroupDriver}} {{.CgroupVersion}}'
    docker inspect -f '{{.HostConfig.Runtime}} {{.State.Error}}' NAME
    cat /etc/docker/daemon.json; journalctl -u docker --since -1h

Look-alikes told apart
    `start-failed` alone: one container with its own bad `--runtime`, a device or an OCI hook
    while others start; several containers failing with *different* errors (each its own
    cause); `gpu-runtime-missing` (a GPU request, not the runtime setup).

Fix
    Correct the runtime in daemon.json (its `path` and `runtimeArgs`, `default-runtime`, the
    `exec-opts native.cgroupdriver` that matches the host), restart the engine, then start
    the containers again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from diagnose.api import (ContainerEvidence, essential_error, inspect_evidence, lazy_compile,
                          layout, q, start_failure, Unclaimed, check, Evidence, fact, Finding,
                          Remediation, Severity, Snapshot)

#: A start error that comes from the runtime itself (not the image, the user or a mount).
_RUNTIME = lazy_compile(
    r"expected cgroupsPath|cgroup|fork/exec \S+: no such file or directory|"
    r"did not terminate successfully|unable to retrieve OCI runtime error|"
    r"runtime \S+ not found|exec: \S+: executable file not found|systemd", re.IGNORECASE)
_ID = lazy_compile(r"\b[0-9a-f]{12,64}\b")


def _key(c: ContainerEvidence) -> str | None:
    """The container's start error with ids masked, when it is a runtime error."""
    sf = start_failure(c)
    if sf is None or sf.category not in (Unclaimed.OTHER, Unclaimed.HOOK_FAILED):
        return None
    text = essential_error(sf.error)
    if not _RUNTIME.search(text):
        return None
    return _ID.sub("<id>", text)


@check("D609", "runtime-misconfigured", severity=Severity.CRITICAL, scope="run", requires=())
def runtime_misconfigured(snap: Snapshot) -> Iterator[Finding]:
    """Two or more containers failing to start with the same runtime error (or the engine's
    non-runc default runtime failing)."""
    groups: dict[str, list[ContainerEvidence]] = {}
    for c in snap.containers:
        key = _key(c)
        if key is not None:
            groups.setdefault(key, []).append(c)
    for error, members in groups.items():
        first = members[0]
        info = first.engine.info
        default = str(info.get("DefaultRuntime") or "")
        runtime = str(first.host_config.get("Runtime") or default)
        if len(members) < 2 and not (runtime == default and default not in ("", "runc")):
            continue
        yield _finding(error, members, default)


def _finding(error: str, members: list[ContainerEvidence], default: str) -> Finding:
    info = members[0].engine.info
    runtimes = info.get("Runtimes") or {}
    used = sorted({str(c.host_config.get("Runtime") or default) for c in members})
    described = [f"{name}: {spec.get('path', '?')} {' '.join(spec.get('runtimeArgs') or ())}"
                 .strip() for name, spec in runtimes.items() if name in used]
    names = [c.name for c in members]
    facts = [fact("containers", ", ".join(names)),
             fact("the same start error", error[:400]),
             fact("runtime used", ", ".join(used)),
             fact("engine default runtime", default or "?"),
             fact("engine cgroup driver", f"{info.get('CgroupDriver') or '?'} (cgroup v"
                  f"{info.get('CgroupVersion') or '?'})")]
    if described:
        facts.append(fact("runtime settings", "; ".join(described)))
    evidence = [Evidence(file=layout.ENGINE_INFO, pointer="/DefaultRuntime", excerpt=default)]
    evidence += [inspect_evidence(c, "/State/Error") for c in members[:10]]
    title = (f"the engine's runtime setup is broken: {len(members)} containers fail to start "
             f"with the same error ({', '.join(used)}): {error[:160]}")
    if len(members) == 1:
        title = (f"the engine's default runtime {default} fails: every plain `docker run` will "
                 f"fail like {members[0].name}: {error[:160]}")
    return Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Fix the runtime in the engine's configuration (daemon.json `runtimes`, "
            "`default-runtime`, the cgroup driver), restart the engine, then start the "
            "containers again.",
            ("docker info -f '{{.DefaultRuntime}} {{json .Runtimes}} {{.CgroupDriver}}'",
             "cat /etc/docker/daemon.json",
             f"docker start {' '.join(q(n) for n in names[:10])}   # after the fix"),
        ),
    )
