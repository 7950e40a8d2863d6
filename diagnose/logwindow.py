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

from diagnose import limits as lim


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

    Memory: the window plus one line that may still be cut off (a line longer than
    LOG_TAIL_BYTES can be in no window and is only counted)."""

    def __init__(self) -> None:
        self.head: list[bytes] = []
        self.head_bytes = 0
        self.head_open = True
        self.tail: collections.deque[bytes] = collections.deque()
        self.tail_bytes = 0
        self.skipped_lines = 0
        self.skipped_bytes = 0
        self.total_lines = 0
        self.total_bytes = 0
        self.partial: list[bytes] = []
        self.partial_len = 0

    def feed(self, chunk: bytes) -> None:
        """Take the next bytes of the stream."""
        self.total_bytes += len(chunk)
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                self._more(chunk[start:])
                return
            if self.partial:
                self._more(chunk[start:end + 1])
                self._line(b"".join(self.partial), self.partial_len)
                self.partial, self.partial_len = [], 0
            else:
                self._line(chunk[start:end + 1], end + 1 - start)
            start = end + 1

    def _more(self, piece: bytes) -> None:
        if not piece:
            return
        self.partial_len += len(piece)
        if self.partial_len <= lim.LOG_TAIL_BYTES:
            self.partial.append(piece)
        elif self.partial:  # too long for any window: only its length is kept
            self.partial = [b""]

    def _line(self, line: bytes, size: int) -> None:
        self.total_lines += 1
        if self.head_open:
            if len(self.head) < lim.LOG_HEAD_LINES and self.head_bytes + size <= \
                    lim.LOG_HEAD_BYTES:
                self.head.append(line)
                self.head_bytes += size
                return
            self.head_open = False
        self.tail.append(line)
        self.tail_bytes += size
        while self.tail and (len(self.tail) > lim.LOG_TAIL_LINES
                             or self.tail_bytes > lim.LOG_TAIL_BYTES):
            old = self.tail.popleft()
            # A line too long to keep was stored empty; its size is tail_bytes's excess.
            gone = len(old) if old or len(self.tail) else self.tail_bytes
            self.tail_bytes -= gone
            self.skipped_lines += 1
            self.skipped_bytes += gone

    def finish(self) -> tuple[bytes, LogCut | None]:
        """The window's bytes and where it skips (None: the whole stream is in it)."""
        if self.partial_len:
            self._line(b"".join(self.partial), self.partial_len)
            self.partial, self.partial_len = [], 0
        data = b"".join([*self.head, *self.tail])
        if not self.skipped_lines:
            return data, None
        return data, LogCut(len(self.head), self.skipped_lines, self.skipped_bytes,
                            self.total_lines, self.total_bytes)


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
