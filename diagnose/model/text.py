"""Small text helpers every stage shares, each written once: cutting a long text, sizes and
durations for people, and a value quoted as an evidence excerpt.
"""

from __future__ import annotations

import json
from typing import Any

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


def clip(text: Any, most: int) -> Any:
    """`text`, cut after `most` characters (saying how many more there were); anything but a
    string as it is."""
    if not isinstance(text, str) or len(text) <= most:
        return text
    return f"{text[:most]}... [{len(text) - most:,} more characters]"


def human_bytes(n: Any) -> str:
    """Bytes in binary units with one decimal: `1.5 GiB`, `512 B` (anything that is not a
    number as it is)."""
    try:
        value = float(n)
    except (TypeError, ValueError):
        return str(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def exact_bytes(size: int) -> str:
    """A bound as it is written: `16 MiB`, `1 GiB`, `512 KiB` (exact units only; bytes
    otherwise)."""
    for unit, name in ((GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def option_size(n: int) -> str:
    """A size as a docker option reads it: `64 MiB`, `1.5 GiB`, `512 B` (the largest unit it
    is a whole number of, or at least ten of)."""
    for unit, div in (("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if n >= div and n % div == 0 or n >= div * 10:
            return f"{n / div:g} {unit}"
    return f"{n} B"


def human_seconds(seconds: float | None, unknown: str = "unknown") -> str:
    """`350 ms`, `4.2 s`, `3 min`, `2.5 h`, or `unknown` (said as `unknown`)."""
    if seconds is None:
        return unknown
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def excerpt(value: Any, ascii_only: bool = True) -> str:
    """A value quoted as evidence: strings as they are, anything else as compact JSON with
    sorted keys (`ascii_only`: non-ASCII characters as `\\uXXXX` escapes)."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=ascii_only)
