"""The watch's event feed (diagnose/collect/events.py) against a scripted engine: a stream
that the engine ends is reconnected, replayed `since` the last event seen, and the events
seen twice across the reconnect are dropped.  (The real engine: tests/engine/test_watch*.py.)"""

from __future__ import annotations

from typing import Any

from diagnose.collect import events as ev
from diagnose.collect.connect import Endpoint


def event(action: str, nano: int) -> dict[str, Any]:
    return {"Type": "container", "Action": action, "timeNano": nano,
            "Actor": {"ID": "c" * 64, "Attributes": {}}}


class Api:
    def __init__(self, streams: list[list[dict[str, Any]]], calls: list[dict[str, Any]]):
        self.streams, self.calls = streams, calls

    def ping(self) -> bool:
        return True

    def events(self, **kwargs: Any):
        self.calls.append(kwargs)
        return iter(self.streams.pop(0))


class Client:
    def __init__(self, api: Api):
        self.api = api

    def close(self) -> None:
        pass


def test_reconnect_replays_since_the_last_event_without_duplicates(monkeypatch):
    calls: list[dict[str, Any]] = []
    streams = [[event("start", 10**18), event("die", 10**18 + 5)],
               [event("die", 10**18 + 5), event("destroy", 10**18 + 9)]]
    api = Api(streams, calls)
    monkeypatch.setattr(ev, "connect", lambda *a, **k: Client(api))
    monkeypatch.setattr(ev, "BACKOFF", (0.01, 0.01))
    said: list[str] = []
    back: list[int] = []
    feed = ev.EventFeed(Endpoint("unix:///x", "test"), 5, said.append,
                        filters={"label": ["a=b"]}, on_back=lambda: back.append(1))
    got = []
    for e in feed.events(since=123.0):
        got.append(e["Action"])
        if len(got) == 3:
            feed.stopping.set()
    assert got == ["start", "die", "destroy"]
    assert calls[0]["since"] == "123.000000000"
    assert calls[1]["since"] == f"{(10**18 + 5) / 1e9:.9f}"
    assert calls[0]["filters"] == {"label": ["a=b"], "type": ["container"]}
    assert "lost the engine" in said[0] and "answers again" in said[1]
    assert back == [1]  # the caller looked for what changed while the engine was away
