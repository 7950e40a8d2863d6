"""D107: The container's user (or group) does not exist in the image.

What went wrong
    `--user appuser` (or `USER appuser` in the Dockerfile, or compose `user:`) names a user
    that the image's `/etc/passwd` does not have (or a group missing from `/etc/group`).  The
    engine resolves names before starting the process, fails, and leaves the container in
    `created` with exit code 128 (`docker run` exits 125):

        unable to find user appuser: no matching entries in passwd file
        unable to find group staff: no matching entries in group file
        linux spec user: unable to find user appuser: no matching entries in passwd file
                                                                      (Docker <= 18.09)

    The static entrypoint probe read the image's /etc/passwd (and /etc/group) through the
    archive endpoint and did not find the name.  If even `root` is "not found", the image's
    filesystem itself is broken (overlay corruption, an empty rootfs).

How to confirm by hand
    docker inspect -f '{{.Config.User}} {{.State.Error}}' NAME
    docker cp NAME:/etc/passwd - | tar -xOf - | cut -d: -f1,3,4

Look-alikes told apart
    `volume-permission-denied` (the user exists but lacks rights to a path: the container
    starts and logs `Permission denied`).

Fix
    Use a numeric `uid:gid` (always works, also on scratch images), or create the user in the
    image (`RUN adduser -D -u 10001 appuser` on alpine/busybox, `useradd` on debian).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (entrypoint_evidence, failure_facts, failure_for, image_ref,
                          inspect_evidence, lazy_compile, override_commands, probe_evidence, q,
                          Cause, check, ContainerEvidence, fact, Finding, Remediation, Severity)

SLUG = Cause.INVALID_USER
MISSING = lazy_compile(r"unable to find (?P<what>user|group) (?P<name>[^:]+):")


@check("D107", SLUG, severity=Severity.CRITICAL, requires=("inspect",))
def invalid_user(c: ContainerEvidence) -> Iterator[Finding]:
    """State.Error says the user or group is not in the image's passwd/group file."""
    failure = failure_for(c, SLUG)
    if failure is None or failure[0] is None:
        return
    sf = failure[0]
    m = MISSING.search(sf.error)
    what, name = (m.group("what"), m.group("name")) if m else ("user", "")
    user = str(c.config.get("User") or "")
    db = "/etc/passwd" if what == "user" else "/etc/group"
    facts, evidence = failure_facts(c, failure)
    facts.append(fact("Config.User", user or "(empty)"))
    probed = c.entrypoint.user
    if what == "user" and probed.get("users_file_exists") is False:
        facts.append(fact("user database", "the image has no /etc/passwd: only numeric users "
                          "work"))
    elif what == "user" and probed.get("found") is False:
        facts.append(fact("user database", f"/etc/passwd has {probed.get('users_in_file', '?')}"
                          f" entries, none named {name!r}"))
    elif what == "group" and probed.get("group_found") is False:
        facts.append(fact("group database", f"/etc/group has no group named {name!r}"))
    if name == "root":
        facts.append(fact("note", "even root is missing: the image's filesystem looks broken"))
    evidence.append(inspect_evidence(c, "/Config/User"))
    if probed:
        evidence.append(entrypoint_evidence(
            c, "/user/found" if what == "user" else "/user/group_found"))
    evidence += probe_evidence(c, "id")
    yield Finding(
        title=f"the {what} {name!r} does not exist in the image",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Run as a numeric uid:gid, or create the user in the image (Dockerfile: "
            f"`RUN adduser -D -u 10001 {name or 'appuser'}` on alpine/busybox, `useradd` on "
            "debian) and rebuild." if what == "user" else
            "Use a numeric gid, or create the group in the image (Dockerfile: "
            f"`RUN addgroup -g 10001 {name}` on alpine/busybox, `groupadd` on debian).",
            (f"docker cp {q(c.name + ':' + db)} - | tar -xOf - | cut -d: -f1,3",
             f"docker run --user 10001:10001 {q(image_ref(c))}",
             *override_commands(c, with_user=False, look_at=(db,))),
        ),
    )
