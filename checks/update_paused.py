"""D514: The service's rolling update paused on a failure, or was rolled back.

What went wrong
    `docker service update` replaces tasks a few at a time (`--update-parallelism`) and
    watches each new one for `--update-monitor`.  When new tasks fail more than
    `--update-max-failure-ratio` allows, the update does what `--update-failure-action` says:
    `pause` (the default) stops half-way, some tasks on the new spec and some on the old, and
    waits for a person; `rollback` returns every task to the previous spec.  The service's
    UpdateStatus records it: State `paused` or `rollback_paused` (stuck), `rollback_started` or
    `rollback_completed` (the new spec failed), with a message naming the task that failed.
    This finding quotes that status, the failure policy, what the update changed (image,
    command, environment names) and the failed task it names.

    Severity: error while paused; a warning for a rollback after a failure; information for a
    rollback someone asked for (`manually requested rollback`).

How to confirm by hand
    docker service inspect --format '{{json .UpdateStatus}}' NAME
    docker service inspect --format '{{json .Spec.UpdateConfig}}' NAME
    docker service ps --no-trunc NAME

Look-alikes told apart
    `updating` (in progress) and `completed` are not failures and are not reported; the new
    tasks' own failure is `task-failing`, reported alongside.

Fix
    Look at why the new tasks failed (`task-failing`), then either go back
    (`docker service update --rollback NAME`) or fix the spec and update again (a new
    `docker service update` with the fix resumes a paused update).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from diagnose.api import (q, spec_evidence, task_evidence, check, Evidence, fact, Finding,
                          Remediation, ServiceEvidence, Severity)

STUCK = ("paused", "rollback_paused")
ROLLED_BACK = ("rollback_started", "rollback_completed")


@check("D514", "update-paused", severity=Severity.ERROR, requires=("service",),
       scope="service")
def update_paused(s: ServiceEvidence) -> Iterator[Finding]:
    """UpdateStatus paused, rollback_paused or rollback_*, with its message."""
    st = s.update_status
    state = str(st.get("State") or "")
    if state not in STUCK + ROLLED_BACK:
        return
    message = str(st.get("Message") or "")
    manual = "manually requested" in message.lower()
    severity = (Severity.ERROR if state in STUCK
                else Severity.INFO if manual else Severity.WARNING)
    rollback = state.startswith("rollback")
    cfg = s.spec.get("RollbackConfig" if state == "rollback_paused" else "UpdateConfig") or {}
    facts = [
        fact("update state", state),
        fact("message", message or "(none)"),
        fact("started", st.get("StartedAt", "")),
    ]
    if st.get("CompletedAt"):
        facts.append(fact("completed", st["CompletedAt"]))
    facts.append(fact("failure action", f"{cfg.get('FailureAction', 'pause')} (parallelism "
                      f"{cfg.get('Parallelism', 1)}, monitor {_seconds(cfg.get('Monitor'))}, "
                      f"max failure ratio {cfg.get('MaxFailureRatio', 0)}, order "
                      f"{cfg.get('Order', 'stop-first')})"))
    changes = spec_changes(s.inspect.get("PreviousSpec") or {}, s.spec)
    if changes:
        facts.append(fact("what the update changed", "; ".join(changes)))
    evidence = [spec_evidence(s, "/UpdateStatus/State", state)]
    if message:
        evidence.append(spec_evidence(s, "/UpdateStatus/Message", message))
    named_facts, named_evidence = _task_named(s, message)
    facts += named_facts
    evidence += named_evidence
    commands = [f"docker service inspect --format '{{{{json .UpdateStatus}}}}' {q(s.name)}",
                f"docker service ps --no-trunc {q(s.name)}",
                f"docker service logs --tail 50 {q(s.name)}"]
    if rollback:
        # What was tried and given up on: the spec the rollback left.
        commands.append(f"docker service inspect --format '{{{{json .PreviousSpec}}}}' "
                        f"{q(s.name)}")
    else:
        commands.append(f"docker service update --rollback {q(s.name)}")
    if state in STUCK:
        title = (f"the update of {s.name} is {state.replace('_', ' ')}"
                 + (f": {message}" if message else ""))
    else:
        title = (f"the update of {s.name} was rolled back ({state.replace('_', ' ')})"
                 + (f": {message}" if message else ""))
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Find out why the new tasks failed (see task-failing), then roll back, or update "
            "again with a fixed spec (an update with the fix resumes a paused one).",
            tuple(commands)),
        severity=severity,
    )


def _task_named(s: ServiceEvidence, message: str
                ) -> tuple[list[tuple[str, str]], list[Evidence]]:
    """The task the update's message names (`task abc123...`), if any: facts and evidence."""
    m = re.search(r"task ([a-z0-9]{6,})", message)
    named = s.task(m.group(1)) if m else None
    if named is not None:
        return ([fact("task named", f"{named.id[:12]}: {named.state}"
                      + (f": {named.error}" if named.error else ""))],
                [task_evidence(s, named, "Status")])
    if m:
        return [fact("task named", f"{m.group(1)[:12]}: no longer kept by the managers "
                     "(task history is bounded)")], []
    return [], []


def spec_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between the previous and the current spec, in the fields a failed update
    usually comes from (values of environment variables are never shown, only names)."""
    def cs(spec: Mapping[str, Any]) -> Mapping[str, Any]:
        return (spec.get("TaskTemplate") or {}).get("ContainerSpec") or {}

    if not old:
        return []
    a, b = cs(old), cs(new)
    out = []
    for key in ("Image", "Command", "Args", "User", "Dir"):
        if a.get(key) != b.get(key):
            out.append(f"{key}: {_show(a.get(key))} -> {_show(b.get(key))}")
    names_a = {str(e).partition("=")[0] for e in a.get("Env") or ()}
    names_b = {str(e).partition("=")[0] for e in b.get("Env") or ()}
    if (a.get("Env") or []) != (b.get("Env") or []):
        added, removed = sorted(names_b - names_a), sorted(names_a - names_b)
        changed = "environment changed" + (f" (added {', '.join(added)})" if added else "") + (
            f" (removed {', '.join(removed)})" if removed else "")
        out.append(changed)
    return out


def _show(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, list):
        return " ".join(str(v) for v in value) or "(empty)"
    return str(value)


def _seconds(nanos: object) -> str:
    return f"{nanos / 1e9:g}s" if isinstance(nanos, int) else "5s (default)"
