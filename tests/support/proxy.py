"""A unix-socket proxy in front of the real engine that can stop answering, for fault tests.

The shared engine is never stopped or paused: tests point `diagnose --host` at this proxy,
which forwards to /var/run/docker.sock and, on command, stalls (keeps the connection open and
forwards nothing more) after a given request, or holds requests for chosen paths until the
test releases them (to remove or restart a container mid-collection, or to press Ctrl-C).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import tempfile
import threading
from pathlib import Path

UPSTREAM = "/var/run/docker.sock"


class StallingProxy:
    """Forward HTTP/1.1 requests to the engine; stall or hold some of them.

    `stall_after`: after this many requests, stop forwarding anything (0: from the start).
    `stall_after_match`: forward the first request whose line matches, then stall everything.
    `stall_paths`: never forward requests whose line matches (others go through).
    `hold_paths`: hold matching requests until :meth:`release` (`held` is set on arrival).
    """

    def __init__(self, *, stall_after: int | None = None, stall_after_match: str | None = None,
                 stall_paths: str | None = None, hold_paths: str | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="dxp-", dir="/tmp"))
        self.path = self.dir / "engine.sock"
        self.stall_after = stall_after
        self.stall_after_match = re.compile(stall_after_match) if stall_after_match else None
        self.stall_paths = re.compile(stall_paths) if stall_paths else None
        self.hold_paths = re.compile(hold_paths) if hold_paths else None
        self.requests: list[str] = []
        self.held = threading.Event()
        self._release = threading.Event()
        self._stalled = threading.Event()
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._closed = False
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self.path.chmod(0o777)
        self._server.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def host(self) -> str:
        """The value for `diagnose --host`."""
        return f"unix://{self.path}"

    def release(self) -> None:
        """Let held requests through (and any later ones)."""
        self._release.set()

    def close(self) -> None:
        """Stop accepting, drop every connection, remove the socket."""
        self._closed = True
        self._release.set()
        for s in [self._server, *self._socks]:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> StallingProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            self._socks.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(UPSTREAM)
        except OSError:
            client.close()
            return
        self._socks.append(upstream)
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        buf = b""
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buf += data
                while True:
                    request, buf = _split_request(buf)
                    if request is None:
                        break
                    if not self._decide(request):
                        self._hang(client)
                        return
                    upstream.sendall(request)
        except OSError:
            pass
        finally:
            # Close both ends like a real client going away: an engine still writing a
            # response nobody reads holds locks (the archive endpoint locks the container).
            _close(upstream)
            _close(client)

    def _decide(self, request: bytes) -> bool:
        """Forward this request (True), or stall the connection for good (False)."""
        line = request.split(b"\r\n", 1)[0].decode("latin-1")
        with self._lock:
            self.requests.append(line)
            count = len(self.requests)
        if self._stalled.is_set():
            return False
        if self.stall_after is not None and count > self.stall_after:
            self._stalled.set()
            return False
        if self.stall_paths is not None and self.stall_paths.search(line):
            return False
        if self.stall_after_match is not None and self.stall_after_match.search(line):
            self._stalled.set()  # this one goes through; nothing after it does
            return True
        if self.hold_paths is not None and self.hold_paths.search(line):
            self.held.set()
            self._release.wait()
        return not self._closed

    def _hang(self, client: socket.socket) -> None:
        # Keep the connection open and answer nothing: an engine that stopped answering.
        while not self._closed:
            try:
                if not client.recv(65536):
                    return
            except OSError:
                return

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)


def _close(s: socket.socket) -> None:
    with contextlib.suppress(OSError):
        s.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        s.close()


def _split_request(buf: bytes) -> tuple[bytes | None, bytes]:
    """One complete HTTP request off the front of `buf` (the SDK sends bodies with a
    Content-Length, or none)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None, buf
    head = buf[: end + 4]
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    total = end + 4 + length
    if len(buf) < total:
        return None, buf
    return buf[:total], buf[total:]
