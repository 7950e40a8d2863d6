"""D104: The entrypoint script's shebang interpreter does not exist in the image.

What went wrong
    The script starts with `#!/bin/bash` (or `#!/usr/bin/python3`, ...) but the image has no
    such program: typical for `#!/bin/bash` on alpine or busybox images, which only have
    `/bin/sh`.  The kernel cannot start the interpreter, so exec fails with ENOENT for a file
    that exists:

        exec /docker-entrypoint.sh: no such file or directory           (runc >= 1.1, exit 1;
                                                                    exit 255 on runc >= 1.2)
        standard_init_linux.go:211: exec user process caused "no such file or directory"
        /usr/bin/env: 'python3': No such file or directory   (`#!/usr/bin/env python3`, exit 127)
        env: can't execute 'python3': No such file or directory        (busybox env)

    The static entrypoint probe read the shebang line and looked the interpreter up in the
    container (and, for `#!/usr/bin/env PROG`, PROG on the container's PATH): it is missing.

How to confirm by hand
    docker cp NAME:/path/to/script.sh - | tar -xOf - | head -n 1
    docker run --rm -it --entrypoint sh IMAGE      # then: ls -l /bin/bash

Look-alikes told apart
    `bad-shebang-crlf` (the line ends in CR: the interpreter exists, its name with `\\r` does
    not), `entrypoint-not-found` (the script itself is missing, at create time),
    `missing-dynamic-loader` (the interpreter exists but its ELF loader does not).

Fix
    Install the interpreter in the image (`apk add --no-cache bash`, `apt-get install -y
    python3`), or change the shebang to one the image has (`#!/bin/sh` for POSIX scripts).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (command_evidence, exec_facts_for, override_commands, probe_evidence, q,
                          Cause, check, ContainerEvidence, fact, Finding, Remediation, Severity)

SLUG = Cause.SHEBANG_INTERPRETER_MISSING


@check("D104", SLUG, severity=Severity.CRITICAL, requires=("inspect", "logs"))
def shebang_interpreter_missing(c: ContainerEvidence) -> Iterator[Finding]:
    """Exec failure of a script whose `#!` interpreter (or env's program) is missing."""
    found = exec_facts_for(c, SLUG, "script")
    if found is None:
        return
    f, path, facts, evidence = found.file, found.path, found.facts, found.evidence
    if f.shebang:
        facts.append(fact("shebang line", f.shebang))
    if f.interpreter_exists is False:
        missing = f.interpreter_path or ""
        facts.append(fact("interpreter", f"{missing} does not exist in the container"))
    else:
        missing = f.env_program or ""
        facts.append(fact("env program", f"{missing} is not on the container's PATH "
                          f"({c.entrypoint.path_env})"))
    evidence += command_evidence(c)
    evidence += probe_evidence(c, "entrypoint.interpreter", "entrypoint.env_program",
                               "shell_command.interpreter", "shell_command.env_program",
                               "os_release")
    name = missing.rsplit("/", 1)[-1]
    yield Finding(
        title=f"{path} needs the interpreter {missing!r}, which the image does not have",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            f"Install {name} in the image (alpine: `RUN apk add --no-cache {name}`; debian: "
            f"`RUN apt-get update && apt-get install -y {name}`), or change the shebang to an "
            "interpreter the image has (`#!/bin/sh` for POSIX scripts).",
            (f"docker cp {q(c.name + ':' + path)} - | tar -xOf - | head -n 1",
             *override_commands(c, look_at=(path,))),
        ),
    )
