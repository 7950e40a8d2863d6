"""The watch's event feed (diagnose/collect/events.py) against a scripted engine: a stream
that the engine ends is reconnected, replayed `since` the last event seen, and the events
seen twice across the reconnect are dropped.  (The real engine: tests/engine/test_watch*.py.)"""

from __future__ import annotations

import json
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


def test_one_call_asks_every_targets_events_and_each_keeps_its_own(monkeypatch):
    """The run's events are asked once, filtered by every target, from the earliest
    creation; each target keeps its own events since a second before its own creation (as
    its own call did), the last MAX_EVENTS of them, and how many there were."""
    import json

    from diagnose.collect import past_events as pe
    from diagnose.collect.record import run_collector

    a, b, other = "a" * 64, "b" * 64, "o" * 64
    second = 10**9
    base = 1_790_000_000  # b was created 100 s after a

    def ev(cid: str, action: str, at: float) -> dict[str, Any]:
        return {"Type": "container", "Action": action, "id": cid, "timeNano": int(at * second),
                "Actor": {"ID": cid, "Attributes": {}}}

    stream = [ev(a, "create", base), ev(b, "destroy", base + 10),  # an older b, same ID
              ev(a, "start", base + 1), ev(other, "start", base + 50),
              ev(b, "create", base + 100), ev(b, "start", base + 100.5),
              *[ev(a, "exec_start", base + 200 + i / 1000) for i in range(pe.MAX_EVENTS + 5)]]
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(Api, "events", lambda self, **kw: calls.append(kw) or iter(stream))
    inspects = [{"Id": a, "Created": "2026-09-21T14:13:20Z"},   # base
                {"Id": b, "Created": "2026-09-21T14:15:00.5Z"}]  # base + 100.5
    answer = pe.ask_events(Api([], []), inspects, base + 300.0)
    assert len(calls) == 1
    assert calls[0]["filters"] == {"container": [a, b]} and calls[0]["since"] == base - 1
    assert calls[0]["until"] == f"{base + 300.0:.9f}"
    seen_a, kept_a = answer.by_id[a]
    assert seen_a == pe.MAX_EVENTS + 7 and len(kept_a) == pe.MAX_EVENTS
    assert kept_a[-1]["timeNano"] == stream[-1]["timeNano"]
    assert [e["Action"] for e in answer.by_id[b][1]] == ["create", "start"]

    rec, files = run_collector("events", "b", lambda: pe.collect_events(
        None, inspects[1], base + 400.0, asked=answer))
    assert rec.status == "ok" and rec.detail == {
        "since": base + 99, "until": base + 300.0, "events": 2, "kept": 2, "asked_with": 2}
    assert [e["Action"] for e in json.loads(files["events.json"])] == ["create", "start"]
    rec, _ = run_collector("events", "a", lambda: pe.collect_events(
        None, inspects[0], base + 400.0, asked=answer))
    assert rec.truncated and rec.detail["events"] == pe.MAX_EVENTS + 7


def test_a_failed_events_call_fails_every_targets_events(monkeypatch):
    """Each target's events record says why the one call failed; nothing else of it fails."""
    import concurrent.futures as cf

    import requests

    from diagnose.collect import past_events as pe
    from diagnose.collect import runner

    def stalled(self, **kw):
        raise requests.exceptions.ReadTimeout("timed out")

    monkeypatch.setattr(Api, "events", stalled)
    with cf.ThreadPoolExecutor(1) as pool:
        shared = pool.submit(pe.ask_events, Api([], []), [{"Id": "a" * 64}], 1e9)
        opts = runner.CollectOptions(events=shared)
        for key in ("a", "b"):
            rec, files = runner.run_collector("events", key, lambda: pe.collect_events(
                None, {"Id": "a" * 64}, 1e9, asked=opts.events.result()))
            assert rec.status == "failed" and "did not answer in time" in rec.reason, rec
            assert "errors/events.txt" in files


class PodmanApi:
    """Podman's events endpoint as the SDK's low-level calls see it (one answer, closed)."""

    def __init__(self, events: list[dict[str, Any]]):
        self.events, self.asked = events, []

    def _url(self, path: str) -> str:
        return path

    def _get(self, url: str, **kwargs: Any) -> Any:
        self.asked.append((url, kwargs["params"]))
        lines = [json.dumps(e).encode() for e in self.events]  # one JSON document a line

        class Response:
            def iter_lines(self):
                return iter(lines)

            def close(self) -> None:
                pass

        return Response()

    def _raise_for_status(self, response: Any) -> None:
        pass


def test_podman_asks_its_own_events_even_when_an_answer_was_shared():
    """A shared answer is dockerd's (asked `until` the run's start); Podman's endpoint has
    no `until`, so a Podman container asks for its own and says nothing of a shared call."""
    from diagnose.collect import past_events as pe
    from diagnose.collect.runner import run_collector

    cid = "d" * 64
    inspect = {"Id": cid, "Created": "2026-09-21T14:13:20Z"}
    shared = pe.EventsAnswer(1.8e9, {cid: (1, [event("kill", 1)])})
    api = PodmanApi([event("create", 1_790_000_000 * 10**9), event("start", 1_790_000_001 * 10**9)])
    rec, files = run_collector("events", "p", lambda: pe.collect_events(
        api, inspect, 1.8e9, podman=True, asked=shared))
    assert rec.status == "ok" and "asked_with" not in rec.detail
    assert rec.detail["until"] is None and rec.detail["events"] == 2
    assert len(api.asked) == 1 and api.asked[0][1]["stream"] == "false"
    assert [e["Action"] for e in json.loads(files["events.json"])] == ["create", "start"]
