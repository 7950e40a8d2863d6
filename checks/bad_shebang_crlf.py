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

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.readings.common import q
from diagnose.evidence.readings.start_facts import (
    command_evidence,
    dockerfile_path,
    failure_facts,
    failure_for,
    override_commands,
    probe_evidence,
)
from diagnose.model.checks import check
from diagnose.model.findings import Finding, Remediation, Severity, fact

SLUG = "bad-shebang-crlf"


@check("D103", SLUG, severity=Severity.CRITICAL, requires=("inspect", "logs"))
def bad_shebang_crlf(c: ContainerEvidence) -> Iterator[Finding]:
    """Exec failure of a script whose shebang line ends in CR."""
    failure = failure_for(c, SLUG)
    if failure is None or failure[1] is None:
        return
    ed = failure[1]
    f = ed.facts(c)
    path = str(f.get("path") or ed.path)
    facts, evidence = failure_facts(c, failure)
    facts.append(fact("script", path))
    if f.get("shebang"):
        facts.append(fact("shebang line", repr(f["shebang"] + "\n")))
    clean = str(f.get("interpreter_clean") or "")
    if f.get("env_program"):
        who, missing = "env", str(f["env_program"]).rstrip("\r") + "\r"
    else:
        who, missing = "the kernel", str(f.get("interpreter_path") or clean + "\r")
    facts.append(fact(f"{who} looked for", repr(missing)))
    if f.get("interpreter_clean_exists") is False:
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
