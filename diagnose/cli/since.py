"""`--since` read exactly as `docker logs --since` reads it.

The docker CLI turns the value into a Unix time before it asks the engine (GetTimestamp in
moby's api/types/time/timestamp.go), in this order:

1. a Go duration (`10m`, `1h30m`, `1.5h`, `300ms`, `-5m`; units ns, us, µs, ms, s, m, h; no
   days), counted back from now; the bare `0` is not a duration but Unix time 0;
2. an RFC 3339 date or date-time, complete or cut after the day, the hour or the minute
   (`2026-01-02`, `2026-01-02T15`, `2026-01-02T15:04`, `2026-01-02T15:04:05.5`), with a zone
   (`Z`, `+07:00`, `-00:00`) or without one: then it is local time;
3. Unix seconds, with a fraction (`1136073600.000000001`).

Anything else is refused as docker refuses it ("2d", "yesterday", "2026-01-02T15:4").  The
layouts follow Go's time.Parse: the year has 4 digits, month, day, minute and second 2, the
hour 1 or 2; a fraction of any length may follow the seconds.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

_GO_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
             "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_MAX_NS = 2**63 - 1

# One `number unit` piece of a Go duration, and a Go strconv.ParseInt integer.
_PIECE = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")
_INT = re.compile(r"[+-]?[0-9]+\Z")


def go_duration_ns(value: str) -> int | None:
    """Nanoseconds of a Go duration string (time.ParseDuration), or None when it is not one."""
    s = value
    negative = s[:1] == "-"
    if s[:1] in ("+", "-"):
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        return None
    total = 0
    while s:
        m = _PIECE.match(s)
        assert m is not None  # every group may be empty
        whole, frac, unit = m.group(1), m.group(2), m.group(3)
        if not whole and not frac:  # neither digits before nor after the dot
            return None
        if unit not in _GO_UNITS:  # missing or unknown unit
            return None
        scale = _GO_UNITS[unit]
        total += int(whole or "0") * scale
        if frac:
            total += int(frac) * scale // 10 ** len(frac)
        if total > _MAX_NS:
            return None
        s = s[m.end():]
    return -total if negative else total


# Go layouts as token lists: Y year (4 digits), M month, D day, m minute, s second (2 digits),
# h hour (1-2 digits), f an optional fraction after the seconds, z a zone (Z or +hh:mm).
_LAYOUTS = {
    "nano-local": "YMDThms", "nano": "YMDThmsz",
    "hour-local": "YMDTh", "minute-local": "YMDThm", "second-local": "YMDThms",
    "hour": "YMDThz", "minute": "YMDThmz", "second": "YMDThmsz",
    "date-local": "YMD", "date": "YMDz",
}
_SEPARATORS = {"M": "-", "D": "-", "m": ":", "s": ":"}


def _layout(value: str, local: bool) -> str:
    """Which layout docker parses `value` with (GetTimestamp's choice)."""
    if "." in value:
        return "nano-local" if local else "nano"
    if "T" in value:
        colons = value.count(":")
        if not local and not any(c in value for c in "zZ") and colons > 0:
            colons -= 1  # the zone offset's own colon
        size = {0: "hour", 1: "minute"}.get(colons, "second")
        return f"{size}-local" if local else size
    return "date-local" if local else "date"


def _digits(text: str) -> bool:
    """ASCII digits only (Go reads no other digits)."""
    return bool(text) and all("0" <= c <= "9" for c in text)


def _number(text: str, at: int, width: int, flexible: bool = False) -> tuple[int, int] | None:
    """A fixed-width number (or 1-2 digits when `flexible`) at `at`: (value, next index)."""
    digits = text[at:at + width]
    if flexible and len(digits) == 2 and not _digits(digits[1]):
        digits = digits[:1]
    if len(digits) < (1 if flexible else width) or not _digits(digits):
        return None
    return int(digits), at + len(digits)


def _go_parse(layout: str, value: str, local_offset: int) -> float | None:
    """`value` in one of the layouts above as Unix time, or None where Go's time.Parse fails
    (`local_offset`: seconds east of UTC for a layout without a zone)."""
    fields = {"M": 1, "D": 1, "h": 0, "m": 0, "s": 0}
    at, nanos, offset = 0, 0, local_offset
    for token in _LAYOUTS[layout]:
        if token in _SEPARATORS or token == "T":
            if value[at:at + 1] != _SEPARATORS.get(token, "T"):
                return None
            at += 1
        if token in "YMDhms":
            got = _number(value, at, 4 if token == "Y" else 2, flexible=token == "h")
            if got is None:
                return None
            fields[token], at = got
        if token == "s" and value[at:at + 1] in (".", ",") and _digits(value[at + 1:at + 2]):
            end = at + 1
            while end < len(value) and _digits(value[end]):
                end += 1
            nanos = int(value[at + 1:end][:9].ljust(9, "0"))
            at = end
        if token == "z":
            zone = _zone(value[at:])
            if zone is None:
                return None
            offset, at = zone[0], at + zone[1]
    if at != len(value) or fields["h"] > 23 or fields["m"] > 59 or fields["s"] > 59:
        return None
    try:
        day = datetime(fields["Y"], fields["M"], fields["D"], tzinfo=UTC)
    except ValueError:  # month or day out of range
        return None
    seconds = day.timestamp() + fields["h"] * 3600 + fields["m"] * 60 + fields["s"] - offset
    return seconds + nanos / 1e9


def _zone(text: str) -> tuple[int, int] | None:
    """Go's `Z07:00`: `Z`, or a sign, two hour digits, a colon and two minute digits (up to
    24:60, as Go allows): (seconds east of UTC, characters read)."""
    if text[:1] == "Z":
        return 0, 1
    if len(text) < 6 or text[0] not in "+-" or text[3] != ":":
        return None
    hours, minutes = text[1:3], text[4:6]
    if not (_digits(hours) and _digits(minutes)) or int(hours) > 24 or int(minutes) > 60:
        return None
    offset = int(hours) * 3600 + int(minutes) * 60
    return (-offset if text[0] == "-" else offset), 6


def _unix(value: str) -> float | None:
    """Unix seconds with an optional fraction (moby's parseTimestamp)."""
    seconds, dot, fraction = value.partition(".")
    if not _INT.match(seconds) or (dot and not _INT.match(fraction)):
        return None
    if not dot:
        return float(int(seconds))
    return int(seconds) + int(fraction) * 10.0 ** -len(fraction)


def docker_since(value: str, reference: datetime) -> float:
    """The Unix time `docker logs --since VALUE` means at `reference` (an aware datetime: its
    UTC offset is the local zone of values without one).  ValueError when docker refuses it."""
    nanos = go_duration_ns(value) if value != "0" else None
    if nanos is not None:
        return float(math.floor(reference.timestamp() - nanos / 1e9))
    local = not any(c in value for c in "zZ+") and value.count("-") != 3
    offset = reference.utcoffset() or timedelta(0)
    stamp = _go_parse(_layout(value, local), value, int(offset.total_seconds()))
    if stamp is not None:
        return stamp
    if "-" not in value:
        unix = _unix(value)
        if unix is not None:
            return unix
    raise ValueError(
        f"cannot read --since {value!r}: use a duration (10m, 1h30m, 1.5h), an RFC 3339 "
        "date or time (2026-11-27, 2026-11-27T10:00, 2026-11-27T10:00:00Z; local time "
        "without a zone) or Unix seconds, as docker logs --since takes them")
