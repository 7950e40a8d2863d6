"""The user's own redaction patterns (`--redact REGEX`, config `redact = [...]`), run on RE2.

A user's pattern runs over every log line a container printed, so it runs on a linear-time
engine: RE2 through google-re2 (import name `re2`), whatever the pattern.  RE2 syntax is
Python's without lookaround and backreferences; a pattern RE2 cannot compile is a usage error
(exit 2) that says so.  The secret is group 1 when the pattern has groups, else the whole
match.

google-re2 encodes the text to UTF-8 on every call (`search(text, pos)` per position would
re-encode the whole text each time), so each string is matched once with `finditer`.  Text
read with surrogateescape (logs that are not valid UTF-8) is matched as the bytes it came
from, and the offsets are mapped back to characters.
"""

from __future__ import annotations

from typing import Any

from diagnose.model.errors import UsageError

RE2_HINT = ("--redact and config `redact` patterns use RE2 syntax: no lookaround (?=, (?!, "
            "(?<=, (?<!) and no backreferences (\\1)")


class UserPattern:
    """One compiled user pattern; :meth:`spans` gives the secret's spans in a string."""

    __slots__ = ("pattern", "_rx", "_group")

    def __init__(self, pattern: str, origin: str = "--redact") -> None:
        import re2  # startup: RE2 loads only when the user gives patterns

        options = re2.Options()
        options.log_errors = False  # RE2 would print its parse error on stderr itself
        try:
            self._rx: Any = re2.compile(pattern, options)
        except re2.error as exc:
            why = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(
                exc.args[0], bytes) else str(exc)
            raise UsageError(f"{origin} pattern {pattern!r} is not valid RE2 syntax: {why}",
                             RE2_HINT) from None
        self.pattern = pattern
        self._group = 1 if self._rx.groups else 0

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of the secret of every match in `text`, non-empty, in order."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return self._byte_spans(text)
        g = self._group
        return [m.span(g) for m in self._rx.finditer(text) if m.start(g) < m.end(g)]

    def _byte_spans(self, text: str) -> list[tuple[int, int]]:
        data = text.encode("utf-8", "surrogateescape")
        g = self._group
        raw = [m.span(g) for m in self._rx.finditer(data) if m.start(g) < m.end(g)]
        offsets = sorted({o for span in raw for o in span})
        chars: dict[int, int] = {}
        last_byte = last_char = 0
        for off in offsets:  # one pass over the text, however many matches
            last_char += len(data[last_byte:off].decode("utf-8", "surrogateescape"))
            last_byte = off
            chars[off] = last_char
        return [(chars[a], chars[b]) for a, b in raw]


def compile_patterns(patterns: tuple[str, ...] | list[str], origin: str = "--redact"
                     ) -> list[UserPattern]:
    """Compile the user's patterns (UsageError, exit 2, for one RE2 cannot compile)."""
    return [UserPattern(p, origin) for p in patterns]
