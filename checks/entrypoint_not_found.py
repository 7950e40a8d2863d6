"""D101: The entrypoint does not exist in the container.

What went wrong
    runc looks the command (Entrypoint + Cmd, argv[0]) up before the container counts as
    started: a name without `/` is searched on the container's PATH, a path must exist.  When
    it is missing the start fails in the engine, which records the error in `State.Error`
    (status `created`, exit code 127; `docker run` exits 127):

        exec: "nosuchcmd": executable file not found in $PATH: unknown
        exec: "/app/run": stat /app/run: no such file or directory: unknown
        starting container process caused "exec: \"/bin/sh\": stat /bin/sh: ...": unknown
        Container command 'foo' not found or does not exist.            (Docker <= 1.11)

    The static entrypoint probe confirms it: entrypoint.json lists every PATH candidate it
    tried, and none exists.  Typical causes: a typo, a relative name whose directory is not on
    PATH, a file that was never COPY'd, arguments passed where the image expected a command,
    a shell-form CMD (`/bin/sh -c ...`) on an image without a shell (scratch, distroless), or a
    volume mounted over the directory that held it.

How to confirm by hand
    docker inspect -f '{{.State.Error}}' NAME
    docker inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' NAME
    docker run --rm -it --entrypoint sh IMAGE     # then: ls -l /app; echo $PATH

Look-alikes told apart
    `bad-shebang-crlf`, `shebang-interpreter-missing` and `missing-dynamic-loader` also say
    "no such file or directory", but at exec time (in the logs, exit 1 or 255, State.Error
    empty) for a file that *exists*.  A command that exists on PATH without execute permission
    also fails as "executable file not found in $PATH": the probe shows the file, and that is
    `entrypoint-not-executable`.

Fix
    Use the right absolute path or put its directory on PATH, install or COPY the program, use
    the exec form (`ENTRYPOINT ["/app/server"]`) on images without a shell, and don't mount a
    volume over the directory that holds the program.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from diagnose.api import (argv, command_evidence, entrypoint_evidence, failure_facts, failure_for,
                          image_ref, mount_over, override_commands, probe_evidence, probe_step, q,
                          quoted_command, Cause, check, ContainerEvidence, fact, Finding,
                          Remediation, Severity)

SLUG = Cause.ENTRYPOINT_NOT_FOUND


@check("D101", SLUG, severity=Severity.CRITICAL, requires=("inspect",))
def entrypoint_not_found(c: ContainerEvidence) -> Iterator[Finding]:
    """State.Error says the command was not found (or runc's exec found no file)."""
    failure = failure_for(c, SLUG)
    if failure is None:
        return
    sf, ed = failure
    probe = c.entrypoint
    command = (quoted_command(sf.error) if sf is not None else None) or (
        ed.path if ed is not None else "") or probe.argv0 or ""
    facts, evidence = failure_facts(c, failure)
    facts += [fact("command", command), fact("Entrypoint + Cmd", json.dumps(argv(c)))]
    evidence += command_evidence(c)
    hints = []
    if probe.candidates:
        tried = [str(cand.get("path")) for cand in probe.candidates]
        if "/" in command:
            facts.append(fact("in the container", f"{command} does not exist"))
        else:
            facts.append(fact("PATH searched", f"{probe.path_env} "
                              f"(from the {probe.path_source})"))
            facts.append(fact("candidates tried", f"{len(tried)}, none exists"))
            hints.append(f"`{command}` is not in any PATH directory: give its absolute path "
                         "or add its directory to PATH.")
        evidence.append(entrypoint_evidence(c, "/candidates"))
    elif probe.readable is False:
        facts.append(fact("static probe", "the container's filesystem could not be read"))
    shell_form = argv(c)[:2] in (["/bin/sh", "-c"], ["sh", "-c"])
    if shell_form and command in ("/bin/sh", "sh"):
        hints.append("The command is in shell form (`/bin/sh -c ...`) but the image has no "
                     "/bin/sh (scratch or distroless): write it in exec form, "
                     "e.g. ENTRYPOINT [\"/app/server\"].")
    hidden = mount_over(c, command)
    if hidden is not None:
        source = hidden.get("Name") or hidden.get("Source")
        facts.append(fact("hidden by a mount", f"{hidden.get('Destination')} is a "
                          f"{hidden.get('Type')} mount of {source}: it hides whatever the "
                          "image has there"))
        hints.append("A mount covers the program's directory (look-alike "
                     "volume-shadows-image-content): mount elsewhere, or only a subdirectory.")
    in_image = probe_step(c, "entrypoint.ls")
    if in_image is not None and in_image.get("exit_code") == 0:
        facts.append(fact("in the image", "present: the --probe throwaway (the image without "
                          "the container's mounts) lists it"))
        if hidden is None:
            hints.append("The image has the program but the container does not see it.")
    evidence += probe_evidence(c, "entrypoint")
    summary = " ".join(hints) or ("Point the entrypoint at a program that exists in the image "
                                  "(absolute path, or a directory on PATH), or install it.")
    commands = [f"docker inspect -f '{{{{json .Config.Entrypoint}}}} {{{{json .Config.Cmd}}}}' "
                f"{q(c.name)}",
                f"docker image history --no-trunc {q(image_ref(c))}",
                *override_commands(c, look_at=(command,))]
    yield Finding(
        title=f"the command {command!r} does not exist in the container",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(summary, tuple(commands)),
    )
