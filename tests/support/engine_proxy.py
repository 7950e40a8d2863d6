"""A forwarding proxy in front of the real engine that changes what it says about itself.

The shared engine must never be reconfigured (no TCP listener, no older release, no full
disk), yet `engine-api-skew`, `engine-warnings` and `engine-disk-low` need an engine in those
conditions.  This proxy listens on a unix socket, forwards every request to the real engine
unchanged (and lists them, for tests of what diagnose asks), and only edits the JSON of
`/version` and `/info` (any API prefix): an older
`ApiVersion` makes the client really negotiate down (every later call goes out as
`/v1.NN/...` and is answered by the real engine), extra `Warnings` are what `docker info`
prints, and `DockerRootDir` points the host collector at a directory of the test's choosing.
Everything else diagnose sees is the real engine's answer.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import socketserver
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

REAL_SOCKET = "/var/run/docker.sock"
_VERSION = re.compile(r"^(?:/v[\d.]+)?/version(?:\?|$)")
_INFO = re.compile(r"^(?:/v[\d.]+)?/info(?:\?|$)")
_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer",
        "upgrade", "proxy-connection"}

Patch = Callable[[dict[str, Any]], None]


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=120)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(120)
        sock.connect(self.path)
        self.sock = sock


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    # The engine listens with the kernel's largest backlog; socketserver's default of 5 made a
    # run's burst of new connections fail to connect (EAGAIN) now and then.
    request_queue_size = socket.SOMAXCONN
    patches: dict[str, Patch]
    requests: list[tuple[str, str]]
    on_connection: list[tuple[int, str]]  # (connection number, path without query)
    connections: int = 0
    numbers: dict[Any, int]

    def process_request(self, request: Any, client_address: Any) -> None:
        # Only the serving thread accepts, so counting here has no race; the handler's
        # thread takes its connection's number from `numbers`.
        self.connections += 1
        self.numbers[request] = self.connections
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.number = self.server.numbers.pop(self.request)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def address_string(self) -> str:
        return "unix"

    def _forward(self) -> None:
        self.server.requests.append((self.command, self.path))  # list.append is atomic
        self.server.on_connection.append((self.number, self.path.partition("?")[0]))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        conn = _UnixConnection(REAL_SOCKET)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status, reason, out_headers = resp.status, resp.reason, resp.getheaders()
            # docker-py reads a streamed answer (events, a build) as JSON documents only when
            # it comes chunked, as the engine sends it; with a length it parses one document.
            chunked = resp.chunked
        finally:
            conn.close()
        patch = None
        if _VERSION.match(self.path):
            patch = self.server.patches.get("version")
        elif _INFO.match(self.path):
            patch = self.server.patches.get("info")
        if patch is not None and status == 200:
            doc = json.loads(data)
            patch(doc)
            data = json.dumps(doc).encode()
        self.send_response(status, reason)
        for k, v in out_headers:
            if k.lower() not in _HOP:
                self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if chunked:
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data) if data else b"0\r\n\r\n")
        else:
            self.wfile.write(data)

    do_GET = do_POST = do_HEAD = do_DELETE = do_PUT = _forward  # noqa: N815


class EngineProxy:
    """Run the proxy on `path` for the duration of a `with` block."""

    def __init__(self, path: Path, version: Patch | None = None, info: Patch | None = None):
        self.path = path
        self.server = _Server(str(path), _Handler)
        self.server.patches = {k: v for k, v in (("version", version), ("info", info)) if v}
        self.server.requests = []
        self.server.on_connection = []
        self.server.numbers = {}
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, path with query) of every request forwarded so far, in arrival order."""
        return list(self.server.requests)

    def paths_by_connection(self) -> dict[int, set[str]]:
        """The distinct paths (query left out) each connection carried, by its number."""
        out: dict[int, set[str]] = {}
        for number, path in list(self.server.on_connection):
            out.setdefault(number, set()).add(path)
        return out

    @property
    def host(self) -> str:
        """The `--host` value that reaches the proxy."""
        return f"unix://{self.path}"

    def __enter__(self) -> EngineProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        if os.path.exists(self.path):
            os.unlink(self.path)
