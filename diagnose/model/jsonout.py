"""How diagnose writes indented JSON: every document of a bundle, findings.json, the manifest.

The standard library's encoder runs in C only without `indent`; with it (as a bundle is
written, for people who read inspect.json) it is pure Python, about 30 times slower: 0.1 s
of CPU for a 50-container run's documents, on the CPUs the engine needs at the same time.
orjson writes the same bytes as ``json.dumps(value, indent=2, ensure_ascii=False)`` plus a
newline (checked on every document of a 50-container bundle; tests/unit/model/
test_jsonout.py holds the shapes), and the standard library still writes what orjson
refuses: keys that are not strings, integers beyond 64 bits, nesting deeper than 254
levels, strings that are not valid Unicode (lone surrogates).

Two differences remain, both still valid JSON: NaN and the infinities become `null` (the
standard library writes the invalid tokens `NaN` and `Infinity`; a document from the engine
never holds them), and a float below 1e-4 is spelled otherwise with the same value (`1e-7`
for `1e-07`, `0.00001` for `1e-05`).
"""

from __future__ import annotations

from typing import Any


def indented_json(value: Any) -> bytes:
    """`value` as UTF-8 JSON: indented by two spaces, non-ASCII kept, keys in their order,
    ending with a newline."""
    import orjson  # startup: 10-20 ms (it imports dataclasses, uuid...); --version needs none

    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # orjson.JSONEncodeError: see the module's docstring for what
        import json  # startup: as orjson

        return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
