"""D207: A shared library the program needs is missing from the image (exit 127).

What went wrong
    The program is a dynamically linked ELF and its loader exists (otherwise exec itself
    fails: `missing-dynamic-loader`), but one of the libraries it needs (its DT_NEEDED
    entries) is not in the image or not on the loader's search path.  The loader prints
    `error while loading shared libraries: libX.so.N: cannot open shared object file: No such
    file or directory` (glibc) or `Error loading shared library libX.so.N: No such file or
    directory` / `Error relocating ...: symbol not found` (musl) and exits 127.  Typical
    causes: a multi-stage build that copies the binary but not its libraries, a runtime
    package not installed, a library installed under a directory `ldconfig` was not run for,
    or a binary built against another distribution's library versions.

How to confirm by hand
    docker logs --tail 20 NAME
    docker run --rm --entrypoint sh IMAGE -c 'ldd /path/to/binary'
    (without ldd: `/lib64/ld-linux-x86-64.so.2 --list /path/to/binary` with the glibc loader)

Look-alikes told apart
    `entrypoint-not-found` (127 set by the engine, State.Error set), `command-not-found` (127
    from a shell), `missing-dynamic-loader` (the loader itself missing: exec fails with
    `no such file or directory` and exit 1 or 255).

Fix
    Install the library's package in the final image (or copy the library with the binary in
    a multi-stage build), run `ldconfig` after installing into a non-standard directory, or
    build the binary statically.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (command_text, ended, exit_evidence, explained_exit, latest_run_lines,
                          lazy_compile, log_evidence, LOG_PATTERNS, q, run_facts, Cause, check,
                          ContainerEvidence, Evidence, fact, Finding, layout, Remediation, Severity)

_PROGRAM = lazy_compile(r"^(?P<prog>\S+?): error while loading shared libraries")
_NEEDED_BY = lazy_compile(r"\(needed by (?P<prog>[^)]+)\)")


@check("D207", "missing-shared-library", severity=Severity.ERROR, requires=("inspect",))
def missing_shared_library(c: ContainerEvidence) -> Iterator[Finding]:
    """Exit 127 with the dynamic loader's `cannot open shared object file` in the logs."""
    if not ended(c) or explained_exit(c) != Cause.MISSING_SHARED_LIBRARY:
        return
    pattern = LOG_PATTERNS[Cause.MISSING_SHARED_LIBRARY]
    hits = [ln for ln in latest_run_lines(c) if pattern.search(ln.text)]
    if not hits:
        return
    text = hits[-1].text.strip()
    m = pattern.search(text)
    lib = (m.group("lib") or m.group("lib2") or "") if m else ""
    pm = _PROGRAM.search(text) or _NEEDED_BY.search(text)
    program = pm.group("prog") if pm else ""
    probe = c.entrypoint
    f = probe.file
    facts = run_facts(c) + [
        fact("missing library", lib or "(symbol relocation failed)"),
        fact("program", program or "(not named)"),
        fact("loader said", text),
        fact("State.Error", "(empty: the engine started it; the loader failed inside)"),
        fact("PID 1 command", command_text(c)),
    ]
    evidence = exit_evidence(c)[:1] + log_evidence(c, hits[-3:], 2)
    loader = f.interpreter or ""
    if f.kind == "elf" and loader:
        facts.append(fact("ELF loader", f"{loader} (present: "
                          f"{'yes' if f.interpreter_exists else 'no'})"))
        evidence.append(Evidence(file=c.path(layout.ENTRYPOINT), pointer="/file/interpreter",
                                 excerpt=loader))
    image = q(c.image_ref or "IMAGE")
    target = program or probe.resolved or "/path/to/binary"
    lister = (f"{loader} --list {target}" if loader.startswith("/lib") and "ld-linux" in loader
              else f"ldd {target}")
    title = (f"`{program or 'the program'}` needs {lib}, which the image lacks" if lib
             else f"`{program or 'the program'}` failed to load its shared libraries")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            (f"Install the package that provides {lib or 'the library'} in the final image (or "
             "copy it with the binary in a multi-stage build), run `ldconfig` after installing "
             "into a non-standard directory, or link the binary statically."),
            (f"docker run --rm --entrypoint sh {image} -c {q(lister)}",
             f"docker logs --tail 20 {q(c.name)}"),
        ),
    )
