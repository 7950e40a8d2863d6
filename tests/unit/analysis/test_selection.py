"""Check selection (--skip / --only) and close-match suggestions on the real registry."""

from __future__ import annotations

import pytest

from diagnose.analysis.registry import load_registry
from diagnose.model.errors import UsageError


@pytest.fixture(scope="module")
def reg():
    return load_registry(plugins=False)


def test_select_marks_instead_of_dropping(reg):
    chosen = reg.select(skip=["runs-as-root", "d706"])
    assert len(chosen) == len(reg)
    why = {s.code: s.deselected for s in chosen if s.deselected}
    assert why == {"D705": "deselected by --skip", "D706": "deselected by --skip"}
    only = reg.select(only=["oom-killed"], skip=["oom-killed"])
    assert {s.code for s in only if not s.deselected} == set()
    assert reg.select() is reg


def test_unknown_names_suggest_ids_and_codes(reg):
    with pytest.raises(UsageError) as exc:
        reg.select(skip=["runs-as-rot"])
    assert exc.value.message == "--skip: no check 'runs-as-rot'"
    assert "runs-as-root" in exc.value.hint
    assert reg.suggest("D20")[:1] == ["D201"]
    assert reg.suggest("zzzzzz") == []
