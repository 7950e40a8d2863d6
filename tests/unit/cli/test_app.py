"""Finding the command among options given before it (`diagnose --debug engine`)."""

from __future__ import annotations

import pytest

from diagnose.cli.app import first_word

VALUED = frozenset({"--format", "-f", "--output", "-o", "-H", "--host"})


@pytest.mark.parametrize(("args", "at"), [
    (["engine"], 0),
    (["--debug", "engine"], 1),
    (["-q", "--format", "json", "analyze", "x"], 3),
    (["--format=json", "engine"], 1),
    (["-fjson", "engine"], 1),
    (["-qf", "json", "engine"], 2),
    (["-o", "engine", "web"], 2),  # `engine` is the value of -o here
    (["--", "engine"], None),  # after --, containers only
    (["--all"], None),
])
def test_first_word(args, at):
    assert first_word(args, VALUED) == at

