"""Follow the logs of a running `--rm` container for `diagnose watch`.

The engine removes an `--rm` container right after its `die`, logs included, usually before
anyone can ask for them.  So while such a container runs, watch keeps the newest lines of
each stream as the engine sends them (one `follow` request, demultiplexed like
`docker logs`, with timestamps, bounded by --max-log-bytes per stream), and the container's
bundle takes them when the engine no longer has the logs.  A quiet container's request is
renewed when its read times out (`since` the last line seen, that line skipped).
"""

from __future__ import annotations

import collections
import contextlib
import threading
from typing import Any

from diagnose.collect.connect import Endpoint, connect
from diagnose.collect.container import demux
from diagnose.evidence import layout

#: Seconds a followed log may stay quiet before its request is renewed.
QUIET = 300.0


class Follower:
    """The newest log lines of one running container, per stream, as they come."""

    def __init__(self, endpoint: Endpoint, cid: str, tty: bool, max_bytes: int) -> None:
        self.endpoint, self.cid, self.tty, self.max_bytes = endpoint, cid, tty, max_bytes
        self.lock = threading.Lock()
        self.streams: dict[int, collections.deque[bytes]] = {
            1: collections.deque(), 2: collections.deque()}
        self.sizes = {1: 0, 2: 0}
        self.cut = {1: False, 2: False}
        self.last = b""
        self.done = threading.Event()
        threading.Thread(target=self._run, daemon=True, name=f"follow-{cid[:12]}").start()

    def _run(self) -> None:
        client: Any = None
        try:
            client = connect(self.endpoint, QUIET, 1)
            while not self.done.is_set():
                if not self._read(client.api):
                    return
        except Exception:  # the container or the engine went away: what was read stays
            return
        finally:
            self.done.set()
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()

    def _read(self, api: Any) -> bool:
        """One follow request until it ends (False: the container ended) or times out."""
        params: dict[str, Any] = {"stdout": 1, "stderr": 1, "timestamps": 1, "follow": 1,
                                  "tail": "all"}
        skip = self.last
        if skip:
            params["since"] = skip.split(b" ", 1)[0].decode()
        response = api._get(api._url("/containers/{0}/logs", self.cid), params=params,
                            stream=True)
        api._raise_for_status(response)
        try:
            raw = response.raw
            chunks = iter(lambda: raw.read(64 * 1024, decode_content=False), b"")
            frames = ((1, c) for c in chunks) if self.tty else demux(chunks)
            for kind, data in frames:
                if skip and data.startswith(skip.split(b" ", 1)[0]):
                    continue  # seen before the renewal
                skip = b""
                self._add(kind if kind in (1, 2) else 1, data)
        except Exception as exc:
            if "timed out" in str(exc).lower():
                return True
            raise
        finally:
            response.close()
        return False

    def _add(self, kind: int, data: bytes) -> None:
        with self.lock:
            self.streams[kind].append(data)
            self.sizes[kind] += len(data)
            while self.sizes[kind] > self.max_bytes and len(self.streams[kind]) > 1:
                self.sizes[kind] -= len(self.streams[kind].popleft())
                self.cut[kind] = True
            self.last = data[:40]

    def files(self) -> dict[str, bytes]:
        """What was read so far, as the logs collector would have written it."""
        with self.lock:
            return {layout.LOG_STDOUT: b"".join(self.streams[1]),
                    layout.LOG_STDERR: b"".join(self.streams[2])}

    def stop(self) -> None:
        """Stop following (the request ends with the container or at its next read)."""
        self.done.set()
