"""D301: The container is caught in a restart loop.

What went wrong
    A restart policy (`--restart always|unless-stopped|on-failure`) keeps starting a container
    whose main process keeps exiting.  `docker ps` shows `Restarting (1) 5 seconds ago`,
    `State.Status` is `restarting` (with `State.Running` still true: always test the status),
    `RestartCount` climbs, and the events repeat `start` / `die` (no `restart` event: that one
    is only for `docker restart`).  The engine waits 100 ms before the first restart and
    doubles the wait each time up to a minute, resetting after a run of 10 s or more.

    A restart loop is never a root cause by itself: this finding names the exit behind it
    (`app-exit-error`, `oom-killed`, `command-not-found`...), which is reported on its own
    and, being more severe or earlier in the tree, comes first in the verdict.  It also
    fires when an `on-failure:N` policy gave up after N restarts, or when a container that
    restarted several times is caught in the short window it is up.

How to confirm by hand
    docker inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' NAME
    docker inspect -f '{{json .HostConfig.RestartPolicy}}' NAME
    docker events --since 10m --filter container=NAME --filter event=die

Fix
    Fix the exit behind the loop (see the other finding).  To look at the container without
    it restarting under you: `docker update --restart=no NAME`, then read its logs (they
    concatenate every run: `docker logs --since 2m NAME`).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (event_attr, event_evidence, events_with, exit_meaning, explained_exit,
                          human_seconds, inspect_evidence, q, QUICK_SECONDS, uptime_seconds, Cause,
                          check, ContainerEvidence, fact, Finding, Remediation, Severity)

#: Restarts after which a container that is up right now still counts as looping.
LOOPING_RESTARTS = 3
#: ... when its current run started less than this long before collection.
RECENT_SECONDS = 60.0


def underlying(c: ContainerEvidence) -> str:
    """The slug of the check that explains each run's end (what the loop repeats)."""
    code = c.exit_code
    if c.status == "running":
        return "(the container is up right now: see the last `die` event's exit code)"
    if code:
        return explained_exit(c) or Cause.APP_EXIT_ERROR
    seconds = c.run_seconds()
    if seconds is not None and seconds < QUICK_SECONDS:
        return Cause.EXITED_IMMEDIATELY
    return "exit 0 (under `always`/`unless-stopped` even a finished job is restarted)"


@check("D301", "restart-loop", severity=Severity.WARNING, requires=("inspect",))
def restart_loop(c: ContainerEvidence) -> Iterator[Finding]:
    """Status restarting, an on-failure policy that gave up, or restarted and only just up."""
    restarts = int(c.inspect.get("RestartCount") or 0)
    policy = c.host_config.get("RestartPolicy") or {}
    name = str(policy.get("Name") or "no")
    retries = int(policy.get("MaximumRetryCount") or 0)
    uptime = uptime_seconds(c)
    if c.status == "restarting":
        now = "restarting: waiting out its back-off before the next start"
    elif (c.status == "exited" and name == "on-failure" and retries and restarts >= retries
          and c.exit_code):
        now = f"exited: the on-failure policy gave up after {restarts} restarts"
    elif (c.status == "running" and name != "no" and restarts >= LOOPING_RESTARTS
          and uptime is not None and uptime < RECENT_SECONDS):
        now = f"running, but only for {human_seconds(uptime)} after {restarts} restarts"
    else:
        return
    dies = events_with(c, "die")
    codes = [str(event_attr(e, "exitCode")) for _, e in dies[-6:]]
    cause = underlying(c)
    facts = [
        fact("status", now),
        fact("restart policy", name + (f":{retries}" if retries else "")),
        fact("RestartCount", restarts),
    ]
    if c.status != "running":
        facts += [fact("last exit code", exit_meaning(c.exit_code)),
                  fact("last run lasted", human_seconds(c.run_seconds()))]
    facts += [
        fact("underlying cause", cause),
        fact("die events held", f"{len(dies)} (exit codes {', '.join(codes)})" if dies
             else "none left in the engine's event ring"),
    ]
    evidence = [inspect_evidence(c, "/RestartCount"),
                inspect_evidence(c, "/HostConfig/RestartPolicy"),
                inspect_evidence(c, "/State/Status")]
    if c.status != "running":
        evidence.append(inspect_evidence(c, "/State/ExitCode"))
    evidence += event_evidence(c, dies[-3:])
    ends = (f"each run ends in exit {c.exit_code}: see {cause}" if c.status != "running"
            else "it keeps dying and being started again")
    n = q(c.name)
    yield Finding(
        title=f"restart loop: restarted {restarts} times under `--restart {name}`; {ends}",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Fix the exit behind the loop (the other finding); a restart policy only repeats "
            "it. To look at it without it restarting under you, turn the policy off first.",
            (f"docker update --restart=no {n}",
             f"docker logs --since 5m {n}",
             f"docker events --since 10m --filter container={n} --filter event=die"),
        ),
    )
