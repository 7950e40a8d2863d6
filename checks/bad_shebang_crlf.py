"""D103: The entrypoint script has Windows line endings (CRLF) in its shebang line.

What went wrong
    The script's first line is `#!/bin/sh\r\n`: the kernel takes everything up to the LF as
    the interpreter, so it looks for a program literally named `/bin/sh\r`, which does not
    exist.  runc has already reported the container started, so the failure is in the logs,
    not in State.Error:

        exec /usr/local/bin/docker-entrypoint.sh: no such file or directory   (runc >= 1.1,
                                                                exit 1; exit 255 on runc >= 1.2)
        standard_init_linux.go:228: exec user process caused: no such file or directory
        /usr/bin/env: 'bash\r': No such file or directory     (`#!/usr/bin/env bash`, exit 127)
        env: can't execute 'sh\r': No such file or directory  (busybox env, exit 127)
        bash: /app/x.sh: /bin/bash^M: bad interpreter: ...     (shell-form command, exit 126)

    The static entrypoint probe read the script's first bytes through the archive endpoint
    and found the CR (0x0D) before the LF; nothing was run.  The file usually came from a
    Windows checkout (git `core.autocrlf=true`).

How to confirm by hand
    docker cp NAME:/path/to/script.sh - | tar -xOf - | head -n 1 | od -c    # ends in \\r \\n

Look-alikes told apart
    `entrypoint-not-found` (the file itself is missing: create-time, State.Error, exit 127),
    `shebang-interpreter-missing` (the interpreter is missing even without a CR),
    `missing-dynamic-loader` (an ELF binary, not a script).

Fix
    Convert the script to LF and rebuild: `dos2unix script.sh`, or in the Dockerfile
    `RUN sed -i 's/\\r$//' /path/to/script.sh`; prevent it with a `.gitattributes` line
    `*.sh text eol=lf` (or `git config core.autocrlf input`).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (command_evidence, dockerfile_path, exec_facts_for, override_commands,
                          probe_evidence, q, Cause, check, ContainerEvidence, fact, Finding,
                          Remediation, Severity)

SLUG = Cause.BAD_SHEBANG_CRLF


@check("D103", SLUG, severity=Severity.CRITICAL, requires=("inspect", "logs"))
def bad_shebang_crlf(c: ContainerEvidence) -> Iterator[Finding]:
    """Exec failure of a script whose shebang line ends in CR."""
    found = exec_facts_for(c, SLUG, "script")
    if found is None:
        return
    f, path, facts, evidence = found.file, found.path, found.facts, found.evidence
    if f.shebang:
        facts.append(fact("shebang line", repr(f.shebang + "\n")))
    clean = f.interpreter_clean or ""
    if f.env_program:
        who, missing = "env", f.env_program.rstrip("\r") + "\r"
    else:
        who, missing = "the kernel", f.interpreter_path or clean + "\r"
    facts.append(fact(f"{who} looked for", repr(missing)))
    if f.interpreter_clean_exists is False:
        facts.append(fact("without the CR", f"{clean} does not exist either: install it too "
                          "(see shebang-interpreter-missing)"))
    evidence += command_evidence(c)
    evidence += probe_evidence(c, "entrypoint.first_line", "shell_command.first_line")
    target = dockerfile_path(path)
    yield Finding(
        title=f"{path} has a CRLF shebang line: {who} looks for {missing!r}, which does not "
              "exist",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            f"Convert the script to LF line endings and rebuild (Dockerfile: `RUN sed -i "
            f"'s/\\r$//' {target}`, or `dos2unix` before the build); stop git from adding CRs "
            "with a `.gitattributes` line `*.sh text eol=lf`.",
            (f"docker cp {q(c.name + ':' + path)} - | tar -xOf - | head -n 1 | od -c",
             *override_commands(c, look_at=(path,))),
        ),
    )
