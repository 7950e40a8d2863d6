"""Reading JSON from a bundle the way it may really be: any field of any type.

A bundle may hold anything where docker wrote an object, a list or a number; the pipeline's own
readings (the decision path, the summaries) go through these so that a wrong type reads as
missing instead of crashing the run.  (A check that trips over one is recorded as errored.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def load_json(data: bytes | None) -> Any:
    """A JSON document's bytes parsed (None when absent or not JSON)."""
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:  # UnicodeDecodeError included
        return None


def load_object(data: bytes | None) -> Mapping[str, Any]:
    """A JSON object's bytes parsed ({} when absent, not JSON or not an object)."""
    return as_map(load_json(data))


def as_map(value: Any) -> Mapping[str, Any]:
    """`value` when it is a JSON object, else {} (a bundle may hold anything)."""
    return value if isinstance(value, dict) else {}


def as_maps(value: Any) -> tuple[Mapping[str, Any], ...]:
    """The objects of a JSON list (other items dropped), else ()."""
    return tuple(v for v in value if isinstance(v, dict)) if isinstance(value, list) else ()


def as_list(value: Any) -> list[Any]:
    """`value` when it is a JSON list, else []."""
    return value if isinstance(value, list) else []


def dig(doc: Any, *keys: str) -> Any:
    """`doc[k1][k2]...`, or None as soon as a level is missing or not an object."""
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def number(value: Any, default: float = 0) -> float:
    """A JSON number as a float (`default` for anything else, booleans included)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        try:
            return float(value)
        except OverflowError:  # an integer beyond any float
            return default
    return default


def integer(value: Any, default: int = 0) -> int:
    """A JSON integer (`default` for anything else; finite floats are truncated)."""
    n = number(value, float("nan"))
    return int(n) if n == n and abs(n) != float("inf") else default


def resolve_pointer(doc: Any, pointer: str) -> Any:
    """Resolve an RFC 6901 JSON pointer (None when it does not resolve)."""
    if pointer in ("", "/"):
        return doc
    node = doc
    for raw in pointer.lstrip("/").split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node
