"""D510: Tasks of the Swarm service fail: they exit non-zero, or their container cannot start.

What went wrong
    Swarm runs a service as tasks, one container each.  When a task's container exits with a
    non-zero code (`task: non-zero exit (3)`), or the node cannot start it (`starting container
    failed: ...`), the task ends `failed` and the orchestrator starts a replacement after the
    restart delay, as long as the restart policy allows (`--restart-max-attempts`).  A service
    whose tasks keep failing never keeps its replicas running.  This finding counts the failed
    tasks the managers still keep (the task history is bounded: 5 per slot by default), lists
    their exit codes and nodes, and quotes the decisive lines the newest failed task printed
    (from the service logs, which carry each line's task): the final exception of a traceback,
    a Go panic, an `Error:` line, or its last words.

    Severity: error when the newest task of a slot failed (the service is failing now); a
    warning when only earlier tasks failed and the current ones run (it recovered, or flaps).

How to confirm by hand
    docker service ps --no-trunc NAME         # ERROR column: task: non-zero exit (N)
    docker service logs --tail 50 NAME
    docker inspect --format '{{.State.ExitCode}}' CONTAINER   # on the task's node

Look-alikes told apart
    Tasks rejected because the node cannot get the image are `image-unavailable`; tasks that
    stay pending because no node fits are `no-suitable-node`; tasks stuck because their nodes
    are down or drained are `node-down` (`task_kind` of diagnose.evidence.readings.swarm
    decides).  Tasks that completed with exit 0 or were shut down by an update or a
    scale-down are not failures.

Fix
    Read the quoted error and fix the application, its configuration or environment; then
    `docker service update --force NAME` starts fresh tasks.  If the failures began with an
    update, `docker service update --rollback NAME` returns to the previous spec.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (classify_start_error, counted, current_of, decisive_lines,
                          essential_error, exit_code_of, log_evidence, newest, q, task_evidence,
                          task_kind, tasks_of, check, fact, Finding, Remediation, ServiceEvidence,
                          Severity)


@check("D510", "task-failing", severity=Severity.ERROR, requires=("service", "tasks"),
       scope="service")
def task_failing(s: ServiceEvidence) -> Iterator[Finding]:
    """Tasks that exited non-zero or could not start, with exit codes and decisive lines."""
    failed = tasks_of(s, "exit", "start")
    if not failed:
        return
    now_failing = current_of(s, "exit", "start")
    latest = failed[0]
    codes = [c for c in (exit_code_of(t) for t in failed) if c is not None]
    lines = s.task_log(latest.id)
    decisive = decisive_lines(lines)
    said = decisive[-1].text.strip() if decisive else ""
    if task_kind(latest) == "exit":
        what = f"exited with code {exit_code_of(latest)}"
        what += f": {said}" if said else (" without printing anything" if s.has("logs")
                                          else "")
    else:
        what = f"could not start: {essential_error(latest.error)}"
    shown = what if len(what) <= 160 else what[:157] + "..."
    title = f"{len(failed)} task(s) of {s.name} failed; the newest {shown}"
    restart = (s.spec.get("TaskTemplate") or {}).get("RestartPolicy") or {}
    facts = [
        fact("failed tasks (kept by the managers)", len(failed)),
        fact("slots failing now", len(now_failing)),
        fact("exit codes", counted(codes) if codes else "none (containers did not start)"),
        fact("nodes", counted(s.hostname(t.node_id) for t in failed if t.node_id) or "-"),
        fact("newest failure", f"task {latest.id[:12]}, {latest.changed}: {latest.error}"),
        fact("restart policy", f"condition {restart.get('Condition', 'any')}, max attempts "
             f"{restart.get('MaxAttempts') or 'unlimited'}, delay "
             f"{_seconds(restart.get('Delay'))}"),
        *([fact("start error reads as", classify_start_error(latest.error))]
          if task_kind(latest) == "start" else []),
        fact("decisive lines", f"{len(decisive)} line(s) of task {latest.id[:12]}" if decisive
             else ("none: the service logs hold no line of that task" if s.has("logs")
                   else "logs not collected")),
    ]
    evidence = [task_evidence(s, t, "Status", "Err") for t in newest(failed)]
    evidence += log_evidence(s, decisive, 3)
    commands = [f"docker service ps --no-trunc {q(s.name)}",
                f"docker service logs --tail 50 {q(s.name)}"]
    if s.inspect.get("PreviousSpec"):
        commands.append(f"docker service update --rollback {q(s.name)}")
    commands.append(f"docker service update --force {q(s.name)}")
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Read the quoted error of the newest failed task and fix its cause (code, "
            "configuration, environment); then start fresh tasks with --force, or roll back "
            "if the failures began with an update.", tuple(commands)),
        severity=Severity.ERROR if now_failing else Severity.WARNING,
    )


def _seconds(nanos: object) -> str:
    return f"{nanos / 1e9:g}s" if isinstance(nanos, int) else "5s (default)"
