"""D106: The entrypoint is not something this machine can execute (exec format error).

What went wrong
    The kernel does not recognise the file as a program it can run (ENOEXEC):

        exec /usr/local/bin/docker-entrypoint.sh: exec format error     (runc >= 1.1, exit 1;
                                                                    exit 255 on runc >= 1.2)
        standard_init_linux.go:178: exec user process caused "exec format error"   (older)
        Cannot start container <id>: [8] System error: exec format error     (Docker <= 1.11)

    The static entrypoint probe read the file's first bytes and says which case it is:
    - an ELF built for another machine (aarch64 on an x86_64 engine, or the reverse; an image
      pulled for the wrong platform) and no binfmt/qemu emulation registered;
    - a script without a `#!` line, or with a UTF-8 byte order mark or blank line before it;
    - an empty or truncated file, or something else saved as the program (a Git LFS pointer,
      an HTML error page).

How to confirm by hand
    docker image inspect -f '{{.Os}}/{{.Architecture}}' IMAGE; docker info -f '{{.Architecture}}'
    docker cp NAME:/path/to/entrypoint - | tar -xOf - | head -c 64 | od -c

Look-alikes told apart
    `missing-dynamic-loader` (right machine, loader missing: "no such file or directory"),
    `bad-shebang-crlf` (a `#!` line that ends in CR: "no such file or directory").

Fix
    Use an image built for the engine's architecture (`--platform`, a multi-arch tag,
    `docker buildx build --platform linux/amd64,linux/arm64`); give scripts a shebang
    (`#!/bin/sh`) as their very first bytes, without a BOM; rebuild a truncated file.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (command_evidence, entrypoint_evidence, failure_facts, failure_for,
                          image_ref, override_commands, probe_evidence, ProbedFile, q, Cause, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)

SLUG = Cause.EXEC_FORMAT_ERROR


def reading(f: ProbedFile, engine_arch: str,
            image_arch: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(what the file is, how to fix it, facts) from the probe's file facts."""
    kind = f.kind
    head = f.head_hex or ""
    if kind == "elf":
        machine = f.machine or "?"
        elf_class = f.elf_class if f.elf_class is not None else "?"
        facts = [fact("ELF machine", f"{machine} ({elf_class})"),
                 fact("engine architecture", engine_arch or "unknown")]
        if image_arch:
            facts.append(fact("image architecture", image_arch))
        if f.runs_natively is False:
            return (f"an ELF program for {machine}, but the engine runs {engine_arch}",
                    "Use an image built for the engine's architecture (`docker pull "
                    "--platform`, a multi-arch tag, `docker buildx build --platform ...`); "
                    "emulation (binfmt/qemu) is only a stop-gap.", facts)
        return (f"an ELF program for {machine} that the kernel still rejects (truncated or "
                "corrupt?)", "Rebuild or re-copy the program; compare its size and checksum "
                "with the original.", facts)
    if f.bom:
        return ("a script whose `#!` line is preceded by a UTF-8 byte order mark",
                "Save the script without a BOM (the `#!` must be its very first two bytes).",
                [fact("first bytes", head)])
    if kind == "empty":
        return ("an empty file", "Rebuild: the file was truncated or never written.",
                [fact("size", f.size if f.size is not None else 0)])
    return ("not a program: no `#!` line and not an ELF file",
            "Add a shebang as the script's first line (e.g. `#!/bin/sh`), or run it through "
            "its interpreter (ENTRYPOINT [\"/bin/sh\", \"/path/script\"]).",
            [fact("first bytes", head)])


@check("D106", SLUG, severity=Severity.CRITICAL, requires=("inspect",))
def exec_format_error(c: ContainerEvidence) -> Iterator[Finding]:
    """exec format error: foreign ELF, script without shebang, BOM, empty or corrupt file."""
    failure = failure_for(c, SLUG)
    if failure is None:
        return
    _, ed = failure
    f = ed.facts(c) if ed is not None else c.entrypoint.file
    pointer = ed.probe_pointer if ed is not None else "/file"
    path = f.path or (ed.path if ed else "") or c.entrypoint.argv0 or ""
    facts, evidence = failure_facts(c, failure)
    facts.append(fact("program", path))
    image_arch = str(c.image.get("Architecture") or "")
    what, fix, more = reading(f, c.engine.architecture, image_arch) if f else (
        "not executable here (the file could not be read)", "See the override below.", [])
    facts += more
    evidence += command_evidence(c)
    if f and ed is None:
        evidence.append(entrypoint_evidence(c, pointer))
    evidence += probe_evidence(c, "arch", "entrypoint.first_line")
    yield Finding(
        title=f"{path} cannot be executed here: it is {what}",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(fix, (
            f"docker image inspect -f '{{{{.Os}}}}/{{{{.Architecture}}}}' {q(image_ref(c))}",
            f"docker cp {q(c.name + ':' + path)} - | tar -xOf - | head -c 64 | od -c",
            *override_commands(c, look_at=(path,)))),
    )
