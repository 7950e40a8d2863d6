"""Crafted bundles for the bundle-reading tests: a real bundle rewritten member by member.

Big members are generated as streams (never held in memory): a 512 MiB member of zeros costs
about half a megabyte on disk and nothing in the test process.  The manifest's `files` list is
fixed up (size, sha256) so that a mutation looks like a bundle diagnose wrote, unless a test
asks for a member to stay unlisted.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.runs import inside

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
HEAD = ("findings.json", "summary.md", "summary.html")
CHUNK = 1 << 20
MiB = 1 << 20


@dataclass
class Stream:
    """A member generated chunk by chunk: `size` bytes from `chunks()` (called once per use)."""

    size: int
    chunks: Callable[[], Iterator[bytes]]

    def sha256(self) -> str:
        h = hashlib.sha256()
        for chunk in self.chunks():
            h.update(chunk)
        return h.hexdigest()


def zeros(size: int) -> Stream:
    """`size` NUL bytes."""
    def gen() -> Iterator[bytes]:
        left = size
        block = bytes(CHUNK)
        while left:
            n = min(left, CHUNK)
            yield block[:n]
            left -= n
    return Stream(size, gen)


def repeated(line: bytes, size: int) -> Stream:
    """`line` over and over, cut at `size` bytes (a log of identical lines)."""
    per = max(1, CHUNK // len(line))
    block = line * per

    def gen() -> Iterator[bytes]:
        left = size
        while left:
            n = min(left, len(block))
            yield block[:n]
            left -= n
    return Stream(size, gen)


def numbered_log(count: int, text: bytes = b"x=1", start: str = "2026-11-28T01:00:00") -> Stream:
    """`count` docker-timestamped lines `<stamp> <text> <n>` (distinct, in time order)."""
    def lines() -> Iterator[bytes]:
        buf = []
        for n in range(count):
            sec, frac = divmod(n, 1_000_000)
            buf.append(b"%s.%06d%03dZ %s %d\n" % (start.encode(), frac, sec % 1000, text, n))
            if len(buf) == 4096:
                yield b"".join(buf)
                buf = []
        if buf:
            yield b"".join(buf)
    size = sum(len(c) for c in lines())
    return Stream(size, lines)


class _StreamReader(io.RawIOBase):
    def __init__(self, stream: Stream) -> None:
        self._it = stream.chunks()
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            try:
                self._buf = next(self._it)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


Member = tuple[str, "bytes | Stream"]


def sample_members(name: str = "app-crash") -> list[tuple[str, bytes]]:
    """Every member of samples/NAME.tar.gz, in archive order."""
    out = []
    with tarfile.open(SAMPLES / f"{name}.tar.gz", "r:gz") as tf:
        for m in tf:
            fh = tf.extractfile(m)
            out.append((inside(m.name), fh.read() if fh else b""))
    return out


def replicated(n: int, files: dict[str, bytes | Stream] | None = None, base: str = "app-crash",
               kind: str = "containers") -> list[Member]:
    """The `base` sample with its (first) container or service directory replaced by `n`
    copies named t0, t1... (each holding `files`, by default the sample's own), the manifest's
    targets and collector records following."""
    members = sample_members(base)
    manifest = manifest_of(members)
    prefix = f"{kind}/"
    key = next(name.split("/")[1] for name, _ in members if name.startswith(prefix))
    own: dict[str, bytes | Stream] = {name.split("/", 2)[2]: data for name, data in members
                                       if name.startswith(f"{prefix}{key}/")}
    copied = own if files is None else files
    records = [r for r in manifest["collectors"] if r.get("owner") == f"{prefix}{key}"
               or r.get("owner") == key]
    manifest["collectors"] = [r for r in manifest["collectors"] if r not in records] + [
        {**r, "owner": r["owner"].replace(key, f"t{i}")} for i in range(n) for r in records]
    if kind == "containers":
        manifest["targets"] = [{"key": f"t{i}", "name": f"t{i}", "id": "", "engine": ""}
                               for i in range(n)]
    rest = [(name, data) for name, data in members[1:] if not name.startswith(prefix)]
    copies = [(f"{prefix}t{i}/{rel}", data) for i in range(n) for rel, data in copied.items()]
    return [("manifest.json", json.dumps(manifest).encode()), *rest, *copies]


def manifest_of(members: Sequence[Member] | Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    """The parsed manifest.json of a member list."""
    data = dict(members)["manifest.json"]
    assert isinstance(data, bytes)
    return json.loads(data)


def with_manifest(members: list[Member], manifest: dict[str, Any] | bytes) -> list[Member]:
    """The members with manifest.json replaced (raw bytes are kept as they are)."""
    data = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    return [(n, data if n == "manifest.json" else d) for n, d in members]


def fix_files(members: list[Member], unlisted: Iterable[str] = ()) -> list[Member]:
    """Rewrite the manifest's `files` list to what the members really hold (size, sha256),
    leaving out `unlisted` (and manifest.json, which is never listed)."""
    skip = {"manifest.json", *unlisted}
    manifest = manifest_of(members)
    files = []
    for name, data in members:
        if name in skip:
            continue
        if isinstance(data, Stream):
            files.append({"path": name, "size": data.size, "sha256": data.sha256()})
        else:
            files.append({"path": name, "size": len(data),
                          "sha256": hashlib.sha256(data).hexdigest()})
    manifest["files"] = files
    return with_manifest(members, manifest)


def write(path: Path, members: Iterable[Member], *, after_tar: Stream | bytes = b"",
          after_gzip: bytes = b"", fix: bool = True, unlisted: Iterable[str] = ()) -> Path:
    """Write a .tar.gz (one gzip stream, pax headers, like diagnose) from `members`.

    `after_tar` goes into the gzip stream after the tar end-of-archive blocks; `after_gzip`
    is appended to the file after the gzip stream.
    """
    members = list(members)
    if fix:
        members = fix_files(members, unlisted)
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as gz:
            with tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tf:
                for name, data in members:
                    info = tarfile.TarInfo(name)
                    info.mode = 0o600
                    if isinstance(data, Stream):
                        info.size = data.size
                        tf.addfile(info, io.BufferedReader(_StreamReader(data), CHUNK))
                    else:
                        info.size = len(data)
                        tf.addfile(info, io.BytesIO(data))
            if isinstance(after_tar, Stream):
                for chunk in after_tar.chunks():
                    gz.write(chunk)
            else:
                gz.write(after_tar)
        raw.write(after_gzip)
    return path


@dataclass
class Run:
    """One `diagnose` subprocess: exit code, output, and its peak RSS in bytes."""

    code: int
    stdout: str
    stderr: str
    peak_rss: int

    @property
    def lines(self) -> list[str]:
        return self.stderr.strip().splitlines()


#: Runs diagnose as its child and reports that child's peak RSS.  A child's ru_maxrss starts
#: at its parent's RSS (fork copies it, and exec keeps the high-water mark), so diagnose is
#: started from this small launcher, never directly from the large pytest process.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "diagnose", *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def measured(*args: str, cwd: Path, timeout: float = 900) -> Run:
    """Run `python -m diagnose ARGS` in a fresh process; its exit code, output and peak RSS
    (its own ru_maxrss, from wait4() in :data:`_LAUNCHER`)."""
    peak_file = cwd / ".peak-rss"
    proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(peak_file), *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "DIAGNOSE_NO_PLUGINS": "1"})
    out, err = _drain(proc, timeout)
    code = proc.wait()
    peak = int(peak_file.read_text()) * 1024
    peak_file.unlink()
    run = Run(code, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), peak)
    if os.environ.get("DIAGNOSE_TEST_PEAKS"):  # a record of what was measured (README figures)
        with open(os.environ["DIAGNOSE_TEST_PEAKS"], "a") as fh:
            test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
            fh.write(f"{test}\t{args[0]}\t{run.code}\t{run.peak_rss / MiB:.0f} MiB\n")
    return run


def _drain(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes]:
    """Read stdout and stderr to their end without reaping the child."""
    import threading

    assert proc.stdout is not None and proc.stderr is not None
    got: dict[str, bytes] = {}

    def read(name: str, fh: Any) -> None:
        got[name] = fh.read()

    threads = [threading.Thread(target=read, args=("out", proc.stdout)),
               threading.Thread(target=read, args=("err", proc.stderr))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
        if t.is_alive():
            proc.kill()
            raise AssertionError(f"diagnose did not finish within {timeout}s")
    return got["out"], got["err"]

