"""D206: A shell could not find a command (exit 127).

What went wrong
    The container started (State.Error is empty: its entrypoint exists), then a shell inside
    it, PID 1 `sh -c ...` or an entrypoint script, tried to run a command that is not in the
    image or not on its PATH, printed `sh: foo: not found` (busybox, `sh: 1: foo: not found`
    on dash, `bash: foo: command not found`, `script.sh: line 3: foo: command not found`) and
    exited 127.  Typical causes: a package not installed in the runtime stage of a multi-stage
    build, a tool that exists in the build image only, a typo, or a PATH set for another user.
    `$'\\r': command not found` means the script has Windows (CRLF) line endings.

How to confirm by hand
    docker logs --tail 20 NAME
    docker run --rm --entrypoint sh IMAGE -c 'command -v foo; echo $PATH'

Look-alikes told apart
    `entrypoint-not-found` (also 127, but the engine failed to start it: State.Error set),
    `missing-shared-library` (127 from the dynamic loader, not a shell).  When the missing
    "command" is a path that does exist in the image, busybox and dash print the same text for
    a file whose ELF loader or shebang interpreter is missing: check the file's first line or
    its loader (`missing-dynamic-loader`, `shebang-interpreter-missing`).

Fix
    Install the command in the image that runs (the final stage), call it by its full path,
    or fix the name; for `$'\\r'` convert the script to LF line endings.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (command_text, ended, exit_evidence, explained_exit, latest_run_lines,
                          log_evidence, LOG_PATTERNS, q, run_facts, Cause, check, ContainerEvidence,
                          fact, Finding, Remediation, Severity)


@check("D206", "command-not-found", severity=Severity.ERROR, requires=("inspect",))
def command_not_found(c: ContainerEvidence) -> Iterator[Finding]:
    """Exit 127 with a shell's `not found` line in the latest run's logs."""
    if not ended(c) or explained_exit(c) != Cause.COMMAND_NOT_FOUND:
        return
    pattern = LOG_PATTERNS[Cause.COMMAND_NOT_FOUND]
    lines = latest_run_lines(c)
    hits = [ln for ln in lines if pattern.search(ln.text)]
    if not hits:
        return
    m = pattern.search(hits[-1].text)
    missing = m.group("cmd") if m else "?"
    crlf = missing in ("$'\\r'", "\r")
    facts = run_facts(c) + [
        fact("missing command", missing),
        fact("shell said", hits[-1].text.strip()),
        fact("State.Error", "(empty: the entrypoint itself started)"),
        fact("PID 1 command", command_text(c)),
        fact("PATH", c.env.get("PATH", "(image default)")),
    ]
    if "/" in missing and not crlf:
        facts.append(fact("if the path exists in the image",
                          "busybox/dash print the same text when its ELF loader or shebang "
                          "interpreter is missing"))
    image = q(c.image_ref or "IMAGE")
    if crlf:
        title = "a shell script has Windows (CRLF) line endings: `$'\\r': command not found`"
        summary = "Convert the script to LF line endings (dos2unix, .gitattributes) and rebuild."
        probe = f"docker run --rm --entrypoint sh {image} -c 'grep -rl $(printf \"\\r\") /*.sh'"
    else:
        title = f"`{missing}`: command not found (exit 127 from a shell)"
        summary = (f"Install `{missing}` in the image that runs (the final build stage), call "
                   "it by its full path, or fix its name.")
        probe = (f"docker run --rm --entrypoint sh {image} -c "
                 + q(f"command -v {missing} || echo '{missing}: not on PATH'; echo PATH=$PATH"))
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(exit_evidence(c)[:1] + log_evidence(c, hits[-3:], 2)),
        remediation=Remediation(summary, (probe, f"docker logs --tail 20 {q(c.name)}")),
    )
