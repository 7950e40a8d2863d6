"""The analysed part of a log stream: its first lines and its last lines.

Checks look for the first errors of a start-up near the beginning of a log and for the lines
that explain an exit at its end; a log kept with `--tail all --max-log-bytes 1G`, or crafted
into a bundle, must not cost memory in proportion to its size.  So every stream is analysed
through a *window*: its first lines (at most LOG_HEAD_LINES and LOG_HEAD_BYTES, taken while
they fit) and its last lines (at most LOG_TAIL_LINES and LOG_TAIL_BYTES); the lines in between
are counted, and :class:`LogCut` records them so reports can say what was not analysed.  A
stream within LOG_TAIL_LINES and LOG_TAIL_BYTES (every log collected with the default caps) is
analysed whole.

The window is a function of the stream's bytes alone, whether they arrive whole (a live run)
or in chunks (a large log read from a bundle): :class:`WindowBuilder` gives the same window for
any chunking, so `diagnose analyze` sees what the live run saw.
"""

from __future__ import annotations

import collections
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from diagnose.model import limits as lim


@dataclass(frozen=True)
class LogCut:
    """Where a stream's window skips lines: after its first `head_lines` lines,
    `skipped_lines` lines (`skipped_bytes` bytes) were not analysed."""

    head_lines: int
    skipped_lines: int
    skipped_bytes: int
    total_lines: int
    total_bytes: int

    @property
    def first_skipped(self) -> int:
        """1-based number of the first line not analysed."""
        return self.head_lines + 1

    @property
    def last_skipped(self) -> int:
        """1-based number of the last line not analysed."""
        return self.head_lines + self.skipped_lines

    def number(self, index: int) -> int:
        """The line number (1-based, in the stream file) of the window's line `index`."""
        return index + 1 if index < self.head_lines else index + 1 + self.skipped_lines

    def describe(self) -> str:
        """`lines 1,001-1,998,000 (63.9 MiB) not analysed`."""
        return (f"lines {self.first_skipped:,}-{self.last_skipped:,} "
                f"({self.skipped_bytes / lim.MiB:.1f} MiB) not analysed")


