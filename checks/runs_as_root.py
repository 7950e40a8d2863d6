"""D705: The container's process runs as root.

What went wrong
    With no `USER` in the image and no `--user`, the process runs as uid 0.  On its own that
    is the everyday default (information): the container's root is still fenced in by
    namespaces, dropped capabilities and seccomp.  Combined with anything that removes those
    fences (`--privileged`, the engine socket mounted, the host's PID/network/IPC namespace,
    dangerous added capabilities) root in the container is root on the host: then it is a
    warning.  Under user-namespace remapping or a rootless engine, uid 0 in the container is
    an unprivileged uid on the host, and this stays information.

How to confirm by hand
    docker inspect -f 'user={{.Config.User}}' NAME
    docker top NAME -o uid,pid,cmd

Look-alikes told apart
    Images whose entrypoint starts as root and then drops privileges (gosu, su-exec, the
    postgres and redis images): when `docker top` shows no process running as root, nothing
    is reported.

Fix
    Run as an unprivileged user: `USER 10001` in the Dockerfile (owning only what it must
    write), or `--user 10001:10001` on `docker run`.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (host_risks, inspect_evidence, q, root_user, top_users, userns_remapped,
                          check, ContainerEvidence, Evidence, fact, Finding, layout, Remediation,
                          Severity)

_ROOT = ("root", "0")


@check("D705", "runs-as-root", severity=Severity.INFO, requires=("inspect",))
def runs_as_root(c: ContainerEvidence) -> Iterator[Finding]:
    """Config.User (and `docker top` when the container runs)."""
    if not root_user(c):
        return
    users = top_users(c)
    if users and not any(u in _ROOT for u in users):
        return  # started as root, dropped privileges: nothing runs as root now
    remapped = userns_remapped(c)
    risks = host_risks(c)
    user = str(c.config.get("User") or "")
    facts = [fact("Config.User", user or "(empty: the image default, root)")]
    ev = [inspect_evidence(c, "/Config/User", user or "(empty)")]
    if users is not None:
        facts.append(fact("processes as root (docker top)",
                          f"{sum(1 for u in users if u in _ROOT)} of {len(users)}"))
        ev.append(Evidence(file=c.path(layout.TOP), pointer="/Processes",
                           excerpt=", ".join(users[:10])))
    if remapped:
        facts.append(fact("user namespace", "remapped or rootless engine: uid 0 is not "
                          "host root"))
    if risks:
        facts.append(fact("combined with", ", ".join(risks)))
    severity = Severity.WARNING if risks and not remapped else Severity.INFO
    title = ("runs as root together with " + ", ".join(risks) + ": root on the host"
             if severity is Severity.WARNING else "runs as root (no USER in the image, no "
             "--user)" if not user else f"runs as root (User {user})")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(ev),
        remediation=Remediation(
            "Run as an unprivileged user: USER in the Dockerfile, or --user on docker run.",
            (f"docker top {q(c.name)} -o uid,pid,cmd",
             f"docker run --user 10001:10001 ... {q(c.image_ref)}"),
        ),
        severity=severity,
    )
