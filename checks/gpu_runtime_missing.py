"""D114: The container asks for a GPU, but the engine has no GPU runtime.

What went wrong
    `docker run --gpus all` (Compose `deploy.resources.reservations.devices` with
    `capabilities: [gpu]`) puts a device request in `HostConfig.DeviceRequests`; the engine
    hands it to a device driver that the NVIDIA Container Toolkit registers.  Without the
    toolkit (or on a host without NVIDIA drivers) the start fails in the engine:
    `could not select device driver "" with capabilities: [[gpu]]` (status created, exit
    128); `--runtime nvidia` on an engine that does not know that runtime fails with `Unknown
    runtime specified nvidia` (`unknown or invalid runtime name: nvidia` on newer engines).
    A created container with a GPU request on such an engine has not failed yet, but will.

How to confirm by hand
    docker inspect -f '{{json .HostConfig.DeviceRequests}} {{.HostConfig.Runtime}}' NAME
    docker info -f '{{json .Runtimes}} {{.DefaultRuntime}}'     (is `nvidia` there?)
    nvidia-smi; nvidia-ctk --version                           (on the engine host)

Look-alikes told apart
    `start-failed` for `--device /dev/nvidia0` on a host without that device node (`error
    gathering device information while adding custom device`): a missing driver or device,
    not a missing runtime; an OCI hook that fails (`error running hook`) is the toolkit
    installed but broken, also `start-failed`.

Fix
    Install the NVIDIA driver and the NVIDIA Container Toolkit on the engine host, register it
    (`nvidia-ctk runtime configure --runtime=docker`) and restart the engine; or run the
    container on a GPU host, or without `--gpus` if it does not need one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from diagnose.api import (failure_facts, failure_for, inspect_evidence, layout, q, Cause, check,
                          ContainerEvidence, Evidence, fact, Finding, Remediation, Severity)

SLUG = Cause.GPU_RUNTIME_MISSING


def _gpu_requests(c: ContainerEvidence) -> list[Any]:
    return [r for r in c.host_config.get("DeviceRequests") or ()
            if isinstance(r, dict) and any("gpu" in caps for caps in r.get("Capabilities") or ())]


@check("D114", SLUG, severity=Severity.CRITICAL, requires=("inspect",))
def gpu_runtime_missing(c: ContainerEvidence) -> Iterator[Finding]:
    """State.Error: no device driver for the GPU request (or the nvidia runtime is unknown);
    or a created container with a GPU request on an engine that has no nvidia runtime."""
    failure = failure_for(c, SLUG)
    runtimes = sorted((c.engine.info.get("Runtimes") or {}).keys())
    requests = _gpu_requests(c)
    predicted = (failure is None and requests and c.status == "created"
                 and not c.ever_started and runtimes and "nvidia" not in runtimes)
    if (failure is None or failure[0] is None) and not predicted:
        return
    facts: list[tuple[str, str]] = []
    evidence: list[Evidence] = []
    if failure is not None:
        facts, evidence = failure_facts(c, failure)
    facts += [fact("GPU requests", "; ".join(
        f"count {'all' if r.get('Count') == -1 else r.get('Count')}, driver "
        f"{r.get('Driver') or '(any)'}" for r in requests) or "none (--runtime)"),
        fact("engine runtimes", ", ".join(runtimes) or "unknown"),
        fact("default runtime", str(c.engine.info.get("DefaultRuntime") or "?"))]
    evidence += [inspect_evidence(c, "/HostConfig/DeviceRequests"),
                 Evidence(file=layout.ENGINE_INFO, pointer="/Runtimes",
                          excerpt=", ".join(runtimes))]
    title = ("it asks for a GPU (--gpus) but the engine has no GPU runtime: " if predicted
             else "the engine could not give it a GPU: ")
    title += ("no `nvidia` runtime is registered (NVIDIA Container Toolkit missing)"
              if "nvidia" not in runtimes else "the NVIDIA runtime is registered but found no GPU")
    if predicted:
        title += "; it will fail when started"
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Install the NVIDIA driver and Container Toolkit on the engine host and register "
            "the runtime, or run the container without --gpus / on a GPU host.",
            ("docker info -f '{{json .Runtimes}}'",
             "nvidia-ctk runtime configure --runtime=docker && systemctl restart docker",
             f"docker inspect -f '{{{{json .HostConfig.DeviceRequests}}}}' {q(c.name)}"),
        ),
        severity=Severity.WARNING if predicted else None,
    )
