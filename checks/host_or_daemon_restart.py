"""D211: The container ended because the engine or the host went down.

What went wrong
    The container was running when the Docker engine stopped or crashed, or the host shut
    down or lost power, and it has no restart policy, so it stayed down when the engine came
    back.  What is left looks like an application failure unless the times are compared:

    - graceful engine stop (`systemctl stop docker`, a host shutdown): the engine stops every
      container with its stop timeout; exit 137 (PID 1 ignored SIGTERM) or 143, `FinishedAt`
      shortly before the engine started again, and no events (they do not survive a restart);
    - engine and containerd killed, or a power loss: the new engine finds the container dead
      and records exit **255** with `FinishedAt` at its own start;
    - dockerd alone crashed: the new engine stops the surviving container itself (137/143,
      `FinishedAt` just after its start, `kill` events that look like `docker stop`).

    `State.Error` is empty in all three.  The Engine API does not give the engine's start time:
    diagnose reads the local dockerd's from the host (engine/process.json), so this check
    needs a local engine or a bundle of one.  For the graceful stop, a `docker stop` or
    `docker kill` shortly before the engine went down cannot be ruled out once the events are
    gone: the finding says so (confidence medium).

How to confirm by hand
    docker inspect -f '{{.State.ExitCode}} {{.State.FinishedAt}}' NAME
    docker inspect -f '{{.HostConfig.RestartPolicy.Name}}' NAME
    systemctl show docker -p ActiveEnterTimestamp; uptime -s
    journalctl -u docker --since -1d | grep -E 'Starting|Stopping|Processing signal'

Look-alikes told apart
    `app-exit-error`: a program that exits 255 itself (its FinishedAt is before the engine's
    start); `killed-after-stop-timeout` and `killed-by-signal`: a stop or kill while the engine
    ran; `oom-killed`.

Fix
    Give the container a restart policy so that it comes back with the engine (`docker update
    --restart unless-stopped NAME`, Compose `restart: unless-stopped`), start it now, and find
    out why the engine or host went down (its log, the host's journal).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (Confidence, engine_restart, epoch_stamp, events_fact, exit_evidence,
                          explained_exit, inspect_evidence, layout, q, run_facts, Cause, check,
                          ContainerEvidence, Evidence, fact, Finding, Remediation, Severity)

SLUG = Cause.HOST_OR_DAEMON_RESTART

_HOW = {
    "crash": "the engine and its containers were killed (an engine crash or a power loss): "
             "the new engine found it dead and recorded 255 at its start",
    "restore": "the engine restarted and stopped it while restoring (dockerd alone crashed)",
    "shutdown": "the engine stopped it when it went down (an engine stop or a host shutdown)",
}


@check("D211", SLUG, severity=Severity.ERROR, requires=("inspect",))
def host_or_daemon_restart(c: ContainerEvidence) -> Iterator[Finding]:
    """Exit 255/137/143 with no error, ended when the engine went down (its start time)."""
    if explained_exit(c) != SLUG:
        return
    restart = engine_restart(c)
    if restart is None:
        return
    when = (f"{abs(restart.gap):.1f} s {'after' if restart.gap >= 0 else 'before'} the "
            "engine started")
    facts = run_facts(c) + [
        fact("what happened", _HOW[restart.how]),
        fact("engine started", epoch_stamp(restart.engine_started)),
        fact("ended", when),
        fact("restart policy", str((c.host_config.get("RestartPolicy") or {}).get("Name")
                                   or "no")),
        events_fact(c)]
    confidence = Confidence.HIGH
    if restart.how == "shutdown":
        confidence = Confidence.MEDIUM
        facts.append(fact("still possible", "a `docker stop` or `docker kill` shortly before "
                          "the engine went down (the events did not survive the restart); the "
                          "engine's log (journalctl -u docker) at FinishedAt tells them apart"))
    title = (f"ended when the engine went down and came back ({when}): {_HOW[restart.how]}; "
             "no restart policy brought it back")
    n = q(c.name)
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(exit_evidence(c) + [
            inspect_evidence(c, "/State/FinishedAt"), inspect_evidence(c, "/State/Error"),
            inspect_evidence(c, "/HostConfig/RestartPolicy"),
            Evidence(file=layout.ENGINE_PROCESS, pointer="/started_at",
                     excerpt=epoch_stamp(restart.engine_started))]),
        remediation=Remediation(
            "Start it again and give it a restart policy so that it comes back with the "
            "engine; find out why the engine or the host went down.",
            (f"docker start {n}", f"docker update --restart unless-stopped {n}",
             "journalctl -u docker --since -1d | grep -E 'Starting|Stopping|signal'"),
        ),
        confidence=confidence,
    )
