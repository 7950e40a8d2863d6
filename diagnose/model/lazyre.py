"""Regular expressions compiled when first used.

The checks and redaction rules hold well over a hundred patterns, and Python compiles a
pattern in Python code: about a tenth of a second of every start when done at import.  Most
patterns of a run are never used (a log signature is only tried on a log that has its
trigger words), so each is compiled on first use instead, once per process.
"""

from __future__ import annotations

import re
from typing import Any, cast

#: The compiled pattern's methods a stand-in keeps once it has them: later calls reach the
#: pattern's own method as fast as on a compiled pattern (a `__getattr__` on every call cost
#: more than many of the searches, and scrubbing a report searches every string it holds).
_METHODS = ("search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer")


class _LazyPattern:
    """Stands in for a compiled pattern; compiles on first attribute access."""

    __slots__ = ("_args", "_compiled", *_METHODS)

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def _get(self) -> re.Pattern[str]:
        rx = self._compiled
        if rx is None:  # two threads may both compile it: the same pattern either way
            rx = self._compiled = re.compile(*self._args)
        return rx

    @property
    def pattern(self) -> str:
        """The source pattern (no need to compile for that)."""
        return self._args[0]

    def __getattr__(self, name: str) -> Any:
        # Reached only for what is not set yet (an empty slot, or any other attribute).
        if not hasattr(re.Pattern, name):
            # A compiled pattern has no attribute its type lacks (no instance dict), so a
            # probe such as the check registry's getattr(value, "__diagnose_check__", None)
            # over a module's names is answered without compiling the pattern.
            raise AttributeError(name)
        value = getattr(self._get(), name)
        if name in _METHODS:
            object.__setattr__(self, name, value)
        return value

    def __repr__(self) -> str:
        return f"lazy_compile({self._args[0]!r}, {self._args[1]})"


def lazy_compile(pattern: str, flags: int | re.RegexFlag = 0) -> re.Pattern[str]:
    """`re.compile`, deferred to the first use of the result (search, match, sub, pattern...).

    The result is used like a compiled pattern, except that the module-level functions of
    `re` (re.sub(p, ...)) do not take it: call its methods.
    """
    return cast("re.Pattern[str]", _LazyPattern(pattern, int(flags)))
