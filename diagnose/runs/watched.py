"""What `diagnose watch` knows of a container besides its events, and of its bundles: the
restart policy, the state at a removed container's end, and the bound on the bundles kept.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from diagnose.evidence.incidents import Incident
from diagnose.evidence.incidents import event_time as time_of


def iso(t: float) -> str:
    """Seconds since the epoch as RFC 3339 UTC with milliseconds."""
    stamp = dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def restarts(inspect: dict[str, Any] | None) -> bool:
    """Will the engine restart this container after a failure (its restart policy)?"""
    if not inspect:
        return False
    host = inspect.get("HostConfig") or {}
    policy = host.get("RestartPolicy") or {}
    name = str(policy.get("Name") or "")
    if name in ("always", "unless-stopped"):
        return True
    if name == "on-failure":
        most = int(policy.get("MaximumRetryCount") or 0)
        return most == 0 or int(inspect.get("RestartCount") or 0) < most
    return False


def ended(inspect: dict[str, Any], incident: Incident, die: dict[str, Any] | None
          ) -> dict[str, Any]:
    """The inspect taken at a container's start with the end its `die` event tells written
    in (the container is gone: this is all that is left of its state)."""
    state = dict(inspect.get("State") or {})
    code = incident.exit_code
    state.update(Status="exited", Running=False, Restarting=False, Pid=0,
                 ExitCode=code if code is not None else state.get("ExitCode", 0),
                 OOMKilled=incident.kind == "oom" or bool(state.get("OOMKilled")),
                 FinishedAt=iso(time_of(die) if die else incident.at).replace("Z", "000000Z"))
    return {**inspect, "State": state}


def prune(directory: Path, keep: int | None, max_bytes: int | None = None) -> list[Path]:
    """Remove the oldest bundles (`diagnose-*.tar.gz`) of `directory` beyond the newest
    `keep`, then while they hold more than `max_bytes` together (the newest always stays);
    what went.  A bundle being written has a temporary name (`.diagnose-...tmp`) and is
    never counted."""
    found = [(p, p.stat()) for p in directory.glob("diagnose-*.tar.gz") if p.is_file()]
    found.sort(key=lambda ps: (ps[1].st_mtime_ns, ps[0].name))
    drop = max(0, len(found) - keep) if keep is not None else 0
    total = sum(st.st_size for _, st in found[drop:])
    while max_bytes is not None and total > max_bytes and drop < len(found) - 1:
        total -= found[drop][1].st_size
        drop += 1
    gone = [p for p, _ in found[:drop]]
    for old in gone:
        old.unlink(missing_ok=True)
    return gone


def started_at(inspect: dict[str, Any]) -> Any:
    """When the container's current (or last) run started."""
    return (inspect.get("State") or {}).get("StartedAt")
