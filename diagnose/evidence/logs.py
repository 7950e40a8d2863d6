"""Log lines as checks see them: a `docker logs --timestamps` stream, or its analysed window
(:mod:`diagnose.evidence.logwindow`), split into numbered lines.

Line numbers always point into the stream file in the bundle, also after a window skipped
lines, so evidence (`logs/stdout.log#L1998000`) stays exact.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from diagnose.evidence import layout
from diagnose.evidence.logwindow import LogCut, window


# Not frozen: a frozen dataclass sets each field through object.__setattr__, which made
# building the 2,000 lines of every container's log the largest single cost of analysing a
# fleet.  Lines are never changed after parse_log (hash and equality are by value, as before).
@dataclass(slots=True, unsafe_hash=True)
class LogLine:
    """One log line: its 1-based number in its stream file, timestamp and text."""

    stream: str
    number: int
    timestamp: str
    text: str

    @property
    def file(self) -> str:
        """Container-relative file holding this line."""
        return layout.LOG_STDOUT if self.stream == "stdout" else layout.LOG_STDERR


_DIGITS_AS_ZERO = str.maketrans("123456789", "000000000")


def shape(text: str) -> str:
    """`text` with every ASCII digit read as 0 (character for character: a string in a text is
    in the text's shape as its own shape)."""
    return text.translate(_DIGITS_AS_ZERO)


_FIRST, _SECOND, _THIRD, _FIFTH = (operator.itemgetter(i) for i in (0, 1, 2, 4))


def parse_log(stream: str, data: bytes, cut: LogCut | None = None) -> tuple[LogLine, ...]:
    """Split a `docker logs --timestamps` stream (or its window, see
    :mod:`diagnose.evidence.logwindow`: `cut` says where it skips lines) into numbered lines.

    Lines are decoded as UTF-8 with replacement: logs may hold binary garbage, and a check
    must see what a human would see, never crash on it.
    """
    text = data.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    numbers: Iterator[int] = itertools.count(1)
    if cut is not None:
        numbers = itertools.chain(range(1, cut.head_lines + 1),
                                  itertools.count(cut.head_lines + cut.skipped_lines + 1))
    # Usually every line starts with its timestamp (`docker logs --timestamps`): then the
    # lines are split and checked all at once, without a Python loop over them.
    parts = list(map(str.partition, lines, itertools.repeat(" ")))
    stamps = list(map(_FIRST, parts))
    if (lines and all(map(_SECOND, parts)) and min(map(len, stamps)) >= 20
            and all(map(str.endswith, stamps, itertools.repeat("Z")))
            and all(map(operator.eq, map(_FIFTH, stamps), itertools.repeat("-")))):
        texts = list(map(_THIRD, parts))
        if "\r" in text:
            texts = [t.rstrip("\r") for t in texts]
        return tuple(map(LogLine, itertools.repeat(stream), numbers, stamps, texts))
    out = []  # otherwise each line is judged on its own (the split above is reused)
    for number, raw, (stamp, sep, rest) in zip(numbers, lines, parts, strict=False):
        if sep and len(stamp) >= 20 and stamp[4] == "-" and stamp.endswith("Z"):
            out.append(LogLine(stream, number, stamp, rest.rstrip("\r")))
        else:
            out.append(LogLine(stream, number, "", raw.rstrip("\r")))
    return tuple(out)


def last_with_text(lines: Sequence[LogLine], count: int) -> list[LogLine]:
    """The last `count` lines of `lines` that hold more than whitespace, in their order, read
    from the end (a log has thousands of lines; a reading wants its last few)."""
    found = list(itertools.islice((ln for ln in reversed(lines) if ln.text.strip()), count))
    found.reverse()
    return found


def log_window(files: Mapping[str, bytes], cuts: Mapping[str, LogCut],
               rel: str) -> tuple[bytes, LogCut | None]:
    """The analysed window of one log file (see :mod:`diagnose.evidence.logwindow`)."""
    data = files.get(rel, b"")
    if rel in cuts:
        return data, cuts[rel]
    return window(data)


def adjacent(stream: tuple[LogLine, ...], line: LogLine, count: int) -> tuple[LogLine, ...]:
    """The lines numbered just before (count < 0) or after `line` in `stream`, stopping at a
    gap of the window."""
    index = bisect.bisect_left(stream, line.number, key=operator.attrgetter("number"))
    if count < 0:
        got = stream[max(0, index + count):index]
        return tuple(ln for ln in got if ln.number >= line.number + count)
    got = stream[index + 1:index + 1 + count]
    return tuple(ln for ln in got if ln.number <= line.number + count)
