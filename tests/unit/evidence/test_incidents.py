"""The watch's incident rules over canned event sequences (diagnose/evidence/incidents.py).

The event shapes are the Engine API's (`docker events --format '{{json .}}'`); the same rules
are proven on the real engine by tests/engine/test_watch.py.
"""

from __future__ import annotations

from typing import Any

from diagnose.evidence.incidents import (
    UNSTARTED,
    Incident,
    Rules,
    Tracker,
    classify_die,
    event_time,
)

CID = "c" * 64


def ev(action: str, t: float, cid: str = CID, **attrs: Any) -> dict[str, Any]:
    return {"Type": "container", "Action": action, "Actor": {"ID": cid, "Attributes": {
        "name": f"n-{cid[:4]}", **{k: str(v) for k, v in attrs.items()}}},
        "time": int(t), "timeNano": int(t * 1e9)}


def play(events: list[tuple[dict[str, Any], float]], rules: Rules | None = None,
         restarts: bool = False, until: float | None = None) -> tuple[list[Incident], Tracker]:
    tr = Tracker(rules)
    out: list[Incident] = []
    for event, now in events:
        out += tr.feed(event, now, restarts)
    if until is not None:
        out += tr.due(until)
    return out, tr


def test_crash_is_one_incident_at_once():
    got, _ = play([(ev("create", 1), 1), (ev("start", 1.1), 1.1), (ev("die", 3, exitCode=1), 3)])
    assert [(i.kind, i.exit_code, i.name, i.at) for i in got] == [("exit", 1, "n-cccc", 3.0)]


def test_exit_zero_and_asked_for_stops_are_not_failures():
    seq = [(ev("start", 1), 1), (ev("die", 2, exitCode=0), 2),
           (ev("start", 3), 3), (ev("kill", 4, signal=15), 4), (ev("die", 4.1, exitCode=143), 4.1),
           (ev("stop", 4.2), 4.2),
           (ev("start", 5), 5), (ev("kill", 6, signal=9), 6), (ev("die", 6, exitCode=137), 6)]
    assert play(seq)[0] == []
    counted, _ = play(seq, Rules(stops=True))
    assert [i.kind for i in counted] == ["stopped"]  # then the debounce holds the second


def test_stop_timeout_is_a_failure():
    got, _ = play([(ev("start", 1), 1), (ev("kill", 2, signal=15), 2),
                   (ev("kill", 12, signal=9), 12), (ev("die", 12, exitCode=137), 12)])
    assert [i.kind for i in got] == ["stop-timeout"]


def test_failed_start_is_a_die_without_start():
    got, _ = play([(ev("create", 1), 1), (ev("die", 1.5, exitCode=127), 1.5)])
    assert [(i.kind, i.exit_code) for i in got] == [("start-failed", 127)]


def test_a_create_without_start_is_a_candidate_the_caller_confirms():
    got, tr = play([(ev("create", 1), 1)], until=1 + Rules().settle)
    assert [i.kind for i in got] == [UNSTARTED]
    assert tr.confirm(got[0], 4) and got[0].kind == "start-failed"
    again = Incident(CID, "n", UNSTARTED, 5)
    assert not tr.confirm(again, 5)  # the debounce holds
    # Started in time, or removed: no candidate.
    assert play([(ev("create", 1), 1), (ev("start", 1.2), 1.2)], until=100)[0] == []
    assert play([(ev("create", 1), 1), (ev("destroy", 1.2), 1.2)], until=100)[0] == []


def test_oom_waits_for_its_die_and_is_one_incident():
    got, tr = play([(ev("start", 1), 1), (ev("oom", 2), 2)])
    assert got == [] and tr.next_due() == 2 + Rules().settle
    got = tr.feed(ev("die", 2.1, exitCode=137), 2.1)
    assert [(i.kind, i.exit_code) for i in got] == [("oom", 137)]
    assert tr.due(100) == []


def test_oom_without_die_is_reported_after_the_settle_time():
    got, _ = play([(ev("start", 1), 1), (ev("oom", 2), 2)], until=2 + Rules().settle)
    assert [(i.kind, i.exit_code) for i in got] == [("oom", None)]


def test_unhealthy_is_an_incident():
    got, _ = play([(ev("start", 1), 1), (ev("health_status: healthy", 2), 2),
                   (ev("health_status: unhealthy", 9), 9)])
    assert [i.kind for i in got] == ["unhealthy"]


def test_restart_loop_is_one_incident_with_its_runs_counted():
    seq = []
    for n in range(6):
        seq += [(ev("start", 10 + n), 10 + n), (ev("die", 10.5 + n, exitCode=3), 10.5 + n)]
    got, tr = play(seq, restarts=True, until=1000)
    assert [(i.kind, i.runs, i.exit_code) for i in got] == [("restart-loop", 3, 3)]
    assert tr.boxes[CID].suppressed == 3  # the later runs, counted for its next incident


def test_a_restarting_container_that_fails_once_is_reported_after_the_window():
    got, tr = play([(ev("start", 1), 1), (ev("die", 2, exitCode=1), 2), (ev("start", 2.1), 2.1)],
                   restarts=True)
    assert got == [] and tr.next_due() == 2 + Rules().loop_window
    assert [(i.kind, i.runs) for i in tr.due(2 + Rules().loop_window)] == [("exit", 1)]


def test_debounce_then_a_new_incident_counts_the_suppressed():
    rules = Rules(debounce=60)
    seq = [(ev("start", 1), 1), (ev("die", 2, exitCode=1), 2),
           (ev("start", 3), 3), (ev("die", 4, exitCode=1), 4),
           (ev("start", 70), 70), (ev("die", 71, exitCode=2), 71)]
    got, _ = play(seq, rules)
    assert [(i.kind, i.exit_code, i.suppressed) for i in got] == [("exit", 1, 0), ("exit", 2, 1)]


def test_rate_limit_is_engine_wide():
    rules = Rules(rate=2, per=60)
    seq = []
    for n in range(5):
        cid = str(n) * 64
        seq += [(ev("start", n, cid), n), (ev("die", n + 0.5, cid, exitCode=1), n + 0.5)]
    got, tr = play(seq, rules)
    assert len(got) == 2 and tr.dropped == 3
    late = tr.feed(ev("start", 100, "9" * 64), 100) + tr.feed(
        ev("die", 101, "9" * 64, exitCode=1), 101)
    assert len(late) == 1  # the window moved on


def test_destroy_reports_a_waiting_incident_at_once():
    got, tr = play([(ev("start", 1), 1), (ev("die", 2, exitCode=1), 2)], restarts=True)
    assert got == []
    assert [i.kind for i in tr.feed(ev("destroy", 3), 3)] == ["exit"]


def test_other_objects_and_bounded_memory():
    tr = Tracker()
    assert tr.feed({"Type": "network", "Action": "connect", "Actor": {"ID": "n"}}, 1) == []
    for n in range(5000):
        tr.feed(ev("start", 1, f"{n:064d}"), 1)
    assert len(tr.boxes) <= 4096


def test_classify_and_times():
    assert classify_die(True, [], False, 0) is None
    assert classify_die(True, [15], False, 143) == "stopped"
    assert classify_die(True, [2], False, 1) == "exit"
    assert classify_die(True, [], True, 137) == "oom"
    assert event_time({"time": 5}) == 5.0 and event_time({"timeNano": 1_500_000_000}) == 1.5
