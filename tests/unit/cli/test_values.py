"""Option values as docker users write them."""

from __future__ import annotations

import pytest

from diagnose.cli.values import parse_size, parse_tail


def test_tail_and_size():
    assert parse_tail("all") is None and parse_tail("20") == 20
    with pytest.raises(ValueError):
        parse_tail("-1")
    assert parse_size("8M") == 8 * 1024 * 1024 and parse_size("4KiB") == 4096
    with pytest.raises(ValueError):
        parse_size("12")
    assert parse_size("1G") == 1024 ** 3
    with pytest.raises(ValueError, match="too large"):
        parse_size("1.5G")


def test_report_width(monkeypatch):
    import io

    from diagnose.cli.common import width

    monkeypatch.setattr("sys.stdout", io.StringIO())  # not a terminal
    monkeypatch.delenv("COLUMNS", raising=False)
    assert width() == 80
    monkeypatch.setenv("COLUMNS", "132")
    assert width() == 132
    monkeypatch.setenv("COLUMNS", "wide")
    assert width() == 80
