"""`--since` accepts and refuses exactly what `docker logs --since` does.

The cases are moby's own (api/types/time/timestamp_test.go, TestGetTimestamp), with the
reference time in UTC as there, plus Go's duration syntax (time.ParseDuration).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from diagnose.cli.since import docker_since, go_duration_ns
from diagnose.cli.values import parse_since

NOW = datetime(2026, 11, 27, 10, 0, 0, 500_000, tzinfo=UTC)

# (value, Unix time docker sends) from moby's TestGetTimestamp.
DOCKER_ACCEPTS = [
    ("2006-01-02T15:04:05.999999999+07:00", 1136189045.999999999),
    ("2006-01-02T15:04:05.999999999Z", 1136214245.999999999),
    ("2006-01-02T15:04:05.999999999", 1136214245.999999999),
    ("2006-01-02T15:04:05Z", 1136214245.0),
    ("2006-01-02T15:04:05", 1136214245.0),
    ("2006-01-02T15:04Z", 1136214240.0),
    ("2006-01-02T15:04+00:00", 1136214240.0),
    ("2006-01-02T15:04-00:00", 1136214240.0),
    ("2006-01-02T15:04", 1136214240.0),
    ("2006-01-02T15Z", 1136214000.0),
    ("2006-01-02T15+00:00", 1136214000.0),
    ("2006-01-02T15-00:00", 1136214000.0),
    ("2006-01-02T15", 1136214000.0),
    ("2006-01-02T1Z", 1136163600.0),
    ("2006-01-02T1", 1136163600.0),
    ("2006-01-02+00:00", 1136160000.0),
    ("2006-01-02-00:00", 1136160000.0),
    ("2006-01-02-00:01", 1136160060.0),
    ("2006-01-02Z", 1136160000.0),
    ("2006-01-02", 1136160000.0),
    ("2015-05-13T20:39:09Z", 1431549549.0),
    ("1136073600", 1136073600.0),
    ("1136073600.000000001", 1136073600.000000001),
    ("1m", float(int(NOW.timestamp()) - 60)),
    ("1.5h", float(int(NOW.timestamp()) - 5400)),
    ("1h30m", float(int(NOW.timestamp()) - 5400)),
]

DOCKER_REFUSES = [
    "2006-01-02T15:04:0Z", "2006-01-02T15:04:0", "2006-01-02T15:0Z", "2006-01-02T15:0",
    "2006-01-02TZ", "2006-01-02T", "invalid", "",
    # Go durations have no days; a date needs its dashes and two-digit fields; no empty parts.
    "2d", "1h30", "yesterday", "2026-1-02", "2026-13-01", "2026-02-30", "2026-01-02T24:00",
    "1136073600.", "10 m", "2006-01-02T15:04:05z",
]


@pytest.mark.parametrize(("value", "expected"), DOCKER_ACCEPTS)
def test_what_docker_accepts(value, expected):
    assert docker_since(value, NOW) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("value", DOCKER_REFUSES)
def test_what_docker_refuses(value):
    with pytest.raises(ValueError, match="as docker logs --since takes them"):
        docker_since(value, NOW)


def test_local_time_is_the_reference_zone():
    tokyo = NOW.astimezone(timezone(timedelta(hours=9)))
    assert docker_since("2006-01-02T15:04", tokyo) == 1136214240.0 - 9 * 3600
    assert docker_since("2006-01-02", tokyo) == 1136160000.0 - 9 * 3600
    # A zone in the value wins over the local one.
    assert docker_since("2006-01-02T15:04Z", tokyo) == 1136214240.0


def test_go_durations():
    assert go_duration_ns("300ms") == 300_000_000
    assert go_duration_ns("1.5h") == 5_400_000_000_000
    assert go_duration_ns("-1.5h") == -5_400_000_000_000
    assert go_duration_ns("2h45m") == 9_900_000_000_000
    assert go_duration_ns(".5s") == 500_000_000 and go_duration_ns("1.s") == 1_000_000_000
    assert go_duration_ns("1µs") == go_duration_ns("1us") == 1_000
    for bad in ("", "1", "1d", ".s", "1h30", "h", "1hh", "3000000h"):
        assert go_duration_ns(bad) is None, bad
    # The bare 0 is a Unix time (docker's special case), a signed or unit 0 a duration.
    assert docker_since("0", NOW) == 0.0
    assert docker_since("0s", NOW) == float(int(NOW.timestamp()))
    # A negative duration is in the future, as for docker.
    assert docker_since("-1m", NOW) == float(int(NOW.timestamp()) + 60)


def test_parse_since_is_docker_since():
    assert parse_since("10m", NOW) == docker_since("10m", NOW)
    with pytest.raises(ValueError, match="cannot read --since"):
        parse_since("2d", NOW)
