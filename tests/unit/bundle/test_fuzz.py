"""Malformed but "valid" bundles: `analyze` and `redact` exit 0, 1 or 2, with at most one line on
stderr and never a traceback, whatever a JSON member holds.

Deterministic fuzzing: sample bundles whose manifest.json or one JSON member has fields of
the wrong type, odd values, deleted keys or deep nesting (seeded), with the manifest's sizes
and sha256s fixed so that only the content is wrong.  Most cases run in process through the
CLI entry (typer's CliRunner); a few run as real subprocesses.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from diagnose.cli.main import app
from tests.support import bundlecraft as bc

SEED = 19
CASES = 240
BASES = ("app-crash", "several-targets", "crashing-service", "restart-loop")
ODD: list[Any] = [None, True, False, 0, -1, 2**64, 1.5, -0.0, "", "x", "\u202e\x1b]52;c;eA==\x07",
                  "9" * 200, [], {}, [None], [1, "a", {}], {"": []}, {"a": {"b": None}}]


def _deep(levels: int) -> str:
    """A marker that :func:`_dump` turns into `levels` nested arrays."""
    return f"@deep{levels}@"


def _dump(doc: Any) -> bytes:
    text = json.dumps(doc)
    for levels in (70, 3000):
        text = text.replace(f'"{_deep(levels)}"', "[" * levels + "1" + "]" * levels)
    return text.encode()


def _paths(doc: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (keys and indices) inside a document, the root included."""
    out = [at]
    if len(at) > 12:
        return out
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*at, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:6]):
            out += _paths(v, (*at, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any, delete: bool = False) -> Any:
    if not path:
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return doc


def mutate(doc: Any, rng: random.Random) -> Any:
    """One to three wrong-typed values, deleted keys or deep nestings in `doc`."""
    for _ in range(rng.randint(1, 3)):
        paths = _paths(doc)
        # Prefer paths near the top: that is where the fields the code reads are.
        path = min(rng.sample(paths, min(3, len(paths))), key=len) if rng.random() < 0.5 \
            else rng.choice(paths)
        roll = rng.random()
        if roll < 0.1:
            doc = _set(doc, path, _deep(rng.choice((70, 3000))))
        elif roll < 0.25 and path:
            doc = _set(doc, path, None, delete=True)
        else:
            doc = _set(doc, path, json.loads(json.dumps(rng.choice(ODD))))
    return doc


def crafted(rng: random.Random, out: Path, n: int) -> tuple[Path, str]:
    """A sample bundle with one JSON member mutated (its manifest entry fixed up)."""
    base = rng.choice(BASES)
    members: list[bc.Member] = bc.fix_files(list(bc.sample_members(base)))
    names = [n for n, _ in members if n.endswith(".json") and n not in bc.HEAD]
    target = "manifest.json" if rng.random() < 0.4 else rng.choice(names)
    doc = json.loads(dict(members)[target])  # type: ignore[arg-type]
    data = _dump(mutate(doc, rng))
    members = [(name, data if name == target else d) for name, d in members]
    if target != "manifest.json":
        members = bc.fix_files(members)
    path = bc.write(out / f"case{n}.tar.gz", members, fix=False)
    return path, f"{base}:{target}"


def _check(code: int, stderr: str, what: str) -> None:
    assert code in (0, 1, 2), f"{what}: exit {code}: {stderr}"
    assert "Traceback" not in stderr, f"{what}: {stderr}"
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) <= 1, f"{what}: {stderr}"
    if code == 2:
        assert lines and lines[0].startswith("diagnose: error: "), f"{what}: {stderr}"


def test_malformed_json_members_never_crash_analyze_or_redact(tmp_path, monkeypatch):
    monkeypatch.setenv("DIAGNOSE_NO_PLUGINS", "1")
    runner = CliRunner()
    rng = random.Random(SEED)
    codes: dict[int, int] = {}
    for n in range(CASES):
        path, what = crafted(rng, tmp_path, n)
        fmt = ("text", "json", "markdown", "html")[n % 4]
        got = runner.invoke(app, ["analyze", str(path), "--format", fmt])
        _check(got.exit_code, got.stderr, f"case {n} {what} analyze")
        codes[got.exit_code] = codes.get(got.exit_code, 0) + 1
        dest = tmp_path / f"out{n}.tar.gz"
        got = runner.invoke(app, ["redact", str(path), "-o", str(dest)])
        _check(got.exit_code, got.stderr, f"case {n} {what} redact")
        assert dest.exists() == (got.exit_code == 0), f"case {n} {what}"
        path.unlink()
        dest.unlink(missing_ok=True)
    # The cases reach the checks as well as the refusals.
    assert codes.get(2, 0) >= CASES // 10 and codes.get(0, 0) + codes.get(1, 0) >= CASES // 3, \
        codes


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_malformed_json_members_as_real_runs(tmp_path, seed):
    rng = random.Random(seed * 1000 + SEED)
    path, what = crafted(rng, tmp_path, seed)
    for args in (["analyze", str(path)], ["redact", str(path), "-o", str(tmp_path / "o.tar.gz")]):
        run = bc.measured(*args, cwd=tmp_path)
        _check(run.code, run.stderr, f"{what} {args[0]}")
