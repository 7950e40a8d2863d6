"""Thread pools for engine calls that nobody waits for once they are no longer needed."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def engine_pool(workers: int, name: str) -> Iterator[cf.ThreadPoolExecutor]:
    """A thread pool that never waits at exit for engine calls nobody needs any more
    (Ctrl-C, or the deadline passed): each ends by itself within --timeout."""
    pool = cf.ThreadPoolExecutor(workers, thread_name_prefix=name)
    try:
        yield pool
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
