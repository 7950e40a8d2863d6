"""Resolving targets: an engine that says for a moment that a container's process is gone
(Podman, inspecting a container in a restart loop) is asked again; other errors are not."""

from __future__ import annotations

from typing import Any

import pytest
from docker.errors import APIError, NotFound

from diagnose.collect import targets


class FlakyAPI:
    """inspect_container fails with `error` the first `fails` times, then answers."""

    def __init__(self, error: Exception, fails: int) -> None:
        self.error, self.fails, self.calls = error, fails, 0

    def inspect_container(self, ref: str) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.fails:
            raise self.error
        return {"Id": "c" * 64, "Name": f"/{ref}"}


GONE = APIError("500 Server Error", explanation="read /proc/5343/cgroup: no such process")


def test_a_process_gone_for_a_moment_is_asked_again():
    api = FlakyAPI(GONE, fails=2)
    assert targets.resolve_one(api, "web")["Name"] == "/web"
    assert api.calls == 3


def test_it_is_not_asked_forever_nor_for_other_errors():
    api = FlakyAPI(GONE, fails=99)
    with pytest.raises(APIError):
        targets.inspect_settled(api, "web")
    assert api.calls == 5
    other = FlakyAPI(APIError("500 Server Error", explanation="database is locked"), fails=1)
    with pytest.raises(APIError):
        targets.inspect_settled(other, "web")
    assert other.calls == 1
    missing = FlakyAPI(NotFound("No such container: web"), fails=1)
    with pytest.raises(NotFound):
        targets.inspect_settled(missing, "web")
    assert missing.calls == 1
