"""What `diagnose watch` counts as an incident: pure rules over the engine's container events.

A failure is a `die` with a non-zero exit code that nobody asked for, an `oom`, a start that
failed (a `die` with no `start` since the container was created or last died; or, as the
engine makes no event at all for a `docker run` whose start fails, a `create` with no `start`
within :attr:`Rules.settle` seconds, which the caller confirms from the inspect), a
`health_status: unhealthy`, and a restart loop (several failed runs of a container whose
restart policy restarts it, within a window).  A stop somebody asked for (`docker stop` or
`docker kill` whose signal the exit code matches: exit 143 after `kill 15`) is not a failure
unless :attr:`Rules.stops` says so; a `docker stop` that ended in SIGKILL because PID 1 ignored
the stop signal (`kill 15`, `kill 9`, `die 137`) is one.

One incident per failure, not one per event: an `oom` waits briefly for its `die`; the failure
of a container the engine will restart waits for the loop to show (or the window to pass),
so a restart loop is one incident with its failed runs counted; after an incident the
container is quiet for :attr:`Rules.debounce` seconds (further failures are counted, not
reported); and at most :attr:`Rules.rate` incidents per :attr:`Rules.per` seconds are
reported engine-wide (the rest are counted as dropped).

Everything here is a function of the events and the times it is given (no clock, no I/O),
so canned event sequences test it (tests/unit/evidence/test_incidents.py); the watch loop
(diagnose/runs/watch.py) feeds it the live stream.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from diagnose.evidence.readings.common import signal_of_event

#: The kind of a created container not started after :attr:`Rules.settle` seconds: the
#: engine makes no event when a start fails (the container stays `created`, its State.Error
#: says why), so the caller looks at it and, if the start failed, calls :meth:`Tracker.confirm`.
UNSTARTED = "unstarted"

#: Containers whose state is kept at once (least recently seen are forgotten first).
MAX_TRACKED = 4096


@dataclass(frozen=True)
class Rules:
    """The knobs of the incident rules (the watch command's options)."""

    #: Seconds an `oom` waits for its container's `die` before it is reported on its own.
    settle: float = 2.0
    #: Seconds the failure of a container that restarts waits for the loop to show.
    loop_window: float = 30.0
    #: Failed runs within `loop_window` that make a restart loop.
    loop_runs: int = 3
    #: Seconds a container stays quiet after an incident.
    debounce: float = 600.0
    #: At most `rate` incidents per `per` seconds, engine-wide.
    rate: int = 10
    per: float = 60.0
    #: Count stops somebody asked for (`docker stop`/`kill`) as failures too.
    stops: bool = False


@dataclass
class Incident:
    """One failure of one container, as the watch reports it."""

    id: str
    name: str
    #: exit, oom, start-failed, stop-timeout, unhealthy, restart-loop, stopped
    kind: str
    #: Seconds since the epoch of the event that opened it.
    at: float
    exit_code: int | None = None
    #: Failed runs seen (a restart loop counts its restarts here).
    runs: int = 1
    #: Failures of this container suppressed by the debounce since its last incident.
    suppressed: int = 0


def event_time(event: Mapping[str, Any]) -> float:
    """An event's time in seconds (timeNano when the engine gives it)."""
    nano = event.get("timeNano")
    if isinstance(nano, int) and nano > 0:
        return nano / 1e9
    t = event.get("time")
    return float(t) if isinstance(t, (int, float)) else 0.0


def attributes(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The event's Actor.Attributes (empty when absent)."""
    actor = event.get("Actor") or {}
    attrs = actor.get("Attributes") if isinstance(actor, Mapping) else None
    return attrs if isinstance(attrs, Mapping) else {}


def container_id(event: Mapping[str, Any]) -> str:
    """The container an event is about ('' for other objects)."""
    if event.get("Type", "container") != "container":
        return ""
    actor = event.get("Actor") or {}
    return str(actor.get("ID") or event.get("id") or "")


def _exit_code(event: Mapping[str, Any]) -> int | None:
    try:
        return int(str(attributes(event).get("exitCode", "")))
    except ValueError:
        return None


@dataclass
class _Box:
    """What the rules remember of one container."""

    name: str = ""
    started: bool = False
    kills: list[int] = field(default_factory=list)
    oom: bool = False
    pending: Incident | None = None
    fire_at: float = 0.0
    quiet_until: float = 0.0
    suppressed: int = 0


def classify_die(box_started: bool, kills: list[int], oom: bool, code: int | None,
                 stop_signal: int = 15) -> str | None:
    """What a `die` means: a failure kind, `stopped` (asked for), or None (exit 0)."""
    if oom:
        return "oom"
    if code is None or code == 0:
        return None
    if not box_started:
        return "start-failed"
    if code == 137 and 9 in kills and any(s != 9 for s in kills):
        return "stop-timeout"
    if kills and code == 128 + kills[-1]:
        return "stopped"
    return "exit"


class Tracker:
    """Feed it events (:meth:`feed`) and the passing time (:meth:`due`); it hands back the
    incidents to report."""

    def __init__(self, rules: Rules | None = None) -> None:
        self.rules = rules or Rules()
        self.boxes: collections.OrderedDict[str, _Box] = collections.OrderedDict()
        self.fired: collections.deque[float] = collections.deque()
        #: Incidents not reported because of the rate limit.
        self.dropped = 0

    def _box(self, cid: str) -> _Box:
        box = self.boxes.pop(cid, None) or _Box()
        self.boxes[cid] = box
        while len(self.boxes) > MAX_TRACKED:
            old, gone = next(iter(self.boxes.items()))
            if gone.pending is not None:  # never forget an incident still to report
                self.boxes.move_to_end(old)
                break
            self.boxes.popitem(last=False)
        return box

    def feed(self, event: Mapping[str, Any], now: float, restarts: bool = False
             ) -> list[Incident]:
        """Take one event; the incidents it completes.  `restarts`: the engine will restart
        this container after a failure (its restart policy), so wait for the loop to show."""
        cid = container_id(event)
        if not cid:
            return []
        action = str(event.get("Action") or event.get("status") or "")
        box = self._box(cid)
        box.name = str(attributes(event).get("name") or box.name or cid[:12])
        if action in ("create", "start", "restart"):
            box.kills, box.oom = [], False
            box.started = action != "create"
            if action == "create":  # a start that fails makes no event: look after a while
                self._open(box, cid, UNSTARTED, event_time(event), None,
                           now + self.rules.settle, now)
            elif box.pending is not None and box.pending.kind == UNSTARTED:
                box.pending = None
        elif action == "kill":
            sig = signal_of_event(attributes(event).get("signal"))
            if sig is not None:
                box.kills.append(sig)
        elif action == "oom":
            box.oom = True
            self._open(box, cid, "oom", event_time(event), None, now + self.rules.settle, now)
        elif action == "die":
            return self._die(box, cid, event, now, restarts)
        elif action.startswith("health_status") and action.endswith("unhealthy"):
            self._open(box, cid, "unhealthy", event_time(event), None, now, now)
        elif action == "destroy" and box.pending is not None:
            if box.pending.kind == UNSTARTED:
                box.pending = None
            else:
                box.fire_at = min(box.fire_at, now)  # nothing will follow: report it now
        return self.due(now)

    def _die(self, box: _Box, cid: str, event: Mapping[str, Any], now: float,
             restarts: bool) -> list[Incident]:
        if box.pending is not None and box.pending.kind == UNSTARTED:
            box.pending = None  # the die says what the start did
        code = _exit_code(event)
        kind = classify_die(box.started, box.kills, box.oom, code)
        box.started, box.kills, box.oom = False, [], False
        if kind == "stopped" and not self.rules.stops:
            kind = None
        if kind is None:
            return self.due(now)
        pending = box.pending
        if pending is not None and pending.kind == "oom" and kind == "oom":
            pending.exit_code = code
            box.fire_at = now
        elif pending is not None:
            pending.runs += 1
            if pending.runs >= self.rules.loop_runs:
                pending.kind, pending.exit_code, box.fire_at = "restart-loop", code, now
        else:
            wait = now + self.rules.loop_window if restarts and kind != "oom" else now
            self._open(box, cid, kind, event_time(event), code, wait, now)
        return self.due(now)

    def _open(self, box: _Box, cid: str, kind: str, at: float, code: int | None,
              fire_at: float, now: float) -> None:
        if now < box.quiet_until:
            box.suppressed += 1
            return
        if box.pending is not None:
            return
        box.pending = Incident(cid, box.name, kind, at, code)
        box.fire_at = fire_at

    def confirm(self, incident: Incident, now: float) -> bool:
        """An :data:`UNSTARTED` candidate whose start did fail: report it (debounce and rate
        limit apply)?  Its kind becomes `start-failed`."""
        box = self._box(incident.id)
        incident.kind = "start-failed"
        if now < box.quiet_until:
            box.suppressed += 1
            return False
        box.quiet_until = now + self.rules.debounce
        if self.allow(now):
            return True
        self.dropped += 1
        return False

    def next_due(self) -> float | None:
        """When the next waiting incident falls due (None: nothing waits)."""
        times = [b.fire_at for b in self.boxes.values() if b.pending is not None]
        return min(times) if times else None

    def due(self, now: float) -> list[Incident]:
        """The waiting incidents whose time has come, within the rate limit."""
        out: list[Incident] = []
        for box in self.boxes.values():
            if box.pending is None or box.fire_at > now:
                continue
            incident, box.pending = box.pending, None
            if incident.kind == UNSTARTED:  # a candidate: the caller looks (confirm())
                out.append(incident)
                continue
            box.quiet_until = now + self.rules.debounce
            incident.suppressed, box.suppressed = box.suppressed, 0
            if self.allow(now):
                out.append(incident)
            else:
                self.dropped += 1
        return out

    def allow(self, now: float) -> bool:
        """Within the rate limit?  (Counts one incident when it is.)"""
        while self.fired and self.fired[0] <= now - self.rules.per:
            self.fired.popleft()
        if len(self.fired) >= self.rules.rate:
            return False
        self.fired.append(now)
        return True
