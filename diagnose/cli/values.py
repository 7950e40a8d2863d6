"""Option values the way docker users write them: times, sizes, `all`.
"""

from __future__ import annotations

import re
from datetime import datetime

from diagnose.cli.since import docker_since, go_duration_ns
from diagnose.model.lazyre import lazy_compile
from diagnose.model.limits import MAX_LOG_BYTES
from diagnose.model.text import exact_bytes

_SIZE = lazy_compile(r"^(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?$", re.I)


_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_since(text: str, reference: datetime) -> float:
    """`--since` exactly as `docker logs --since` reads it (diagnose/cli/since.py): a Go
    duration back from `reference`, an RFC 3339 date or time (local without a zone), or Unix
    seconds."""
    return docker_since(text, reference)


def parse_tail(text: str) -> int | None:
    """`--tail N` or `--tail all` (None)."""
    value = text.strip().lower()
    if value == "all":
        return None
    if value.isdigit():
        return int(value)
    raise ValueError(f"--tail takes a number of lines or 'all', not {text!r}")


def parse_size(text: str) -> int:
    """`8M`, `512KiB`, `1g` or a byte count: a log cap (at most what a bundle holds)."""
    size = parse_bytes(text)
    if size > MAX_LOG_BYTES:
        # A bundle holds logs up to this size (what `diagnose analyze` reads back).
        raise ValueError(f"size {text!r} is too large (at most {exact_bytes(MAX_LOG_BYTES)})")
    return size


def parse_bytes(text: str) -> int:
    """`8M`, `512KiB`, `1g` or a byte count, at least 1K."""
    m = _SIZE.match(text.strip())
    if not m:
        raise ValueError(f"cannot read size {text!r}: use bytes or a unit like 512K, 8M, 1G")
    unit = (m.group(2) or "").lower().rstrip("b").rstrip("i")
    if unit not in _SIZE_UNITS:
        raise ValueError(f"cannot read size {text!r}: unknown unit")
    size = int(float(m.group(1)) * _SIZE_UNITS[unit])
    if size < 1024:
        raise ValueError(f"size {text!r} is too small (at least 1K)")
    return size


def parse_duration(text: str) -> float:
    """A duration like docker writes them (30s, 10m, 1h30m) or plain seconds."""
    value = text.strip()
    if re.match(r"^\d+(\.\d+)?$", value):
        return float(value)
    ns = go_duration_ns(value)  # what docker reads: 30s, 10m, 1h30m, 500ms
    if ns is not None and ns >= 0:
        return ns / 1e9
    raise ValueError(f"cannot read duration {text!r}: use seconds or 30s, 10m, 1h")
