"""D100: The image was built for another platform than the engine's.

What went wrong
    The image's architecture (`docker image inspect -f '{{.Architecture}}'`: arm64, amd64...)
    is not the engine's (`docker info` Architecture: x86_64, aarch64...).  Its programs are
    machine code for another CPU: started without an emulator they fail at once with `exec
    /app: exec format error` (exit 1 with runc 1.1, 255 with newer runc); with a qemu
    emulator registered in the host's binfmt_misc they run, slowly, and some crash under it
    (`qemu: uncaught target signal 11`).  Usual causes: an image built on an Apple Silicon or
    ARM machine and pushed without `--platform`, a single-architecture tag, `--platform` given
    to `docker pull` or `docker build` by mistake, a registry mirror that kept one
    architecture of a multi-arch tag.

    The engine warns when the container is created (`The requested image's platform
    (linux/arm64/v8) does not match the detected host platform (linux/amd64)`), but only in
    the create response: inspect, events and logs never show it, so this check compares the
    two architectures.  `exec-format-error` says why the binary cannot run; this says why the
    image was the wrong one.

How to confirm by hand
    docker image inspect -f '{{.Os}}/{{.Architecture}} {{.Variant}}' IMAGE
    docker info -f '{{.OSType}}/{{.Architecture}}'
    docker buildx imagetools inspect IMAGE        (the platforms a tag offers, in a registry)

Look-alikes told apart
    `exec-format-error` alone: a native image whose file is not a program (a script without
    `#!`, a CRLF line ending, a truncated binary); `segfault` under qemu is this check's
    business when the architectures differ.

Fix
    Pull or build the engine's platform: `docker pull --platform linux/amd64 IMAGE`, a
    multi-arch tag, `docker buildx build --platform linux/amd64,linux/arm64 --push`.  To run a
    foreign image on purpose, register an emulator (`docker run --privileged --rm
    tonistiigi/binfmt --install arm64`) and accept that it is slow.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (exec_diagnosis, inspect_evidence, platform_mismatch, q, Cause, check,
                          ContainerEvidence, Evidence, fact, Finding, layout, Remediation,
                          Severity)


def _failed(c: ContainerEvidence) -> bool:
    if exec_diagnosis(c) is not None:
        return True
    return c.ever_started and c.status in ("exited", "restarting", "dead") and bool(c.exit_code)


@check("D100", Cause.IMAGE_PLATFORM_MISMATCH, severity=Severity.CRITICAL,
       requires=("inspect",))
def image_platform_mismatch(c: ContainerEvidence) -> Iterator[Finding]:
    """The image's architecture is not the engine's."""
    mismatch = platform_mismatch(c)
    if mismatch is None:
        return
    failed = _failed(c)
    if failed:
        title = (f"the image is for {mismatch.image}, the engine runs {mismatch.engine}: its "
                 "programs cannot run here")
        severity = Severity.CRITICAL
    elif c.status in ("running", "paused"):
        title = (f"the image is for {mismatch.image}, the engine runs {mismatch.engine}: it runs "
                 "under an emulator (slow, and some programs crash under it)")
        severity = Severity.WARNING
    else:
        title = (f"the image is for {mismatch.image}, the engine runs {mismatch.engine}: it will "
                 "not run here unless an emulator is registered (binfmt_misc)")
        severity = Severity.WARNING
    ed = exec_diagnosis(c)
    facts = [fact("image platform", mismatch.image), fact("engine platform", mismatch.engine),
             fact("image", c.image_ref or "?"), fact("status", c.status)]
    if ed is not None and ed.line is not None:
        facts.append(fact("the run said", ed.line.text.strip()))
    evidence = [Evidence(file=c.path(layout.IMAGE_INSPECT), pointer="/Architecture",
                         excerpt=str(c.image.get("Architecture") or "")),
                Evidence(file=layout.ENGINE_INFO, pointer="/Architecture",
                         excerpt=c.engine.architecture),
                inspect_evidence(c, "/State/ExitCode")]
    engine_platform = mismatch.engine
    image = q(c.image_ref or "IMAGE")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Use the image built for the engine's platform (a multi-arch tag, or build it with "
            "--platform); register an emulator only to run a foreign image on purpose.",
            (f"docker image inspect -f '{{{{.Os}}}}/{{{{.Architecture}}}} {{{{.Variant}}}}' "
             f"{image}",
             f"docker pull --platform {engine_platform} {image}",
             f"docker buildx build --platform {engine_platform} -t {image} ."),
        ),
        severity=severity,
    )
