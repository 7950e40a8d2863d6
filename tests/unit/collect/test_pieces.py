"""Pieces of the fast path: the log demultiplexer, the shared-answer memo, engine prefixes."""

from __future__ import annotations

import struct
import threading
import time

from diagnose.collect.container import TailBuffer, demux, demux_runs
from diagnose.collect.memo import Memo
from diagnose.evidence import layout


def _frame(kind: int, data: bytes) -> bytes:
    return struct.pack(">BxxxL", kind, len(data)) + data


def test_demux_whatever_the_chunking():
    frames = [(1, b"out one\n"), (2, b"err one\n"), (1, b""), (1, b"x" * 70000), (2, b"e\n")]
    raw = b"".join(_frame(k, d) for k, d in frames)
    for size in (1, 3, 8, 9, 1000, 65536, len(raw)):
        chunks = [raw[i:i + size] for i in range(0, len(raw), size)]
        assert list(demux(chunks)) == frames, size
    # A truncated last frame is dropped, not half-delivered.
    assert list(demux([raw[:-1]])) == frames[:-1]


def test_demux_runs_joins_each_streams_frames_in_order_whatever_the_chunking():
    frames = [(1, b"out one\n"), (1, b"out two\n"), (2, b"err one\n"), (1, b""),
              (1, b"x" * 70000), (2, b"e\n"), (2, b"f\n"), (1, b"last\n")]
    raw = b"".join(_frame(k, d) for k, d in frames)
    for size in (1, 3, 8, 9, 20, 1000, 65536, len(raw)):
        chunks = [raw[i:i + size] for i in range(0, len(raw), size)]
        runs = list(demux_runs(chunks))
        # Per stream, the same bytes as frame by frame, and the streams' runs in order.
        for kind in (1, 2):
            assert b"".join(d for k, d in runs if k == kind) == \
                b"".join(d for k, d in frames if k == kind), size
        assert len(runs) <= len(frames)
    # One read holding the whole stream: one item per run of a stream.
    assert [k for k, _ in demux_runs([raw])] == [1, 2, 1, 2, 1]
    # A truncated last frame is dropped, not half-delivered.
    assert list(demux_runs([raw[:-1]]))[-1] == (2, b"e\nf\n")


def test_tail_buffer_keeps_the_last_bytes_at_a_line_boundary():
    buf = TailBuffer(20)
    for i in range(100):
        buf.add(f"line {i}\n".encode())
    data, truncated, total = buf.result()
    assert truncated and data.endswith(b"line 99\n") and len(data) <= 20
    assert data.startswith(b"line ") and total == sum(len(f"line {i}\n") for i in range(100))


