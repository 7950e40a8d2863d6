"""A container's past events, as `docker events --since <created> --until <now>` shows them.

dockerd answers every events call from one ring of recent events (256, for the whole
engine), filtered by container: a run asks once for all its targets (:func:`ask_events`)
and each target keeps its own.  Podman's endpoint has no `until`, so there each target asks
for its own.  Events the engine dropped that a `diagnose watch` journal kept are merged in.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from diagnose.collect.journal import MAX_EVENTS, events_of, merge
from diagnose.collect.record import Piece, dump_json
from diagnose.evidence import layout
from diagnose.model.times import parse_time


def events_since(inspect: Mapping[str, Any], now: float) -> int:
    """Where a container's events are read from: a second before it was created (an hour
    back when its creation time is unreadable)."""
    created = parse_time(inspect.get("Created"))
    return int(created.timestamp()) - 1 if created else int(now) - 3600


@dataclass(frozen=True)
class EventsAnswer:
    """The engine's past events of several containers, asked in one call until `until`:
    each container's events in order (the last MAX_EVENTS) and how many there were."""

    until: float
    by_id: Mapping[str, tuple[int, list[dict[str, Any]]]]


def ask_events(api: Any, inspects: Iterable[Mapping[str, Any]], now: float) -> EventsAnswer:
    """Every target's past events in one call (dockerd).  The engine answers each call from
    the same bounded ring of recent events, filtered by container: one call for all targets
    gives each the events its own call would, from the earliest creation on, and each keeps
    those since its own (:func:`events_since`)."""
    since = {str(ins["Id"]): events_since(ins, now) for ins in inspects}
    if not since:
        return EventsAnswer(now, {})
    kept: dict[str, collections.deque[dict[str, Any]]] = {
        cid: collections.deque(maxlen=MAX_EVENTS) for cid in since}
    seen = dict.fromkeys(since, 0)
    for event in _drained(api.events(since=min(since.values()), until=f"{now:.9f}",
                                     filters={"container": list(since)}, decode=True)):
        cid = str((event.get("Actor") or {}).get("ID") or event.get("id") or "")
        if cid in since and (event.get("timeNano") or 0) >= since[cid] * 10**9:
            seen[cid] += 1
            kept[cid].append(event)
    return EventsAnswer(now, {cid: (seen[cid], list(kept[cid])) for cid in since})


def collect_events(api: Any, inspect: Mapping[str, Any], now: float,
                   journal: Path | None = None, podman: bool = False,
                   asked: EventsAnswer | None = None) -> Piece:
    """Events of this container since it was created (the engine keeps a bounded ring), with
    those the engine dropped that a `diagnose watch` journal in `journal` kept.  On dockerd
    they come from `asked`, the one call for every target of the run (:func:`ask_events`;
    made here for this container alone when not given); Podman is asked per container."""
    since = events_since(inspect, now)
    if podman:
        # Podman's endpoint has no `until`, so no answer asked for several targets serves
        # it: each container asks its own, whatever was shared.
        asked = None
        seen, events = _podman_events_of(api, inspect, since)
    else:
        if asked is None:
            asked = ask_events(api, [inspect], now)
        now = asked.until
        seen, events = asked.by_id.get(str(inspect["Id"]), (0, []))
    detail: dict[str, Any] = {"since": since, "until": now, "events": seen, "kept": len(events)}
    if asked is not None:
        detail["asked_with"] = len(asked.by_id)  # targets whose events one call asked
    if journal is not None and journal.is_dir():
        events, added = merge(events, [e for e in events_of(journal, inspect["Id"], since)
                                       if (e.get("timeNano") or 0) <= now * 1e9])
        if added:
            events = events[-MAX_EVENTS:]
            detail["journal"] = {"directory": str(journal), "events": added}
    if podman:
        detail.update(until=None, stream=False)
    return Piece(
        {layout.EVENTS: dump_json(events)},
        truncated=seen > MAX_EVENTS,
        detail=detail,
    )


def _podman_events_of(api: Any, inspect: Mapping[str, Any], since: int
                      ) -> tuple[int, list[dict[str, Any]]]:
    kept: collections.deque[dict[str, Any]] = collections.deque(maxlen=MAX_EVENTS)
    seen = 0
    for event in _drained(_podman_events(api, since, {"container": [inspect["Id"]]})):
        seen += 1
        kept.append(event)
    return seen, list(kept)


def _drained(stream: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The events of an answer, its connection closed once they are read (or on an error)."""
    try:
        yield from stream
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()


def _podman_events(api: Any, since: int, filters: Mapping[str, Any]) -> Iterator[Any]:
    """Podman's events: `stream=false` and no `until`.  Podman answers nothing at all when
    `until` is now or past (docs/podman-notes.md D3); with `stream=false` (its own parameter,
    which dockerd does not know and would stream forever) it sends what it has and closes."""
    params = {"since": since, "filters": json.dumps(filters), "stream": "false"}
    response = api._get(api._url("/events"), params=params, stream=True)
    api._raise_for_status(response)
    try:
        for line in response.iter_lines():
            if line.strip():
                yield json.loads(line)
    finally:
        response.close()
