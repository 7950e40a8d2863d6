"""Engine timestamps: RFC 3339 with nanoseconds, read and written one way everywhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utc_stamp(t: float) -> str:
    """RFC 3339 UTC with seconds."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime | None:
    """Parse an engine RFC 3339 timestamp (nanoseconds allowed); None for the zero time (and
    for anything that is not a timestamp)."""
    if not value or not isinstance(value, str) or value.startswith("0001-01-01"):
        return None
    text = value.replace("Z", "+00:00")
    if "." in text:
        head, _, tail = text.partition(".")
        frac = ""
        rest = ""
        for i, ch in enumerate(tail):
            if not ch.isdigit():
                rest = tail[i:]
                break
            frac += ch
        text = f"{head}.{frac[:6].ljust(6, '0')}{rest}"
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else stamp.replace(tzinfo=UTC)


def stamp_key(stamp: str) -> str:
    """An engine timestamp that sorts as text: RFC3339Nano drops trailing zeros
    (`...:14.47565Z` is earlier than `...:14.4756512Z`), so pad the fraction to 9 digits."""
    head, dot, rest = stamp.partition(".")
    if not dot:
        return stamp.replace("Z", ".000000000Z", 1) if stamp.endswith("Z") else stamp
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f"{head}.{rest[:digits].ljust(9, '0')}{rest[digits:]}"


def epoch_stamp(epoch: Any) -> str:
    """A Unix time from the engine as RFC 3339 ('' when missing or not a time)."""
    if not isinstance(epoch, int | float) or epoch <= 0:
        return ""
    return utc_stamp(epoch)
