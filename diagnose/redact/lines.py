"""Redaction of line-oriented text (logs, tracebacks): the part that knows about lines.

Lines are never joined or split, so the log line numbers that evidence points at stay valid;
Docker's `--timestamps` prefix of each line is kept as it is; non-UTF-8 bytes survive exactly
(surrogateescape).  PEM private keys spread over lines are handled as blocks: every line of
key material becomes the block's one placeholder, also when the log caps cut off its BEGIN.
A JWT cut at the end of a line (printed in two pieces, or split by Docker's 16 KiB log
message limit) goes whole: its head on that line and the rest of it at the start of the next.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable

from diagnose.evidence.logs import shape
from diagnose.model.lazyre import lazy_compile
from diagnose.redact import rules as rr
from diagnose.redact.scan import PEM_BEGIN, PEM_END, pem_body_line
from diagnose.redact.text import TextRedactor

PEM_BLOCK_MAX_LINES = 400


def redact_lines(r: TextRedactor, data: bytes, where: str) -> bytes:
    """Redact a text file line by line (see the module docstring)."""
    text = data.decode("utf-8", errors="surrogateescape")
    lines = text.split("\n")
    todo = lines_to_look_at(r, text, lines)
    out: list[str] = []
    pem: list[tuple[str, str]] = []  # (timestamp prefix, material) of an open block
    jwt_rest = False  # the line before ended with a JWT cut short
    for i, line in enumerate(lines):
        if not pem and not jwt_rest and todo is not None and i not in todo:
            out.append(line)
            continue
        stamp, rest = split_stamp(line)
        if pem:
            end = PEM_END.search(rest)
            if end or len(pem) >= PEM_BLOCK_MAX_LINES:
                tail = rest[end.start():] if end else ""
                pem.append((stamp, rest[: end.start()] if end else rest))
                out.extend(_pem_lines(r, pem, where))
                if end:
                    out[-1] += tail
                pem = []
            else:
                pem.append((stamp, rest))
            continue
        begin = PEM_BEGIN.search(rest)
        if begin and not PEM_END.search(rest, begin.end()):
            head = rest[: begin.end()]
            pem.append((stamp + r.text(head[: begin.start()], where) + head[begin.start():],
                        rest[begin.end():]))
            continue
        if PEM_END.search(rest) and not begin:
            _orphan_pem_tail(r, out, where)
        head = ""
        if jwt_rest:
            jwt_rest = False
            m = _JWT_REST.match(rest)
            if m:
                head, rest = r.replace(m.group(), "jwt", where), rest[m.end():]
        cut, cut_end = _cut_jwt(rest)
        if cut >= 0:
            jwt_rest = True
            out.append(stamp + head + r.text(rest[:cut], where)
                       + r.replace(rest[cut:cut_end], "jwt", where) + rest[cut_end:])
            continue
        out.append(stamp + head + r.text(rest, where))
    if pem:
        out.extend(_pem_lines(r, pem, where))
    return "\n".join(out).encode("utf-8", errors="surrogateescape")


_TOKEN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_JWT_REST = lazy_compile(r"[A-Za-z0-9_.-]{8,}+")
DOCKER_LINE_MAX = 16384  # Docker splits longer log messages into lines of this size


def _cut_jwt(rest: str) -> tuple[int, int]:
    """Where a JWT cut short at the end of `rest` is ((-1, -1) when there is none): one with
    fewer than three parts, an empty signature, or on a line of Docker's split size."""
    if "eyJ" not in rest:
        return -1, -1
    end = len(rest) - 1 if rest.endswith("\r") else len(rest)
    start = end
    while start > 0 and rest[start - 1] in _TOKEN:
        start -= 1
    parts = rest[start:end].split(".")
    if not parts[0].startswith("eyJ") or len(parts[0]) < 10:
        return -1, -1
    if len(parts) >= 3 and parts[2] and len(rest) < DOCKER_LINE_MAX:
        return -1, -1
    return start, end


#: Trigger literals with no digit can be looked for in the lines' shapes (below).
_SHAPE_SAFE = tuple(t for t in (*rr.ALL_TRIGGERS, "-----") if not any(c.isdigit() for c in t))
_DIGIT_TRIGGERS = tuple(t for t in (*rr.ALL_TRIGGERS, "-----") if t not in _SHAPE_SAFE)
#: The digit-bearing literals as they read in a line's shape.
_SHAPED_DIGITS = tuple(dict.fromkeys(shape(t) for t in _DIGIT_TRIGGERS))