class WindowBuilder:
    """Feed a stream's bytes in chunks of any size; :meth:`finish` gives its window.

    Lines are looked at one by one only while the head fills up; after that the stream is
    only counted (newlines, at C speed) and its last LOG_TAIL_BYTES + 1 bytes are kept, from
    which :meth:`finish` cuts the tail.  Memory: the window plus about one chunk."""

    def __init__(self) -> None:
        self.head: list[bytes] = []
        self.head_bytes = 0
        self.head_open = True
        self.pending = bytearray()  # while the head is open: a line not ended yet
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_len = 0
        self.tail_starts_line = True  # does self.tail begin where a line begins?
        self.after_newlines = 0  # newlines after the head
        self.total_bytes = 0

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes of the stream."""
        self.total_bytes += len(chunk)
        start = self._feed_head(chunk) if self.head_open else 0
        if start < len(chunk):
            self._feed_tail(chunk, start)

    def _fits(self, size: int) -> bool:
        return len(self.head) < lim.LOG_HEAD_LINES and self.head_bytes + size <= \
            lim.LOG_HEAD_BYTES

    def _feed_head(self, chunk: bytes) -> int:
        """Head lines from `chunk`; the offset where the rest (the tail region) starts."""
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                if self._fits(len(self.pending) + len(chunk) - start):
                    self.pending += chunk[start:]
                    return len(chunk)
                return self._close_head(chunk, start)
            size = len(self.pending) + end + 1 - start
            if not self._fits(size):
                return self._close_head(chunk, start)
            self.head.append(bytes(self.pending) + chunk[start:end + 1])
            self.pending.clear()
            self.head_bytes += size
            start = end + 1

    def _close_head(self, chunk: bytes, start: int) -> int:
        """The line at `start` (with what is pending of it) cannot be in the head: it and all
        that follows are the tail region."""
        self.head_open = False
        if self.pending:
            held = bytes(self.pending)
            self.pending.clear()
            self._feed_tail(held, 0)
        return start

    def _feed_tail(self, data: bytes, start: int) -> None:
        self.after_newlines += data.count(b"\n", start)
        keep = max(start, len(data) - lim.LOG_TAIL_BYTES - 1)
        if keep > start:  # this piece alone holds more than the tail can use
            self.tail.clear()
            self.tail_len = 0
            self.tail_starts_line = data[keep - 1] == 0x0A
        piece = data[keep:] if keep else data
        self.tail.append(piece)
        self.tail_len += len(piece)
        while self.tail_len - len(self.tail[0]) > lim.LOG_TAIL_BYTES:
            old = self.tail.popleft()
            self.tail_len -= len(old)
            self.tail_starts_line = old.endswith(b"\n")

    def finish(self) -> tuple[bytes, LogCut | None]:
        """The window's bytes and where it skips (None: the whole stream is in it)."""
        if self.pending:  # the stream ended inside a last line that fits the head
            self.head.append(bytes(self.pending))
            self.head_bytes += len(self.pending)
            self.pending.clear()
        buf = b"".join(self.tail)
        region = self.after_newlines + (1 if buf and buf[-1] != 0x0A else 0)
        # The tail: whole lines from the end while they fit (a line cut off at the buffer's
        # start is not whole; one that long could not fit anyway).
        pos, count = len(buf), 0
        while pos > 0 and count < lim.LOG_TAIL_LINES:
            line_start = buf.rfind(b"\n", 0, pos - 1) + 1
            if (line_start == 0 and not self.tail_starts_line) or \
                    len(buf) - line_start > lim.LOG_TAIL_BYTES:
                break
            pos, count = line_start, count + 1
        size = len(buf) - pos
        data = b"".join([*self.head, buf[pos:]])
        skipped = region - count
        if not skipped:
            return data, None
        return data, LogCut(len(self.head), skipped,
                            self.total_bytes - self.head_bytes - size,
                            len(self.head) + region, self.total_bytes)


def window(data: bytes) -> tuple[bytes, LogCut | None]:
    """The window of a whole stream (the stream itself when it is within the tail bounds)."""
    if len(data) <= lim.LOG_TAIL_BYTES and data.count(b"\n") < lim.LOG_TAIL_LINES:
        return data, None
    builder = WindowBuilder()
    builder.feed(data)
    return builder.finish()


@dataclass
class LogBody:
    """A log read from a bundle as a stream: its window for the checks, and (when a bundle is
    being rewritten) the whole, transformed body in a temporary file, for the writer."""

    window: bytes
    cut: LogCut | None
    spool: IO[bytes] | None = None
    size: int = 0
    sha256: str = ""


def whole_lines(chunks: Iterable[bytes], size: int) -> Iterable[bytes]:
    """Regroup chunks into pieces of whole lines of about `size` bytes (a line longer than
    that is cut into pieces of `size`)."""
    buf = bytearray()
    for chunk in chunks:
        buf += chunk
        while len(buf) >= size:
            cut = buf.rfind(b"\n", 0, size) + 1 or size
            yield bytes(buf[:cut])
            del buf[:cut]
    if buf:
        yield bytes(buf)


def stream_log(chunks: Iterable[bytes], transform: Callable[[bytes], bytes] | None,
               spool: IO[bytes] | None) -> LogBody:
    """Read a log stream once: transform it (redaction) in pieces of whole lines, keep its
    window, and write the transformed whole to `spool` when given."""
    builder = WindowBuilder()
    h = hashlib.sha256()
    size = 0
    pieces = whole_lines(chunks, lim.REDACT_CHUNK_BYTES) if transform is not None else chunks
    for piece in pieces:
        out = transform(piece) if transform is not None else piece
        builder.feed(out)
        if spool is not None:
            spool.write(out)
            h.update(out)
            size += len(out)
    data, cut = builder.finish()
    if spool is not None:
        spool.flush()
        spool.seek(0)
    return LogBody(data, cut, spool, size, h.hexdigest() if spool is not None else "")
