"""Characters that must never reach a reader raw, and how each kind of output shows them.

Container output, names, engine messages and every field of a bundle given to `diagnose
analyze` may hold C0 and C1 control characters (terminal escapes: an OSC 52 clipboard write,
a title change, a screen clear; NUL; a CR that overwrites a line) and the Unicode
bidirectional formatting characters (U+202E and friends reorder what a reader sees, the
"Trojan Source" trick).  Passed through, the first act on the terminal that shows our output
and the second make a report, a JSON value or an error message read differently from what it
holds.  So:

- the human formats (text, Markdown, HTML) and stderr show them as escapes (`\\x1b`,
  `\\u202e`): :func:`visible`, :func:`one_line` for the one-line messages on stderr;
- JSON (the report, findings.json, manifest.json) spells them as `\\u001b`, `\\u202e`: still
  valid JSON that parses back to the very same string (:func:`json_text`).

Tab and newline are layout, not tricks: :func:`visible` keeps them (a one-line message folds
them into spaces).
"""

from __future__ import annotations

import re
from typing import Any

from diagnose.model.jsonout import indented_json

#: C0 controls but tab and newline, DEL, C1 controls, and the bidirectional formatting marks
#: (ALM U+061C, LRM/RLM U+200E/F, LRE..RLO U+202A-E, LRI..PDI U+2066-9).
INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

# What JSON text may not carry raw: the above, and the two line separators JavaScript reads
# as line ends (json.dumps escapes the rest of C0 itself).
_JSON_RAW = re.compile(
    "[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch == "\r":
        return "\\r"
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def visible(text: str) -> str:
    """`text` with control and bidi characters shown as escapes (`\\x1b`, `\\r`, `\\u202e`)."""
    return INVISIBLE.sub(_escape, text) if INVISIBLE.search(text) else text


def visible_all(value: Any) -> Any:
    """:func:`visible` applied to every string in nested dicts and lists."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {k: visible_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [visible_all(v) for v in value]
    return value


def one_line(text: str) -> str:
    """A message for stderr: one line (whitespace runs folded into one space) with nothing
    a terminal would obey."""
    return visible(" ".join(str(text).split()))


def json_text(value: Any) -> str:
    """JSON text, indented by two spaces (UTF-8 kept as is), in which control, bidi and
    line-separator characters are `\\uXXXX` escapes.

    Those characters can only stand inside JSON strings (keys included), where the escape
    means the same character, so replacing them in the finished text is exact.
    """
    text = indented_json(value)[:-1].decode("utf-8")
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
