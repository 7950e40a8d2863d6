"""D113: The engine could not start the container (a cause without its own check).

What went wrong
    The engine tried to start the container and failed, and the error is none of the causes
    with their own check (entrypoint, user, port, network, mounts, logging driver...).
    `State.Error` holds the engine's own words, status `created` (or `exited` when it ran
    before), exit code 128 (126/127 for runtime errors).  Examples:

        error gathering device information while adding custom device "/dev/x": no such
        file or directory                                                  (--device)
        error setting rlimits for ready process: error setting rlimit type 7: operation not
        permitted                                         (--ulimit above the daemon's limit)
        chdir to cwd ("/app") set in config.json failed: permission denied  (workdir-invalid)
        error running hook #0: error running hook: exit status 1, ...  (OCI hook, e.g. GPU)

    It also reports an exec-time failure (`exec /x: <errno>` in the logs, exit 1 or 255)
    whose cause the evidence cannot narrow down (e.g. the filesystem could not be probed).

How to confirm by hand
    docker inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}' NAME
    docker start NAME            # prints the same error

Fix
    Read the error: it names the option or file at fault (a device path, a ulimit, the
    working directory, a hook).  Correct that option and recreate the container.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (Category, essential_error, exec_diagnosis, Failure, failure_facts,
                          override_commands, q, START_CHECKED, start_failure, Unclaimed, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)

HINTS: dict[Category, str] = {
    Unclaimed.WORKDIR_INVALID: "the working directory is not usable (not a directory, or not "
                               "traversable by the container's user)",
    Unclaimed.HOOK_FAILED: "an OCI hook failed (GPU toolkit, a runtime hook)",
    Unclaimed.OTHER: "",
}


@check("D113", "start-failed", severity=Severity.CRITICAL, requires=("inspect",))
def start_failed(c: ContainerEvidence) -> Iterator[Finding]:
    """State.Error with no specific check, or an exec failure the probe cannot explain."""
    sf = start_failure(c)
    failure: Failure
    if sf is not None:
        if sf.category in START_CHECKED:
            return
        failure = (sf, None)
        detail = essential_error(sf.error)
    else:
        ed = exec_diagnosis(c)
        if ed is None or ed.cause != Unclaimed.EXEC_FAILED:
            return
        failure = (None, ed)
        detail = ed.line.text
    facts, evidence = failure_facts(c, failure)
    hint = HINTS.get(sf.category, "") if sf is not None else ""
    if hint:
        facts.append(fact("reading", hint))
    if sf is None:
        facts.append(fact("static probe", "could not read the filesystem"
                          if c.entrypoint.readable is False else "no explanation in the file's "
                          "facts (exists, executable, interpreter and loader present)"))
    yield Finding(
        title=f"the engine could not start it: {detail[:200]}",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "The error names the option or file at fault: correct it and recreate the "
            "container (`docker start` again only helps once the cause is gone).",
            (f"docker inspect -f '{{{{.State.Status}}}} {{{{.State.ExitCode}}}} "
             f"{{{{.State.Error}}}}' {q(c.name)}",
             f"docker start {q(c.name)}   # shows the error again",
             *override_commands(c)),
        ),
    )
