"""D105: The entrypoint is a dynamically linked program whose loader the image lacks.

What went wrong
    An ELF executable names its dynamic loader in its PT_INTERP header: glibc programs ask
    for `/lib64/ld-linux-x86-64.so.2` (or `/lib/ld-linux-aarch64.so.1`), musl programs for
    `/lib/ld-musl-x86_64.so.1`.  When that file is not in the image (a glibc binary on
    alpine, busybox or scratch; a CGO build copied into a static base), the kernel fails
    exec with ENOENT although the program itself exists:

        exec /app/server: no such file or directory        (runc >= 1.1, exit 1; 255 on >= 1.2)
        standard_init_linux.go:228: exec user process caused: no such file or directory
        /bin/sh: ./server: not found                       (busybox/dash shell form, exit 127)
        bash: ./server: cannot execute: required file not found            (bash >= 5.1)

    The static entrypoint probe read the ELF program headers through the archive endpoint
    and looked the PT_INTERP path up in the container: it is missing.  A script whose
    interpreter is such a program fails the same way and is reported here too.

How to confirm by hand
    docker cp NAME:/app/server - | tar -xOf - > /tmp/server && file /tmp/server
    docker run --rm -it --entrypoint sh IMAGE     # then: ls -l /lib64/ld-linux-x86-64.so.2

Look-alikes told apart
    `bad-shebang-crlf` and `shebang-interpreter-missing` (scripts, not ELF files),
    `exec-format-error` (ELF for another machine), `entrypoint-not-found` (the program itself
    is missing, at create time), `missing-shared-library` (the loader exists, a library does
    not: `error while loading shared libraries`, exit 127).

Fix
    Build a static binary (`CGO_ENABLED=0 go build`, `gcc -static`, Rust `--target
    x86_64-unknown-linux-musl`), or use a base image with the libc it was built for
    (debian-slim or distroless/base for glibc), or on alpine `apk add gcompat` as a stop-gap.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (command_evidence, exec_facts_for, override_commands, probe_evidence, q,
                          Cause, check, ContainerEvidence, fact, Finding, Remediation, Severity)

SLUG = Cause.MISSING_DYNAMIC_LOADER


def libc_of(loader: str) -> str:
    """Which C library a PT_INTERP path belongs to."""
    if "ld-musl" in loader:
        return "musl"
    if "ld-linux" in loader or loader.startswith("/lib64/ld"):
        return "glibc"
    if "ld-uClibc" in loader:
        return "uClibc"
    return "an unknown libc"


@check("D105", SLUG, severity=Severity.CRITICAL, requires=("inspect", "logs"))
def missing_dynamic_loader(c: ContainerEvidence) -> Iterator[Finding]:
    """Exec ENOENT for an ELF (or a script's ELF interpreter) whose PT_INTERP is missing."""
    found = exec_facts_for(c, SLUG, "program")
    if found is None:
        return
    f, path, facts, evidence = found.file, found.path, found.facts, found.evidence
    elf, program = f, path
    if f.kind == "script":
        elf = f.interpreter_file
        program = f"{path}'s interpreter {elf.real_path or elf.path}"
        facts.append(fact("via shebang", f"{f.shebang} (the interpreter is the ELF "
                          "program below)"))
    loader = elf.interpreter or ""
    elf_class = elf.elf_class if elf.elf_class is not None else "?"
    machine = elf.machine if elf.machine is not None else "?"
    facts += [
        fact("ELF", f"{elf_class} {machine}, "
             f"{'dynamically linked' if elf.static is False else 'linked ?'}"),
        fact("loader (PT_INTERP)", f"{loader} - {libc_of(loader)} - missing in the container"),
    ]
    evidence += command_evidence(c)
    evidence += probe_evidence(c, "entrypoint.loader", "entrypoint.loaders_present",
                               "shell_command.loader", "shell_command.loaders_present",
                               "os_release")
    yield Finding(
        title=f"{program} is a dynamically linked {libc_of(loader)} program and the image has "
              f"no {loader}",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Build it statically (CGO_ENABLED=0 go build; gcc -static; a musl target), or run "
            f"it on a base image with {libc_of(loader)} (debian-slim or distroless/base for "
            "glibc); on alpine `apk add gcompat` is a stop-gap for glibc programs.",
            (f"docker cp {q(c.name + ':' + path)} - | tar -xOf - > /tmp/entrypoint.bin "
             "&& file /tmp/entrypoint.bin",
             *override_commands(c, look_at=(path, loader))),
        ),
    )
