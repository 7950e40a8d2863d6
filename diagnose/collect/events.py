"""Follow the engine's container events for `diagnose watch`: block on the stream, and when it
breaks (dockerd restarts, the socket goes away, the read times out on a quiet engine)
reconnect with backoff and replay what was missed with `since` = the last event seen.

The stream is a blocking read: nothing runs while nothing happens (the read timeout is long,
:data:`IDLE`, and a quiet engine only costs one new request per timeout).  Events replayed
after a reconnect that were already seen (`since` is inclusive, to the nanosecond) are
dropped by their (timeNano, id, action).
"""

from __future__ import annotations

import collections
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from docker.errors import DockerException, NotFound
from requests.exceptions import RequestException

from diagnose.collect.connect import Endpoint, connect, engine_error

#: Seconds a quiet event stream is read before it is asked again (also the engine call timeout
#: of the event client: a dockerd that hangs is noticed within it).
IDLE = 300.0
#: Reconnect backoff: first wait, and the longest.
BACKOFF = (0.5, 30.0)


def _key(event: dict[str, Any]) -> tuple[Any, ...]:
    actor = event.get("Actor") or {}
    return (event.get("timeNano"), actor.get("ID"), event.get("Action"))


@dataclass
class EventFeed:
    """The engine's container events, forever: :meth:`events` yields them in order."""

    endpoint: Endpoint
    timeout: float
    #: Says what happens to the connection (lost, back) for the user.
    say: Callable[[str], None]
    #: Set by the caller to end :meth:`events` (checked between events and while waiting).
    stopping: threading.Event = field(default_factory=threading.Event)
    #: Seconds since the epoch of the last event seen (the next `since`).
    last: float | None = None
    recent: collections.deque[tuple[Any, ...]] = field(
        default_factory=lambda: collections.deque(maxlen=64))
    client: Any = None
    #: Extra event filters the engine applies (a label the selection needs: the events of
    #: other containers are then never sent).
    filters: dict[str, list[str]] = field(default_factory=dict)
    #: Called (on the feed's thread) once the engine answers again after it was lost: what
    #: changed while it was away and made no event (a live-restored container that exited)
    #: is the caller's to find.
    on_back: Callable[[], None] | None = None

    def events(self, since: float | None = None) -> Iterator[dict[str, Any]]:
        """Every container event from `since` (None: from now), reconnecting as needed."""
        # From now on when no time is given: a reconnect then replays from here, not from
        # whenever it reconnects.
        self.last = time.time() if since is None else since
        wait = BACKOFF[0]
        lost = False
        while not self.stopping.is_set():
            try:
                self._connect()
                if lost:
                    self.say(f"engine {self.endpoint.host} answers again; replaying the events "
                             "missed since the last one seen")
                    lost = False
                    if self.on_back is not None:
                        self.on_back()
                wait = BACKOFF[0]
                yield from self._stream()
            except (DockerException, RequestException, OSError) as exc:
                if _idle(exc):
                    continue  # a quiet engine: ask again from the last event
                if not lost:
                    self.say(f"warning: lost the engine ({engine_error(self.endpoint, exc)}); "
                             "reconnecting")
                lost = True
                self.close()
                self.stopping.wait(wait)
                wait = min(wait * 2, BACKOFF[1])

    def _connect(self) -> None:
        if self.client is None:
            self.client = connect(self.endpoint, IDLE, pool_size=2)
            self.client.api.ping()

    def _stream(self) -> Iterator[dict[str, Any]]:
        since = f"{self.last:.9f}" if self.last is not None else None
        gen = self.client.api.events(since=since, filters={**self.filters, "type": ["container"]},
                                     decode=True)
        try:
            for event in gen:
                key = _key(event)
                if key in self.recent:
                    continue
                self.recent.append(key)
                nano = event.get("timeNano")
                if isinstance(nano, int):
                    self.last = nano / 1e9
                yield event
                if self.stopping.is_set():
                    return
        finally:
            _close(gen)
        # The engine closed the stream (it is shutting down): reconnect.
        raise ConnectionError("the engine closed the event stream")

    def close(self) -> None:
        """Drop the connection (the next read reconnects)."""
        if self.client is not None:
            _close(self.client)
            self.client = None


def _close(thing: Any) -> None:
    with contextlib.suppress(Exception):
        thing.close()


def _idle(exc: BaseException) -> bool:
    """A read timeout on a stream that was answering: the engine is just quiet."""
    text = str(exc).lower()
    return "read timed out" in text


def inspect_or_none(api: Any, cid: str) -> dict[str, Any] | None:
    """`docker inspect` of a container, None when it is gone."""
    try:
        return dict(api.inspect_container(cid))
    except NotFound:
        return None


def selected(api: Any, cid: str, filters: dict[str, list[str]]) -> bool:
    """Is container `cid` in the `docker ps -a --filter` selection (the engine decides)?"""
    found = api.containers(all=True, filters={**filters, "id": [cid]})
    return bool(found)
