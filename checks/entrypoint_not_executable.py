"""D102: The entrypoint exists but cannot be executed.

What went wrong
    The command's file is there but the kernel refuses to run it.  At create time (runc
    checks the execute bits before the container counts as started) the engine records
    exit code 126 and status `created`:

        exec: "/docker-entrypoint.sh": permission denied: unknown
        exec: "/etc": is a directory: unknown: permission denied       (runc built with Go >= 1.20)
        caused "exec: \"/app/run.sh\": permission denied": unknown     (runc <= 1.0)

    A command named without `/` whose file sits on PATH with mode 0644 fails as
    `executable file not found in $PATH` instead (runc's lookup skips it); the static probe
    shows the file, so it is reported here.  At exec time (runc already said "started") the
    container logs `exec /x: permission denied` and exits 1 (255 on runc >= 1.2): the file's
    mode allows execution but its shebang interpreter is not executable, or it lives on a
    `noexec` mount, or an LSM (SELinux, AppArmor) refused.  A shell-form command prints
    `sh: /x: Permission denied` and exits 126.

How to confirm by hand
    docker inspect -f '{{.State.ExitCode}} {{.State.Error}}' NAME
    docker cp NAME:/path/to/entrypoint - | tar -tvf -      # the mode bits
    docker run --rm -it --entrypoint sh IMAGE              # then: ls -l /path/to/entrypoint

Look-alikes told apart
    `workdir-invalid` (`chdir to cwd ... permission denied`, also 126) is reported by
    `start-failed`; `entrypoint-not-found` when the probe finds no file at all.

Fix
    `RUN chmod +x /path/to/entrypoint` (or `COPY --chmod=755`), keep the execute bit in git
    (`git update-index --chmod=+x`), point the entrypoint at the program inside a directory,
    make a shebang interpreter executable, and don't run programs from `noexec` mounts.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (command_evidence, dockerfile_path, entrypoint_evidence, failure_facts,
                          failure_for, mount_over, override_commands, probe_evidence, ProbedCommand,
                          ProbedFile, q, quoted_command, Cause, check, ContainerEvidence, fact,
                          Finding, Remediation, Severity)

SLUG = Cause.ENTRYPOINT_NOT_EXECUTABLE


def _why(c: ContainerEvidence, f: ProbedFile, part: ProbedCommand,
         path: str) -> tuple[list[tuple[str, str]], str]:
    """Facts about the file and the one-line reason the kernel refused it."""
    facts = []
    if part.is_dir or f.is_dir:
        return [fact("file type", "directory")], f"{path} is a directory, not a program"
    if f:
        facts.append(fact("mode", f"{f.mode_octal} owner {f.owner}:{f.group}"))
    if f and not f.executable:
        return facts, f"{path} has no execute permission (mode {f.mode_octal})"
    interp = f.interpreter_file
    if interp.exists and interp.executable is False:
        facts.append(fact("interpreter", f"{interp.path} mode {interp.mode_octal}"))
        return facts, (f"its shebang interpreter {interp.path} has no execute permission "
                       f"(mode {interp.mode_octal})")
    mount = mount_over(c, path)
    if mount is not None:
        facts.append(fact("on a mount", f"{mount.get('Destination')} ({mount.get('Type')})"))
        return facts, (f"{path} is executable but lives on the {mount.get('Type')} mount "
                       f"{mount.get('Destination')}, which is probably mounted noexec")
    return facts, (f"{path} is executable (mode {f.mode_octal}), so a noexec mount or a "
                   "security module (SELinux, AppArmor) refused it")


@check("D102", SLUG, severity=Severity.CRITICAL, requires=("inspect",))
def entrypoint_not_executable(c: ContainerEvidence) -> Iterator[Finding]:
    """126 / permission denied / is a directory, at create or exec time."""
    failure = failure_for(c, SLUG)
    if failure is None:
        return
    sf, ed = failure
    probe = c.entrypoint
    part: ProbedCommand = probe
    pointer = "/file"
    if ed is not None and ed.via == "shell":
        part, pointer = probe.shell_command, "/shell_command/file"
    f = part.file
    path = (f.path or part.resolved or (quoted_command(sf.error) if sf else "")
            or (ed.path if ed else "") or probe.argv0 or "")
    facts, evidence = failure_facts(c, failure)
    facts.append(fact("command", path))
    more, reason = _why(c, f, part, path)
    facts += more
    if sf is not None and "executable file not found" in sf.error:
        facts.append(fact("why 'not found'", "runc's PATH lookup skips files without execute "
                          f"permission; the probe found {path}"))
    evidence += command_evidence(c)
    if f:
        evidence.append(entrypoint_evidence(c, pointer))
    evidence += probe_evidence(c, "entrypoint", "shell_command")
    interp = f.interpreter_file
    fix = [f"docker cp {q(c.name + ':' + path)} - | tar -tvf -"] if path else []
    if part.is_dir or f.is_dir:
        summary = "Point the entrypoint at the program inside that directory."
    elif f and not f.executable:
        summary = (f"Give it the execute bit in the image (Dockerfile: `RUN chmod +x "
                   f"{dockerfile_path(path)}`, or `COPY --chmod=755`) and keep the bit in git "
                   "(`git update-index --chmod=+x`).")
    elif interp.executable is False:
        summary = (f"Make the shebang interpreter executable (Dockerfile: `RUN chmod +x "
                   f"{dockerfile_path(str(interp.path))}`) or point the shebang at one "
                   "that is.")
    else:
        summary = ("Run the program from a filesystem mounted with exec, or check the security "
                   "module's audit log for a denial.")
        fix.append(f"docker inspect -f '{{{{json .Mounts}}}}' {q(c.name)}")
    yield Finding(
        title=f"the command {path!r} cannot be executed: {reason}",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(summary, (*fix, *override_commands(c, look_at=(path,)))),
    )
