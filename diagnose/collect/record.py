"""Run one collector in isolation and record what it did.

A collector returns a :class:`Piece` (files plus facts), raises :class:`Skip` when it does not
apply, or fails; a failure is recorded with its traceback (stored in the bundle under
`errors/`) and never stops the other collectors.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3
from docker.errors import APIError, DockerException, NotFound

from diagnose.evidence import layout
from diagnose.evidence.records import CollectorRecord, CollectorStatus
from diagnose.model import limits as lim
from diagnose.model.jsonout import indented_json
from diagnose.model.jsonscan import TooDeep, measure
from diagnose.model.text import exact_bytes


@dataclass
class Piece:
    """What a collector produced: files (owner-relative path -> bytes) and facts."""

    files: dict[str, bytes] = field(default_factory=dict)
    truncated: bool = False
    detail: dict[str, Any] = field(default_factory=dict)


class Skip(Exception):
    """The collector does not apply here (e.g. top on a stopped container)."""


class Deadline:
    """The overall time budget of a run (`--deadline`); None means no limit."""

    def __init__(self, seconds: float | None) -> None:
        self.end = None if seconds is None else time.monotonic() + seconds

    def expired(self) -> bool:
        """True once the budget is spent."""
        return self.end is not None and time.monotonic() >= self.end

    def remaining(self) -> float | None:
        """Seconds left (never negative), or None without a deadline."""
        return None if self.end is None else max(0.0, self.end - time.monotonic())


class DeadlineReached(Exception):
    """The overall --deadline passed before an engine call could be made."""


class GuardedAPI:
    """The engine client as collectors see it: no call starts after the overall deadline.

    A collector that makes many calls (the entrypoint probe, a long log stream) stops at the
    deadline instead of carrying on in the background; a single call is bounded by the
    per-call --timeout.  Streams returned by a call are checked between chunks too.
    """

    def __init__(self, api: Any, deadline: Deadline) -> None:
        self._api = api
        self._deadline = deadline

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._api, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._deadline.expired():
                raise DeadlineReached("overall --deadline reached")
            result = attr(*args, **kwargs)
            if isinstance(result, tuple) and result and _is_stream(result[0]):
                return (self._guard(result[0]), *result[1:])
            return self._guard(result) if _is_stream(result) else result

        return call

    def _guard(self, stream: Any) -> Iterator[Any]:
        try:
            for item in stream:
                if self._deadline.expired():
                    raise DeadlineReached("overall --deadline reached while reading a stream")
                yield item
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()


def _is_stream(obj: Any) -> bool:
    return hasattr(obj, "__next__") and not isinstance(obj, str | bytes | dict | list)


def dump_json(obj: Any) -> bytes:
    """The bundle's JSON encoding: indented, UTF-8, key order as the engine gave it."""
    return indented_json(obj)


def describe_failure(exc: BaseException) -> str:
    """One line saying what went wrong with an engine call."""
    if isinstance(exc, DeadlineReached):
        return str(exc)
    if isinstance(exc, NotFound):
        return f"not found (removed while collecting?): {exc.explanation or exc}"
    if isinstance(exc, APIError):
        return f"engine error {exc.status_code}: {exc.explanation or exc}"
    if isinstance(exc, requests.exceptions.Timeout | urllib3.exceptions.TimeoutError
                  | TimeoutError) or (isinstance(exc, requests.exceptions.ConnectionError)
                                      and "timed out" in str(exc).lower()):
        return "engine did not answer in time (per-call --timeout)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return f"engine connection failed: {exc}"
    if isinstance(exc, DockerException):
        return f"docker error: {exc}"
    return f"{type(exc).__name__}: {exc}"


def oversized(files: dict[str, bytes]) -> str:
    """Why a collected file cannot go into a bundle ('' when all can): a file other than a
    log beyond MAX_FILE_BYTES, or a JSON document deeper or with more items than `diagnose
    analyze` reads (diagnose.model.limits).  The collector is then recorded as failed with that
    reason, live and offline alike."""
    for path, data in files.items():
        if path.endswith(".log"):
            continue  # bounded by --max-log-bytes (at most MAX_LOG_BYTES)
        if len(data) > lim.MAX_FILE_BYTES:
            return (f"{path} would be {len(data) / lim.MiB:.0f} MiB, more than the "
                    f"{exact_bytes(lim.MAX_FILE_BYTES)} a bundle holds per file")
        if path.endswith(".json"):
            try:
                items = measure(data, lim.MAX_JSON_DEPTH)
            except TooDeep as exc:
                return f"{path} would be {exc}"
            if items > lim.MAX_TARGET_ITEMS:
                return (f"{path} would hold {items:,} JSON items, more than the "
                        f"{lim.MAX_TARGET_ITEMS:,} a bundle holds per file")
    return ""


def run_collector(
    name: str, owner: str, func: Callable[[], Piece], deadline: Deadline | None = None,
    bounded: bool = True,
) -> tuple[CollectorRecord, dict[str, bytes]]:
    """Run `func`, returning its record and files (an error file when it failed).

    `bounded`: refuse files beyond what a bundle holds (:func:`oversized`); False for files
    that are reduced before they go anywhere (the engine's usage in a container run), which
    are checked once reduced."""
    if deadline is not None and deadline.expired():
        rec = CollectorRecord(name, owner, CollectorStatus.SKIPPED, "overall --deadline reached")
        return rec, {}
    started = time.perf_counter()
    try:
        piece = func()
    except Skip as skip:
        elapsed = (time.perf_counter() - started) * 1000
        return CollectorRecord(name, owner, CollectorStatus.SKIPPED, str(skip), elapsed), {}
    except Exception as exc:  # a failing collector never sinks the run
        elapsed = (time.perf_counter() - started) * 1000
        err = layout.error_file(name)
        trace = traceback.format_exc().encode("utf-8", "replace")
        rec = CollectorRecord(
            name, owner, CollectorStatus.FAILED, describe_failure(exc), elapsed,
            bytes=len(trace), files=(err,),
        )
        return rec, {err: trace}
    elapsed = (time.perf_counter() - started) * 1000
    too_big = oversized(piece.files) if bounded else ""
    if too_big:
        return CollectorRecord(name, owner, CollectorStatus.FAILED, too_big, elapsed), {}
    size = sum(len(v) for v in piece.files.values())
    rec = CollectorRecord(
        name, owner, CollectorStatus.OK, "", elapsed, bytes=size, truncated=piece.truncated,
        files=tuple(piece.files), detail=piece.detail,
    )
    return rec, piece.files
