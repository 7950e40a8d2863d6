"""Completion answers that need no engine: check ids and codes, also inside a comma list."""

from __future__ import annotations

from diagnose.cli.complete import check_ids, check_lists


def test_check_ids_and_codes() -> None:
    assert "oom-killed" in check_ids("oom")
    assert "D201" in check_ids("D20") and "D201" in check_ids("d20")
    assert check_ids("no-such-check-") == []


def test_the_last_item_of_a_comma_list() -> None:
    assert "runs-as-root,oom-killed" in check_lists("runs-as-root,oom")
    assert "D705,D201" in check_lists("D705,D201")
    assert "oom-killed" in check_lists("oom")
