"""Measure a JSON text before parsing it: its nesting depth and how many items it holds.

`json.loads` recurses once per nesting level (a deep document ends in RecursionError, and so
would every walk over what it returns), and a parsed item costs tens of bytes whatever its
size in the text.  Both are read here without parsing, at C speed: strings are cut out with
one regular expression, then only the brackets are looked at.
"""

from __future__ import annotations

import re

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_KEEP = b"[]{}"
_NOT_BRACKETS = bytes(b for b in range(256) if b not in _KEEP)
_AS_PARENS = bytes.maketrans(b"[]{}", b"()()")


class TooDeep(ValueError):
    """The document nests deeper than allowed."""


def measure(data: bytes, max_depth: int) -> int:
    """The number of items (strings, numbers, literals, objects, arrays) of the JSON text
    `data`, at most one too many; raise :class:`TooDeep` when it nests deeper than
    `max_depth`.  Text that is not JSON is measured as far as it goes (the parser refuses it
    later)."""
    bare, strings = _STRING.subn(b"", data)
    brackets = bare.translate(_AS_PARENS, _NOT_BRACKETS)
    items = strings + brackets.count(b"(") + bare.count(b",") + 1
    # Each pass removes every empty pair, i.e. the innermost level of every branch: the
    # number of passes is the depth.
    too_deep = b"(" * (max_depth + 1)
    for _ in range(max_depth):
        if not brackets:
            return items
        if too_deep in brackets:
            break
        shorter = brackets.replace(b"()", b"")
        if len(shorter) == len(brackets):
            return items  # unbalanced: not JSON
        brackets = shorter
    if brackets and b"()" in brackets:
        raise TooDeep(f"nested deeper than {max_depth} levels")
    return items
