"""The analysed window of a log: the same for any chunking, the same as its definition, and
numbered and navigated correctly by the evidence views."""

from __future__ import annotations

import random

import pytest

from diagnose.evidence import layout
from diagnose.evidence.logs import parse_log
from diagnose.evidence.logwindow import LogCut, WindowBuilder, stream_log, whole_lines, window
from diagnose.model import limits as lim
from tests.support.evidence import make_container

SMALL = {"LOG_HEAD_LINES": 3, "LOG_HEAD_BYTES": 40, "LOG_TAIL_LINES": 4, "LOG_TAIL_BYTES": 60}


@pytest.fixture
def small(monkeypatch):
    for name, value in SMALL.items():
        monkeypatch.setattr(lim, name, value)


def reference(data: bytes) -> tuple[bytes, LogCut | None]:
    """The window by its definition: the first lines while they fit, then the longest run of
    last lines that fits; the lines in between are skipped."""
    parts = data.split(b"\n")
    last = parts.pop()
    lines = [p + b"\n" for p in parts] + ([last] if last else [])
    head: list[bytes] = []
    for ln in lines:
        if len(head) < lim.LOG_HEAD_LINES and sum(map(len, head)) + len(ln) <= lim.LOG_HEAD_BYTES:
            head.append(ln)
        else:
            break
    rest = lines[len(head):]
    tail: list[bytes] = []
    for ln in reversed(rest):
        if len(tail) < lim.LOG_TAIL_LINES and sum(map(len, tail)) + len(ln) <= \
                lim.LOG_TAIL_BYTES:
            tail.append(ln)
        else:
            break
    tail.reverse()
    skipped = len(rest) - len(tail)
    cut = None if not skipped else LogCut(
        len(head), skipped, len(data) - sum(map(len, head)) - sum(map(len, tail)), len(lines),
        len(data))
    return b"".join(head + tail), cut


def _random_log(rng: random.Random) -> bytes:
    lines = []
    for _ in range(rng.randint(0, 14)):
        size = rng.choice((0, 1, 5, 12, 25, 39, 59, 61, 130))
        lines.append(bytes(rng.choice(b"abc \t\x00\xff") for _ in range(size)))
    data = b"\n".join(lines)
    return data + (b"\n" if lines and rng.random() < 0.7 else b"")


def _chunked(data: bytes, rng: random.Random) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        n = rng.randint(1, 70)
        out.append(data[i:i + n])
        i += n
    return out


def test_the_window_is_its_definition_for_any_chunking(small):
    rng = random.Random(7)
    for _ in range(3000):
        data = _random_log(rng)
        want = reference(data)
        b = WindowBuilder()
        for chunk in _chunked(data, rng):
            b.feed(chunk)
        assert b.finish() == want, data
        assert window(data) == want, data


def test_a_log_within_the_tail_bounds_is_kept_whole():
    data = b"".join(b"2026-11-28T01:00:00.%09dZ line %d\n" % (i, i)
                    for i in range(lim.LOG_TAIL_LINES - 1))
    assert window(data) == (data, None)
    default_caps = b"x" * (lim.LOG_TAIL_BYTES - 1) + b"\n"  # --max-log-bytes 8M
    assert window(default_caps) == (default_caps, None)


def test_lines_keep_their_numbers_and_neighbours_stop_at_the_gap(small):
    lines = [b"2026-11-28T01:00:%02d.000000000Z line %d\n" % (i, i + 1) for i in range(10)]
    data, cut = window(b"".join(lines))
    assert cut is not None and (cut.head_lines, cut.skipped_lines) == (1, 8)
    assert cut.describe().startswith("lines 2-9 ")
    parsed = parse_log("stdout", data, cut)
    assert [ln.number for ln in parsed] == [1, 10]
    assert [ln.text for ln in parsed] == ["line 1", "line 10"]
    c = make_container("k", files={layout.LOG_STDOUT: b"".join(lines)})
    assert [ln.number for ln in c.stdout] == [1, 10]
    assert c.lines_after(c.stdout[0], 3) == () and c.lines_before(c.stdout[1], 3) == ()
    assert c.log_line_count("stdout") == 10 and "not analysed" in c.log_unanalysed()


def test_neighbours_in_a_whole_log():
    data = b"".join(b"2026-11-28T01:00:%02d.000000000Z line %d\n" % (i, i + 1)
                    for i in range(6))
    c = make_container("k", files={layout.LOG_STDOUT: data})
    third = c.stdout[2]
    assert [ln.number for ln in c.lines_before(third, 2)] == [1, 2]
    assert [ln.number for ln in c.lines_after(third, 2)] == [4, 5]
    assert [ln.number for ln in c.lines_after(c.stdout[-1], 2)] == []
    assert c.log_unanalysed() == ""


def test_stream_log_transforms_whole_lines_and_spools_everything(tmp_path, small):
    data = b"".join(b"line %d secret\n" % i for i in range(50))
    pieces: list[bytes] = []

    def upper(piece: bytes) -> bytes:
        pieces.append(piece)
        return piece.replace(b"secret", b"[gone]")

    with open(tmp_path / "spool", "w+b") as spool:
        body = stream_log(iter(_chunked(data, random.Random(3))), upper, spool)
        out = spool.read()
    assert out == data.replace(b"secret", b"[gone]") and body.size == len(out)
    assert all(p.endswith(b"\n") for p in pieces)
    assert (body.window, body.cut) == window(out)


def test_whole_lines_cuts_only_lines_longer_than_a_piece():
    chunks = [b"ab\ncd", b"ef\n", b"x" * 25, b"\nz"]
    assert list(whole_lines(iter(chunks), 10)) == [b"ab\ncdef\n", b"x" * 10, b"x" * 10,
                                                   b"xxxxx\nz"]


def test_last_with_text_keeps_the_last_lines_that_hold_text_in_their_order():
    from diagnose.evidence.logs import LogLine, last_with_text

    lines = tuple(LogLine("stdout", i, "", text) for i, text in
                  enumerate(["a", " ", "b", "", "c", "\t"], start=1))
    assert [ln.number for ln in last_with_text(lines, 2)] == [3, 5]
    assert [ln.number for ln in last_with_text(lines, 10)] == [1, 3, 5]
    assert last_with_text(lines, 0) == [] and last_with_text((), 3) == []
