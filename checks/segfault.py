"""D204: The main process crashed with a segmentation fault.

What went wrong
    Exit code 139 = 128 + 11 (SIGSEGV): the process touched memory it does not own and the
    kernel killed it, or a shell PID 1 reports that its child did (busybox and dash print
    `Segmentation fault` on stderr and exit 139).  Common causes: a bug in native code (C/C++
    extensions, JNI), a binary or library built for another libc or CPU (glibc binaries on
    musl, AVX on older CPUs), a stack overflow, an image for another architecture run under
    emulation (`qemu: uncaught target signal 11`), or corrupt files.

How to confirm by hand
    docker inspect -f '{{.State.ExitCode}} {{.Config.Image}}' NAME
    docker logs --tail 50 NAME
    docker run --rm --ulimit core=-1 --entrypoint sh IMAGE     (reproduce with core dumps)

Look-alikes told apart
    `killed-by-signal` when the events show a `docker kill -s SEGV` sent it (then nothing
    crashed); `aborted` when the log ends in an abort message (glibc `double free`, a failed
    assertion, `terminate called`, V8's heap limit): abort() as PID 1 exits 139 too;
    `oom-killed` and the SIGKILL checks (137).

Fix
    Get a backtrace (core dump with `--ulimit core=-1`, or run under gdb), then fix or
    upgrade the crashing code or library; use an image built for the engine's architecture
    and libc.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from diagnose.api import (command_text, decisive_lines, ended, events_fact, exit_evidence,
                          explained_exit, grep, latest_run_lines, lazy_compile, lifecycle_evidence,
                          kill_story, log_evidence, logs_command, q, run_facts, Sender, Cause,
                          check, Confidence, ContainerEvidence,
                          fact, Finding, Remediation, Severity)

SEGV_LINE = lazy_compile(r"Segmentation fault|SIGSEGV|segfault|signal 11\b|"
                         r"qemu: uncaught target signal 11", re.IGNORECASE)


@check("D204", "segfault", severity=Severity.ERROR, requires=("inspect",))
def segfault(c: ContainerEvidence) -> Iterator[Finding]:
    """Exit 139 (SIGSEGV) that no Docker command sent."""
    if not ended(c) or explained_exit(c) != Cause.SEGFAULT:
        return
    lines = latest_run_lines(c)
    said = grep(lines, SEGV_LINE)
    quoted = said[-3:] if said else decisive_lines(lines, 6)
    image_arch = str(c.image.get("Architecture") or "")
    engine_arch = c.engine.architecture
    facts = run_facts(c) + [
        fact("signal", "SIGSEGV (segmentation fault)"),
        fact("reported by", "a shell PID 1 (`Segmentation fault` in the log)" if said
             else "the kernel (no message: the process itself died of SIGSEGV)"),
        events_fact(c),
        fact("PID 1 command", command_text(c)),
    ]
    if image_arch:
        facts.append(fact("image architecture", f"{image_arch} (engine: {engine_arch or '?'})"))
    story = kill_story(c)
    confidence = Confidence.HIGH
    if story is not None and story.sender == Sender.UNKNOWN and not said:
        # No crash message and no events: a `docker kill -s SEGV` cannot be ruled out.
        confidence = Confidence.MEDIUM
        facts.append(fact("still possible", "`docker kill -s SEGV` (killed-by-signal): the "
                          "engine's events for it are gone and nothing in the log says it "
                          "crashed; shell history or the audit log tells them apart"))
    qemu = any("qemu" in ln.text.lower() for ln in said)
    evidence = exit_evidence(c) + lifecycle_evidence(c) + log_evidence(c, quoted, 2)
    title = "crashed with a segmentation fault (SIGSEGV)"
    if qemu:
        title += " under qemu emulation: the image is for another architecture"
    elif said:
        title += f": {said[-1].text.strip()[:120]}"
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Get a backtrace: rerun with core dumps enabled (or under gdb), then fix or "
            "upgrade the crashing code or native library; make sure the image matches the "
            "engine's architecture and libc.",
            (logs_command(c),
             f"docker run --rm -it --ulimit core=-1 --entrypoint sh {q(c.image_ref or 'IMAGE')}",
             f"docker image inspect -f '{{{{.Architecture}}}}' {q(c.image_ref or 'IMAGE')}"),
        ),
        confidence=confidence,
    )
