"""Open a page in Debian's headless Chromium and report what it did, for the HTML report tests.

Why the DevTools protocol over a pipe (`--remote-debugging-pipe`) rather than `--dump-dom` or a
net log: the pipe needs no port and no websocket library, and it lets the test ask precise
questions of the one page under test:

- *what did the page fetch?*  `Network.requestWillBeSent` events of that page's session list
  every URL the page asked for (including ones that then failed, and ones a Content Security
  Policy blocked).  Chromium's own background traffic (updates, time, sign-in) goes through
  other sessions and never shows up there, which a browser-wide net log cannot tell apart.
  The page's own CSP is bypassed (`Page.setBypassCSP`) so that it cannot hide a reference.
- *is what matters visible?*  A script evaluated in the page measures the findings' boxes and
  computed styles after layout, and reads the rendered text.
- *what does it look like?*  `Page.captureScreenshot` of the whole page, written to a file
  that the tests keep under test-artifacts/, and decoded here to check that it was painted.

Host names never resolve (`--host-resolver-rules`), so nothing can leave the machine even if a
page asked.  The protocol: NUL-terminated JSON messages, ours on fd 3, Chromium's on fd 4.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--remote-debugging-pipe",
)


def chromium() -> str:
    """The Chromium binary (scripts/browser.sh installs Debian's package)."""
    path = shutil.which("chromium")
    if path is None:
        raise AssertionError("chromium is not installed: run scripts/browser.sh "
                             "(scripts/test.sh does)")
    return path


@dataclass
class PageLoad:
    """What one page load did."""

    url: str
    requests: list[str] = field(default_factory=list)
    probe: Any = None
    screenshot: bytes = b""
    clips: list[bytes] = field(default_factory=list)
    console: list[str] = field(default_factory=list)


class _Pipe:
    def __init__(self, read_fd: int, write_fd: int) -> None:
        self.read_fd, self.write_fd = read_fd, write_fd
        self.buf = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> int:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.write_fd, json.dumps(msg).encode() + b"\0")
        return self.next_id

    def recv(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self.buf:
            ready, _, _ = select.select([self.read_fd], [], [], max(0.0, deadline - time.time()))
            if not ready:
                raise AssertionError("chromium did not answer in time")
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise AssertionError("chromium closed the DevTools pipe")
            self.buf += chunk
        raw, _, self.buf = self.buf.partition(b"\0")
        return json.loads(raw)

    def call(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 30) -> dict[str, Any]:
        want = self.send(method, params, session)
        deadline = time.time() + timeout
        while True:
            msg = self.recv(deadline)
            if msg.get("id") == want:
                if "error" in msg:
                    raise AssertionError(f"{method} failed: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_for(self, method: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.time() + timeout
        for msg in self.events:
            if msg.get("method") == method:
                return msg
        while True:
            msg = self.recv(deadline)
            self.events.append(msg)
            if msg.get("method") == method:
                return msg


def load(url: str, expression: str, width: int = 1280, height: int = 1000,
         clips: Callable[[Any], list[dict[str, float]]] | None = None,
         timeout: float = 60) -> PageLoad:
    """Open `url`, wait for `load`, evaluate `expression` (its JSON value is `probe`), and take a
    full-page screenshot, plus one small screenshot per rectangle `clips(probe)` returns (small,
    so that a pure-Python PNG decoder can look at their pixels)."""
    result = PageLoad(url)
    ours_r, theirs_w = os.pipe()  # Chromium writes fd 4, we read
    theirs_r, ours_w = os.pipe()  # we write, Chromium reads fd 3

    def wire() -> None:  # in the child, before exec
        os.dup2(theirs_r, 3)
        os.dup2(theirs_w, 4)

    with tempfile.TemporaryDirectory(prefix="diagnose-chromium-") as profile:
        args = [chromium(), *FLAGS, f"--user-data-dir={profile}",
                f"--window-size={width},{height}", "about:blank"]
        proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=wire,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        os.close(theirs_r)
        os.close(theirs_w)
        pipe = _Pipe(ours_r, ours_w)
        try:
            targets = pipe.call("Target.getTargets", timeout=timeout)["targetInfos"]
            page = next(t for t in targets if t["type"] == "page")
            session = pipe.call("Target.attachToTarget",
                                {"targetId": page["targetId"], "flatten": True})["sessionId"]
            for domain in ("Page", "Network", "Runtime"):
                pipe.call(f"{domain}.enable", session=session)
            pipe.call("Page.setBypassCSP", {"enabled": True}, session=session)
            pipe.call("Page.navigate", {"url": url}, session=session)
            pipe.wait_for("Page.loadEventFired", timeout)
            value = pipe.call("Runtime.evaluate", {"expression": expression,
                                                   "returnByValue": True}, session=session)
            if "exceptionDetails" in value:
                raise AssertionError(f"probe failed: {value['exceptionDetails']}")
            result.probe = value["result"].get("value")
            metrics = pipe.call("Page.getLayoutMetrics", session=session)
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            clip = {"x": 0, "y": 0, "width": width,
                    "height": min(int(size["height"]) + 1, 12000), "scale": 1}
            shot = pipe.call("Page.captureScreenshot", {"format": "png", "clip": clip,
                                                        "captureBeyondViewport": True},
                             session=session)
            result.screenshot = base64.b64decode(shot["data"])
            for rect in clips(result.probe) if clips else ():
                part = pipe.call("Page.captureScreenshot",
                                 {"format": "png", "clip": {**rect, "scale": 1},
                                  "captureBeyondViewport": True}, session=session)
                result.clips.append(base64.b64decode(part["data"]))
            # Whatever arrived meanwhile (late requests included) is in pipe.events.
            for msg in pipe.events:
                params = msg.get("params") or {}
                if msg.get("method") == "Network.requestWillBeSent":
                    result.requests.append(params["request"]["url"])
                elif msg.get("method") == "Runtime.consoleAPICalled":
                    result.console.append(json.dumps(params.get("args")))
            try:
                pipe.call("Browser.close", timeout=10)
            except AssertionError:
                pass
        finally:
            os.close(ours_r)
            os.close(ours_w)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(15)
    return result


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Decode an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) to RGB pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, channels = 8, b"", 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
    raw = zlib.decompress(idat)
    stride = width * channels
    prev = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = prev[i]
            upleft = prev[i - channels] if i >= channels else 0
            if ftype == 1:
                line[i] = (line[i] + left) & 0xFF
            elif ftype == 2:
                line[i] = (line[i] + up) & 0xFF
            elif ftype == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif ftype == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else upleft
                line[i] = (line[i] + pred) & 0xFF
        pixels.extend(tuple(line[x:x + 3]) for x in range(0, stride, channels))  # type: ignore[misc]
        prev = line
    return width, height, pixels


def save_artifact(name: str, data: bytes) -> Path:
    """Keep a file produced by a test under test-artifacts/ (gitignored) for people to look at."""
    root = Path(__file__).resolve().parents[2] / "test-artifacts"
    root.mkdir(exist_ok=True)
    path = root / name
    path.write_bytes(data)
    return path
