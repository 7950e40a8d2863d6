"""Shared test fixtures: the real engine, and the real CLI writing into a fresh directory.

Engine tests talk to a real Docker engine (scripts/engine.sh starts one).  Every object they
create carries the label `diagnose.test.run=<this session>` and is removed when the session
ends.  When no engine answers, engine tests FAIL (they never skip): set up the engine first.
The helpers behind these fixtures live in tests/support/.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.engine import BASE_IMAGE, Engine, docker, engine_answers
from tests.support.runs import Result, run_diagnose


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The real engine.  No engine is a failure, never a skip (run scripts/engine.sh)."""
    why = engine_answers()
    if why:
        pytest.fail(f"no Docker engine answers ({why}); run scripts/engine.sh first "
                    "(scripts/test.sh does)", pytrace=False)
    if docker("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
        pytest.fail(f"{BASE_IMAGE} is missing; run scripts/engine.sh", pytrace=False)
    eng = Engine()
    try:
        yield eng
    finally:
        eng.cleanup()
    left = eng.leftovers()
    if left:
        pytest.fail(f"the tests left labelled objects behind: {left}", pytrace=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test under tests/engine uses the real engine; under tests/podman, Podman."""
    for item in items:
        path = str(item.fspath).replace(os.sep, "/")
        if "tests/engine/" in path:
            item.add_marker(pytest.mark.engine)
        elif "tests/podman/" in path:
            item.add_marker(pytest.mark.podman)


@pytest.fixture
def diagnose(tmp_path: Path) -> Callable[..., Result]:
    """Run the real diagnose CLI with the bundle written to a fresh directory."""
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> Result:
        return run_diagnose(*args, "--output", str(tmp_path), cwd=tmp_path, env=env,
                            timeout=timeout) if args and args[0] not in (
            "analyze", "checks", "explain", "--version", "--help") else run_diagnose(
            *args, cwd=tmp_path, env=env, timeout=timeout)
    return run
