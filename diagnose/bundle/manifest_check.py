"""The shape of manifest.json as the offline path reads it: every field it uses, with its type.

`diagnose analyze` and `diagnose redact` take file sizes and checksums, collector records, the
engines and targets, the redaction report and the start time from the manifest; a field of the
wrong type there is a malformed bundle (exit 2), never a crash further down.  Fields the
offline path does not read are not checked (they are copied, scrubbed, into a redacted copy).
"""

from __future__ import annotations

import re
from typing import Any

_SHA256 = re.compile(r"[0-9a-f]{64}")

#: A type, a list of one shape (`[shape]`), or an object's fields (`{name: shape}`).  Every
#: field may be missing (`files` entries excepted, see check_manifest); none may be null.
_NUMBER = (int, float)
_RECORD = {"name": str, "owner": str, "status": str, "reason": str, "duration_ms": _NUMBER,
           "bytes": int, "truncated": bool, "files": [str], "detail": dict}
_ENGINE = {"label": str, "endpoint": str, "source": str, "status": str, "reason": str,
           "prefix": str, "local": bool, "targets": int, "version": str, "api_version": str}
SHAPE: dict[str, Any] = {
    "schema": str,
    "started_at": str,
    "files": [{"path": str, "size": int, "sha256": str}],
    "collectors": [_RECORD],
    "engine": {"source": str, "endpoint": str, "label": str, "local": bool},
    "engines": [_ENGINE],
    "targets": [{"key": str, "name": str, "id": str, "engine": str}],
    "redaction": {"enabled": bool, "counts": [{"rule": str, "file": str, "count": int}]},
}


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def _want(shape: Any) -> str:
    if isinstance(shape, dict) or shape is dict:
        return "an object"
    if isinstance(shape, list):
        return "a list"
    if shape is _NUMBER:
        return "a number"
    return {str: "a string", int: "an integer", bool: "a boolean"}[shape]


def _fits(value: Any, shape: Any) -> bool:
    if isinstance(shape, dict) or shape is dict:
        return isinstance(value, dict)
    if isinstance(shape, list):
        return isinstance(value, list)
    if isinstance(value, bool):  # bool is an int to Python, never to a manifest
        return shape is bool
    return isinstance(value, shape)


def problem_in(value: Any, shape: Any, where: str) -> str:
    """The first place where `value` does not have `shape` ('' when it has)."""
    if not _fits(value, shape):
        return f"{where} is {_kind(value)}, not {_want(shape)}"
    if isinstance(shape, list):
        for i, item in enumerate(value):
            found = problem_in(item, shape[0], f"{where}[{i}]")
            if found:
                return found
    elif isinstance(shape, dict):
        for key, sub in shape.items():
            if key in value:
                found = problem_in(value[key], sub, f"{where}.{key}" if where else key)
                if found:
                    return found
    return ""


def check_manifest(doc: Any) -> str:
    """What is wrong with a parsed manifest.json ('' when nothing is)."""
    if not isinstance(doc, dict):
        return f"it is {_kind(doc)}, not an object"
    found = problem_in(doc, SHAPE, "")
    if found:
        return found
    paths: set[str] = set()
    for i, entry in enumerate(doc.get("files") or ()):
        for key in ("path", "size", "sha256"):
            if key not in entry:
                return f"files[{i}] has no {key}"
        if entry["size"] < 0 or not _SHA256.fullmatch(entry["sha256"]):
            return f"files[{i}] has a negative size or a malformed sha256"
        if entry["path"] in paths:
            return f"files[{i}] lists {entry['path']!r} twice"
        paths.add(entry["path"])
    for i, rec in enumerate(doc.get("collectors") or ()):
        if "name" not in rec:
            return f"collectors[{i}] has no name"
    return ""