def lines_to_look_at(r: TextRedactor, text: str, lines: list[str]) -> set[int] | None:
    """Indices of the lines any rule, user pattern or learned secret could touch (None: all
    of them), found with plain substring searches over the whole text: far cheaper than
    running every rule on every line of an 8 MiB log.

    Logs repeat themselves: lines that differ only in their numbers (timestamps, ids,
    counters) have one *shape* (every digit read as 0).  A literal is in a line only if its
    shape is in the line's shape (exactly when it has no digits), and a token that a rule
    without a literal finds in a line is found in the line's shape too (digits stay digits).
    So when shapes are few, the literals and those rules are looked for once per shape, and
    only the lines of the shapes found are read (their digit-bearing literals checked on the
    line itself); learned values and user patterns are looked for in the text itself.
    """
    low = text.lower()
    if len(low) != len(text):
        return None
    hits: set[int] = set()
    shape_of_line = shape(low).split("\n")
    shapes = list(dict.fromkeys(shape_of_line))  # distinct, in order of first appearance
    text_starts: list[int] = []  # the same for `text` and `low`; computed when needed

    def starts() -> list[int]:
        if not text_starts:
            text_starts.extend(_starts(text))
        return text_starts

    spans: list[tuple[int, int]] = []
    if len(shapes) * 2 <= len(lines):
        joined = "\n".join(shapes)
        joined_starts = _starts(joined)
        sure = _marks(_SHAPE_SAFE, joined, len(shapes), lambda: joined_starts)
        maybe = _marks(_SHAPED_DIGITS, joined, len(shapes), lambda: joined_starts)
        for a, b in rr.self_triggered_spans(joined):
            first = bisect.bisect_right(joined_starts, a) - 1
            maybe.update(range(first, bisect.bisect_right(joined_starts, max(b - 1, a))))
        if sure or maybe:  # the lines of those shapes (usually none: no line is walked)
            certain = {shapes[n] for n in sure}
            check = {shapes[n] for n in maybe} - certain
            hits.update(i for i, got in enumerate(shape_of_line)
                        if got in certain or (got in check and _needs_look(lines[i])))
    else:
        hits.update(_marks((*_SHAPE_SAFE, *_DIGIT_TRIGGERS), low, len(lines), starts))
        spans += rr.self_triggered_spans(text)
    hits.update(_marks(tuple(r.spread_values()), text, len(lines), starts))
    for pattern in r.extra_patterns:
        spans += pattern.spans(text)
    for a, b in spans:
        first = bisect.bisect_right(starts(), a) - 1
        last = bisect.bisect_right(starts(), max(b - 1, a)) - 1
        hits.update(range(first, last + 1))
    return hits


def _needs_look(line: str) -> bool:
    """A line whose shape holds a digit-bearing trigger or a token: does the line itself?"""
    low = line.lower()
    return any(t in low for t in _DIGIT_TRIGGERS) or bool(rr.self_triggered_spans(line))


def _starts(hay: str) -> list[int]:
    """Offset of each line of `hay`."""
    return list(itertools.accumulate((len(line) + 1 for line in hay.split("\n")[:-1]),
                                     initial=0))


def _marks(needles: tuple[str, ...], hay: str, count: int,
           line_starts: Callable[[], list[int]]) -> set[int]:
    """Indices of the lines of `hay` (`count` of them, starting at `line_starts()`, asked
    only when a needle is there) holding any of `needles`."""
    found: set[int] = set()
    starts: list[int] | None = None
    for needle in needles:
        i = hay.find(needle)
        if i < 0:
            continue
        if starts is None:
            starts = line_starts()
        while i >= 0:
            n = bisect.bisect_right(starts, i) - 1
            found.add(n)
            if n + 1 >= count:
                break
            i = hay.find(needle, starts[n + 1])  # the rest of this line is decided
    return found


def split_stamp(line: str) -> tuple[str, str]:
    """(Docker timestamp prefix or "", the rest of the line)."""
    m = rr.LOG_STAMP.match(line)
    return (line[: m.end()], line[m.end():]) if m else ("", line)


def _pem_lines(r: TextRedactor, block: list[tuple[str, str]], where: str) -> list[str]:
    """Replace the material of one multi-line PEM block; every line keeps its prefix."""
    material = "\n".join(m for _, m in block if m.strip())
    if not material.strip():
        return [p + m for p, m in block]
    ph = r.replace(material, "pem-private-key", where)
    return [p + (ph if m.strip() else m) for p, m in block]


def _orphan_pem_tail(r: TextRedactor, out: list[str], where: str) -> None:
    """An END line whose BEGIN was cut off (log caps keep the end of a log): the key material
    lines just above it are redacted too."""
    start = len(out)
    while start > 0 and len(out) - start < PEM_BLOCK_MAX_LINES:
        _, rest = split_stamp(out[start - 1])
        if not rest.strip() or not pem_body_line(rest):
            break
        start -= 1
    if start == len(out):
        return
    block = [split_stamp(line) for line in out[start:]]
    out[start:] = _pem_lines(r, block, where)