def test_memo_asks_once_even_when_asked_together():
    memo = Memo()
    calls = []

    def fetch():
        calls.append(1)
        time.sleep(0.05)
        return {"Id": "sha256:x"}

    results = []
    threads = [threading.Thread(target=lambda: results.append(memo.get("image", "x", fetch)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [{"Id": "sha256:x"}] * 8
    boom = Memo()
    attempts = []

    def fail():
        attempts.append(1)
        raise RuntimeError("engine error")

    for _ in range(2):
        try:
            boom.get("history", "y", fail)
        except RuntimeError as exc:
            assert "engine error" in str(exc)
    # A failure is not kept: the next collector asks the engine again, and can succeed.
    assert len(attempts) == 2
    assert boom.get("history", "y", lambda: ["layer"]) == ["layer"]


def test_split_engine():
    assert layout.split_engine("engines/prod/containers/web/inspect.json") == (
        "engines/prod/", "containers/web/inspect.json")
    assert layout.split_engine("containers/web/inspect.json") == ("", "containers/web/inspect.json")
    assert layout.split_engine("engine/info.json") == ("", "engine/info.json")


def test_shared_image_owns_only_the_images_own_paths():
    from diagnose.collect.containerfs import SharedImage
    from diagnose.collect.memo import Memo

    shared = SharedImage(Memo(), "sha256:x", [
        {"Path": "/app", "Kind": 0}, {"Path": "/app/tool", "Kind": 0},
        {"Path": "/opt/new", "Kind": 1}, {"Path": "/usr/lib/gone", "Kind": 2},
    ], ["/data", "/srv/conf/"])
    assert shared.owns("/bin/sh") and shared.owns("/app/other") and shared.owns("/usr/lib")
    for path in ("/app/tool", "/app", "/opt/new", "/opt/new/bin/x", "/usr/lib/gone/a.so",
                 "/data", "/data/x", "/srv/conf/app.ini", "/etc/hosts", "/etc/resolv.conf",
                 "relative/path"):
        assert not shared.owns(path), path
    assert not SharedImage(Memo(), "x", [], ["/"]).owns("/bin/sh")  # a mount over the root


def test_shared_answers_are_asked_once_and_failures_are_not_shared():
    from diagnose.collect.containerfs import SharedImage
    from diagnose.collect.memo import Memo

    shared = SharedImage(Memo(), "img", [], [])
    asked = []
    assert shared.answer("stat", "/bin/sh", lambda: asked.append(1) or "A") == "A"
    assert shared.answer("stat", "/bin/sh", lambda: asked.append(2) or "B") == "A"
    assert asked == [1]

    def boom():
        raise OSError("engine hiccup")

    try:
        shared.answer("stat", "/x", boom)
    except OSError:
        pass
    assert shared.answer("stat", "/x", lambda: "own answer") == "own answer"


def test_paths_answered_already_are_looked_up_without_threads():
    """A second container of an image finds its PATH lookups shared: they run in order on the
    probe's thread (a pool per lookup started 159 threads for 50 containers); a path the
    engine must still be asked about is looked up concurrently."""
    import threading

    from diagnose.collect.containerfs import ContainerFS, SharedImage
    from diagnose.collect.memo import Memo

    memo = Memo()
    paths = ["/usr/local/bin/sh", "/usr/bin/sh", "/bin/sh"]
    for p in paths:  # what the image's first container was answered
        SharedImage(memo, "img", [], []).answer("stat", p, lambda: None)
    fs = ContainerFS(None, "c2", SharedImage(memo, "img", [], []))
    assert all(fs.stat_known(p) for p in paths)
    ran_on: list[threading.Thread] = []

    def look(path: str) -> str:
        ran_on.append(threading.current_thread())
        return path.upper()

    assert fs.map(look, paths) == [p.upper() for p in paths]
    assert set(ran_on) == {threading.current_thread()}
    ran_on.clear()
    assert fs.map(look, [*paths, "/sbin/sh"]) == [p.upper() for p in [*paths, "/sbin/sh"]]
    assert threading.current_thread() not in ran_on  # one unknown: all asked on the pool
    assert not fs.stat_known("/sbin/sh")
    own = ContainerFS(None, "c3", SharedImage(memo, "img", [{"Path": "/bin/sh", "Kind": 1}], []))
    assert not own.stat_known("/bin/sh")  # its own /bin/sh: never another container's answer


def test_collection_waits_for_a_slow_consumer(monkeypatch):
    """At most 2 x jobs targets are collected ahead of the consumer (memory stays flat)."""
    import threading
    import time

    from diagnose.collect import runner

    started: list[str] = []
    lock = threading.Lock()

    def fake_collect_one(api, key, inspect, opts, pool, early=None):
        with lock:
            started.append(key)
        return runner.Collected(key, inspect)

    monkeypatch.setattr(runner, "collect_one", fake_collect_one)
    targets = [(f"c{i}", {"Id": str(i)}) for i in range(40)]
    got = []
    for item in runner.collect_all(None, targets, runner.CollectOptions(jobs=3)):
        time.sleep(0.01)  # analysis is slower than collection
        with lock:
            assert len(started) - len(got) <= 2 * 3 + 1
        got.append(item.key)
    assert sorted(got) == sorted(k for k, _ in targets)


def test_parse_log_splits_stamped_and_unstamped_lines_alike():
    from diagnose.evidence.logs import LogLine, parse_log

    stamp = "2026-11-28T04:08:55.123456789Z"
    # All stamped (the all-at-once path), with a CRLF line.
    got = parse_log("stdout", f"{stamp} one\r\n{stamp} two words\n{stamp} \n".encode())
    assert got == (LogLine("stdout", 1, stamp, "one"), LogLine("stdout", 2, stamp, "two words"),
                   LogLine("stdout", 3, stamp, ""))
    # One line without a stamp (or with a short one): every line is judged on its own.
    got = parse_log("stderr", f"{stamp} a\nplain text\n2026-11-28T04:08Z b\r\n".encode())
    assert got == (LogLine("stderr", 1, stamp, "a"), LogLine("stderr", 2, "", "plain text"),
                   LogLine("stderr", 3, "", "2026-11-28T04:08Z b"))
    assert parse_log("stdout", b"") == () and parse_log("stdout", b"\n") == (
        LogLine("stdout", 1, "", ""),)


def test_stats_are_asked_ahead_of_their_targets(monkeypatch):
    """The engine answers stats at its next once-a-second sample: every target's stats are
    in flight at once, even when one target is collected at a time (--jobs 1)."""
    import threading

    from diagnose.collect import container as cc
    from diagnose.collect import runner

    together = threading.Barrier(2, timeout=30)  # passes only with two stats asked at once

    def stats(api, inspect):
        together.wait()
        return runner.Piece({"stats.json": b"{}\n"})

    def one(api, key, inspect, opts, pool, early=None):
        out = runner.Collected(key, inspect)
        out.take(*early["stats"].result())
        return out

    monkeypatch.setattr(cc, "collect_stats", stats)
    monkeypatch.setattr(runner, "collect_one", one)
    targets = [(f"c{i}", {"Id": str(i)}) for i in range(4)]
    got = list(runner.collect_all(None, targets, runner.CollectOptions(jobs=1)))
    assert sorted(c.key for c in got) == ["c0", "c1", "c2", "c3"]
    assert all(c.records["stats"].status == "ok" for c in got), [
        c.records["stats"].reason for c in got]


def test_a_target_is_handed_over_when_ready_not_behind_one_waiting_for_stats(monkeypatch):
    """A running target's stats wait for the engine's next sample; a target collected after
    it whose stats are in (an exited one: none to ask) is handed over first, without a target
    worker waiting; the waiting one comes with its stats once they are in."""
    import threading

    from diagnose.collect import container as cc
    from diagnose.collect import runner

    sample = threading.Event()  # the engine's next stats sample
    asked_stats: list[str] = []

    def stats(api, inspect):
        asked_stats.append(inspect["Id"])
        if inspect["Id"] == "running":
            assert sample.wait(30)
        return runner.Piece({"stats.json": b"{}\n"})

    def one(api, key, inspect, opts, pool, early=None):
        out = runner.Collected(key, inspect)
        out.pending = {"stats": early["stats"]}
        return out

    monkeypatch.setattr(cc, "collect_stats", stats)
    monkeypatch.setattr(runner, "collect_one", one)
    targets = [("a-running", {"Id": "running"}), ("b-exited", {"Id": "exited"})]
    with runner.Collection(None, targets, runner.CollectOptions(jobs=2)) as collection:
        items = iter(collection)
        first = next(items)
        assert first.key == "b-exited" and not sample.is_set()
        assert sorted(asked_stats) == ["exited", "running"]  # every target's, from the start
        sample.set()
        second = runner.settle(next(items), None)
    assert second.key == "a-running" and second.records["stats"].status == "ok"
    assert "stats.json" in second.files
    # One at a time (--jobs 1) is in the order given: a secret learned from the first
    # target's files is known before the second's are written.
    sample.clear()
    threading.Timer(0.3, sample.set).start()
    got = [runner.settle(i, None).key
           for i in runner.Collection(None, targets, runner.CollectOptions(jobs=1))]
    assert got == ["a-running", "b-exited"]


def test_a_target_asks_the_engine_for_its_diff_once():
    """The diff collector and the entrypoint probe share one `docker diff` of a target; a
    failed answer is not kept."""
    import threading

    from diagnose.collect.runner import TargetAPI

    asked: list[str] = []
    release = threading.Event()

    class Engine:
        timeout = 5

        def diff(self, cid):
            asked.append(cid)
            release.wait(30)
            if len(asked) == 1:
                return [{"Path": "/tmp", "Kind": 0}]
            raise OSError("unexpected second call")

    api = TargetAPI(Engine())
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(api.diff("c1"))) for _ in range(2)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join()
    assert asked == ["c1"] and results == [[{"Path": "/tmp", "Kind": 0}]] * 2
    assert api.timeout == 5  # everything else is the client's own

    failing = TargetAPI(type("E", (), {"diff": lambda self, cid: asked.append(cid) or 1 / 0})())
    for _ in range(2):
        try:
            failing.diff("c2")
        except ZeroDivisionError:
            pass
    assert asked.count("c2") == 2
