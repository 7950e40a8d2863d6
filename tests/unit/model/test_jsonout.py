"""indented_json writes what json.dumps(indent=2, ensure_ascii=False) wrote, byte for byte."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from diagnose.model.escape import json_text
from diagnose.model.jsonout import indented_json
from tests.support.reports import SAMPLES


def stdlib(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


SHAPES: list[Any] = [
    {}, [], {"a": {}}, {"a": []}, [[], {}], "", 0, -1, 2**63 - 1, -(2**63), 2**64 - 1,
    True, False, None, 0.1, 1.5, -0.0, 0.0001, 1e16, 123456.789, 3.141592653589793,
    {"Env": ["PATH=/usr/bin", "TOKEN=x"], "Cmd": None, "Tty": False, "Memory": 0},
    {"z": 1, "a": 2, "m": {"y": [1, 2, {"x": "é ü 中文 🐳"}]}},
    {"quote\"back\\slash": "tab\tnl\ncr\rnul\x00esc\x1bdel\x7f"},
    {"bidi": "\u202e\u2066", "ls": "\u2028\u2029", "c1": "\x85\x9b"},
    "a" * 10_000,
    [{"id": i, "name": f"c-{i}", "labels": {"k": str(i)}} for i in range(50)],
]


@pytest.mark.parametrize("value", SHAPES, ids=range(len(SHAPES)))
def test_the_same_bytes_as_the_standard_library(value: Any) -> None:
    assert indented_json(value) == stdlib(value)


def test_random_documents_write_the_same_bytes() -> None:
    rng = random.Random(18)
    alphabet = "ab\"\\/\n\t\x01\x1f é中🐳\u2028\u202e"

    def word(most: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randrange(most)))

    def make(depth: int) -> Any:
        kind = rng.randrange(7 if depth < 6 else 4)
        if kind == 0:
            return word(12)
        if kind == 1:
            return rng.randrange(-(2**63), 2**64)
        if kind == 2:
            return rng.choice([None, True, False, rng.random() * 10 ** rng.randrange(0, 9)])
        if kind == 3:
            return rng.randrange(100)
        if kind in (4, 5):
            return {word(6): make(depth + 1) for _ in range(rng.randrange(5))}
        return [make(depth + 1) for _ in range(rng.randrange(5))]

    for _ in range(300):
        value = make(0)
        assert indented_json(value) == stdlib(value)


def test_every_json_file_of_the_samples_is_written_back_unchanged() -> None:
    """The committed samples' bundles hold real engine documents of every kind."""
    import tarfile

    bundles = sorted(SAMPLES.rglob("*.tar.gz"))
    assert bundles, "samples/ holds bundles"
    seen = 0
    for path in bundles:
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                if member.name.endswith(".json") and member.isfile():
                    f = tar.extractfile(member)
                    assert f is not None
                    doc = json.loads(f.read())
                    assert indented_json(doc) == stdlib(doc), member.name
                    seen += 1
    assert seen > 50


@pytest.mark.parametrize("value", [
    {1: "an int key"}, {None: 1, True: 2, 1.5: 3},  # keys the standard library turns into text
    {"big": 2**70}, [-(2**64)],                       # integers beyond 64 bits
    json.loads("[" * 300 + "]" * 300),  # deeper than 254
], ids=["int-key", "other-keys", "big-int", "big-negative", "deep"])
def test_what_orjson_refuses_the_standard_library_writes(value: Any) -> None:
    assert indented_json(value) == stdlib(value)


def test_a_lone_surrogate_fails_as_it_did() -> None:
    with pytest.raises(UnicodeEncodeError):
        indented_json({"s": "\udc80"})
    with pytest.raises(UnicodeEncodeError):
        stdlib({"s": "\udc80"})


def test_a_float_below_1e_4_is_spelled_otherwise_with_the_same_value() -> None:
    values = [1e-7, 1e-05, 5.501544878731799e-06, 5e-324]
    text = indented_json(values)
    assert b"1e-7" in text and b"0.00001" in text
    assert json.loads(text) == values


def test_not_a_number_becomes_null_valid_json() -> None:
    text = indented_json([math.nan, math.inf, -math.inf])
    assert json.loads(text) == [None, None, None]


def test_json_text_escapes_what_a_reader_must_not_get_raw() -> None:
    value = {"k\u202e": "\x1b]52;c;x\x07 \u2028 \x9b é"}
    text = json_text(value)
    assert json.loads(text) == value
    for raw in ("\x1b", "\x07", "\u202e", "\u2028", "\x9b"):
        assert raw not in text
    assert "é" in text and text.startswith("{\n  ")
