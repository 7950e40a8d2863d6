"""Walking a report or manifest: apply a function to every string, show control characters.

Used by :meth:`diagnose.redact.redactor.Redactor.scrub` (and so by everything printed or
written from a report): the report is built from redacted evidence, and walking it once more
is the guarantee that no learned secret and no raw terminal escape reaches stdout or the
bundle's own files.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from typing import Any

from diagnose.model.lazyre import lazy_compile

_CONTROL = lazy_compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(s: str) -> str:
    """Control characters (terminal escapes, NUL...) shown as `\\xNN`; tab and newline kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s) if _CONTROL.search(s) else s


def walk_strings(obj: Any, fix: Any) -> Any:
    """Apply `fix` to every string value in dataclasses, dicts, lists and tuples."""
    kind = type(obj)
    if kind is str:  # the most common value first
        return fix(obj)
    if obj is None or kind is int or kind is float or kind is bool or isinstance(obj, enum.Enum):
        return obj
    if isinstance(obj, str):
        return fix(obj)
    if isinstance(obj, dict):
        return {k: walk_strings(v, fix) for k, v in obj.items()}
    if kind is tuple:  # immutable: kept when no element changed (as dataclasses are)
        new = tuple(walk_strings(x, fix) for x in obj)
        return obj if all(a is b for a, b in zip(new, obj, strict=True)) else new
    if isinstance(obj, list | tuple):
        return type(obj)(walk_strings(x, fix) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for name in _init_fields(type(obj)):
            value = getattr(obj, name)
            fixed = walk_strings(value, fix)
            if fixed is not value and fixed != value:
                changes[name] = fixed
        # Nothing changed (the usual case: reports are built from redacted evidence): the
        # same frozen object, without rebuilding it.
        return dataclasses.replace(obj, **changes) if changes else obj
    return obj


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)
