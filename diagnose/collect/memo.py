"""Engine answers that several targets of a run share, asked once.
"""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable
from typing import Any


class Memo:
    """Engine answers that several targets share (one image behind many containers, one
    network): each is asked once per run, by whichever collector needs it first; the others
    wait for it.  A failed answer is given to those already waiting, never kept: the next
    collector asks again (one timeout must not fail a whole fleet's collectors)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[tuple[str, str], cf.Future[Any]] = {}

    def get(self, kind: str, key: str, fetch: Callable[[], Any]) -> Any:
        """The answer for (kind, key), fetched at most once."""
        with self._lock:
            fut = self._futures.get((kind, key))
            mine = fut is None
            if fut is None:
                fut = self._futures[(kind, key)] = cf.Future()
        if mine:
            try:
                fut.set_result(fetch())
            except BaseException as exc:
                with self._lock:
                    self._futures.pop((kind, key), None)
                fut.set_exception(exc)
        return fut.result()

    def answered(self, kind: str, key: str) -> bool:
        """Whether (kind, key) has its answer already (fetched, and not failed)."""
        with self._lock:
            fut = self._futures.get((kind, key))
        return fut is not None and fut.done() and fut.exception() is None
