"""The one archive writer: bundle layout on disk, manifest, atomic publication.

Evidence is appended to a compressed *body* as it arrives (raw deflate, flushed to a byte
boundary at the end), so no copy of the whole bundle sits in memory or in a temporary tree.
`finish()` writes the final file as ONE gzip stream, the way pigz joins independently
compressed blocks: gzip header, the deflated head entries (manifest.json first, then
README.txt, findings.json, summary.md, summary.html), the body's deflate bytes copied as they
are, the deflated tar end-of-archive, and a trailer whose CRC-32 is combined from the parts'.
Any gzip or tar reader sees an ordinary single-member .tar.gz.

Every member lies in ONE top-level directory named after the bundle
(`diagnose-web-20261127T205714Z/manifest.json`...), so unpacking it never spills into the
current directory; the manifest lists the paths inside that directory (`manifest.json`...).

Files are created 0600 in the output directory under a temporary name and renamed only when
complete and verified (the post-write rescan for learned secrets runs on the temporary file),
so no partial, interrupted or leaking bundle ever sits under the final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import struct
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from diagnose.model import interrupts
from diagnose.model.errors import OutputError
from diagnose.model.limits import MAX_BUNDLE_BYTES
from diagnose.model.text import exact_bytes

if TYPE_CHECKING:
    pass

BLOCK = 512
_FILE_MODE = 0o600


def deflate_module() -> tuple[Any, int]:
    """The deflate implementation and its level: ISA-L's (python-isal) at its default level 2
    where it is installed, else the standard library's zlib at 6.  For the 70 MB of a
    200-container bundle, zlib at 6 took 418 ms of CPU for 7.15 MB and ISA-L at 2 takes 40 ms
    for 7.54 MB (docs/performance.md); both write the same format, which gzip, tar and
    `diagnose analyze` read alike."""
    try:
        from isal import isal_zlib  # startup: a C extension, loaded when a bundle is written
    except ImportError:  # a platform without its wheel (pyproject.toml lists where)
        return zlib, 6
    return isal_zlib, 2


def _header(path: str, size: int, mtime: float) -> bytes:
    info = tarfile.TarInfo(path)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o600
    info.uname = info.gname = "diagnose"
    return info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape")


def _member(path: str, data: bytes, mtime: float) -> bytes:
    return _header(path, len(data), mtime) + data + b"\0" * ((-len(data)) % BLOCK)


def top_directory(file_name: str) -> str:
    """The top-level directory inside a bundle named `file_name` (its name without
    `.tar.gz` or `.tgz`)."""
    stem = file_name.removesuffix(".tar.gz").removesuffix(".tgz")
    return stem if stem not in ("", ".", "..") else "bundle"


def file_entry(path: str, data: bytes) -> dict[str, Any]:
    """A file as the manifest lists it: path, size and sha256."""
    return {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def check_output_dir(directory: Path) -> None:
    """Fail early, with what to do, when the output directory cannot take a bundle."""
    if not directory.exists():
        raise OutputError(f"output directory {directory} does not exist",
                          "create it, or pass --output DIR")
    if not directory.is_dir():
        raise OutputError(f"output path {directory} is not a directory", "pass --output DIR")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"output directory {directory} is not writable",
                          "pass --output DIR with a writable directory")


def _open_private(path: Path) -> IO[bytes]:
    # Registered as temporary: a signal at any point removes it (diagnose/model/interrupts.py).
    return os.fdopen(interrupts.create(path, _FILE_MODE), "wb")


_POLY = 0xEDB88320  # CRC-32, reflected


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC-32 polynomial (reflected bit order), as zlib's multmodp."""
    m = 1 << 31
    p = 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _x2n_table() -> list[int]:
    table = [1 << 30]  # x^1
    for _ in range(31):
        table.append(_multmodp(table[-1], table[-1]))
    return table


_X2N = _x2n_table()  # x^(2^k) modulo the polynomial


def crc32_combine(crc1: int, crc2: int, len2: int) -> int:
    """CRC-32 of A+B from crc(A), crc(B) and len(B) (zlib's crc32_combine, in Python)."""
    if len2 <= 0:
        return crc1
    op, k = 1 << 31, 3  # x^0; the shift is 8 * len2 bits = x^(2^3) per byte
    n = len2
    while n:
        if n & 1:
            op = _multmodp(_X2N[k & 31], op)
        n >>= 1
        k += 1
    return _multmodp(op, crc1) ^ crc2


class _Deflater:
    """Raw deflate of one part, with its CRC-32 and length for the gzip trailer."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.lib, level = deflate_module()
        self.z = self.lib.compressobj(level, self.lib.DEFLATED, -15)
        self.crc = 0
        self.size = 0

    def write(self, data: bytes) -> None:
        self.crc = self.lib.crc32(data, self.crc)
        self.size += len(data)
        self.out.write(self.z.compress(data))

    def close(self, final: bool) -> None:
        # A sync flush ends on a byte boundary without a final block: the next part continues.
        self.out.write(self.z.flush(self.lib.Z_FINISH if final else self.lib.Z_SYNC_FLUSH))


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"  # no name, mtime 0, Unix


class BundleWriter:
    """Stream evidence into a bundle and publish it atomically."""

    def __init__(self, directory: Path, final_name: str, exact: bool = False) -> None:
        """`final_name` as given when `exact` (an existing file of that name is an error),
        else the first free name among `final_name`, `NAME-2.tar.gz`, `NAME-3.tar.gz`...:
        a bundle never replaces an existing file (two runs within one second used to)."""
        check_output_dir(directory)
        self.directory = directory
        self.exact = exact
        self._reserve: Path | None = None
        self.final_path = self._claim(directory, final_name)
        final_name = self.final_path.name
        #: The archive's one top-level directory: the bundle's name without .tar.gz.
        self.top = top_directory(final_name)
        token = f"{os.getpid()}-{time.monotonic_ns()}"
        self._body_path = directory / f".{final_name}.{token}.body.tmp"
        self._tmp_path = directory / f".{final_name}.{token}.tmp"
        self._mtime = time.time()
        self.files: list[dict[str, Any]] = []
        self._paths: set[str] = set()
        try:
            self._body_raw = _open_private(self._body_path)
        except OSError as exc:
            raise OutputError(f"cannot write to {directory}: {exc.strerror}",
                              "pass --output DIR with a writable directory") from exc
        self._body = _Deflater(self._body_raw)
        self._closed = False

    # -- body ---------------------------------------------------------------------------------
    def add(self, path: str, data: bytes) -> None:
        """Append one file to the body (paths are unique; later duplicates are an error)."""
        self._admit(path, len(data))
        try:
            self._body.write(_member(f"{self.top}/{path}", data, self._mtime))
        except OSError as exc:
            raise OutputError(f"writing the bundle in {self.directory} failed: {exc.strerror}",
                              "free space or pass --output DIR elsewhere") from exc
        self.files.append(file_entry(path, data))

    def add_stream(self, path: str, source: IO[bytes], size: int) -> None:
        """Append one file of `size` bytes read from `source` in chunks (never whole)."""
        self._admit(path, size)
        h = hashlib.sha256()
        left = size
        try:
            self._body.write(_header(f"{self.top}/{path}", size, self._mtime))
            while left:
                chunk = source.read(min(left, 1 << 20))
                if not chunk:
                    raise ValueError(f"{path}: its source ended {left} bytes early")
                h.update(chunk)
                self._body.write(chunk)
                left -= len(chunk)
            self._body.write(b"\0" * ((-size) % BLOCK))
        except OSError as exc:
            raise OutputError(f"writing the bundle in {self.directory} failed: {exc.strerror}",
                              "free space or pass --output DIR elsewhere") from exc
        self.files.append({"path": path, "size": size, "sha256": h.hexdigest()})

    def spool(self) -> IO[bytes]:
        """A temporary file next to the bundle (already unlinked: nothing is left behind), for
        a file that must be written whole before its size is known."""
        try:
            return tempfile.TemporaryFile(dir=self.directory)
        except OSError as exc:
            raise OutputError(f"cannot write to {self.directory}: {exc.strerror}",
                              "pass --output DIR with a writable directory") from exc

    def _admit(self, path: str, size: int) -> None:
        if path in self._paths:
            raise ValueError(f"duplicate bundle path {path}")
        self._paths.add(path)
        if self._body.size + size + 2 * BLOCK > MAX_BUNDLE_BYTES:
            raise OutputError(f"the bundle would exceed {exact_bytes(MAX_BUNDLE_BYTES)} "
                              "uncompressed, the most `diagnose analyze` reads",
                              "collect fewer containers or lower --max-log-bytes")

    def add_many(self, files: Iterable[tuple[str, bytes]]) -> None:
        """Append several files in order."""
        for path, data in files:
            self.add(path, data)

    # -- publication --------------------------------------------------------------------------
    def finish(self, head: list[tuple[str, bytes]],
               verify: Callable[[Path], None] | None = None) -> Path:
        """Write head files (manifest first), the body and the end marker; rename into place.

        `verify` reads the complete temporary file before it is published; if it raises, the
        temporary file is removed and nothing appears under the final name.
        """
        try:
            self._body.close(final=False)
            self._body_raw.flush()
            os.fsync(self._body_raw.fileno())
            self._body_raw.close()
            self._closed = True
            with _open_private(self._tmp_path) as out:
                out.write(_GZIP_HEADER)
                first = _Deflater(out)
                for path, data in head:
                    first.write(_member(f"{self.top}/{path}", data, self._mtime))
                first.close(final=False)
                with open(self._body_path, "rb") as body:
                    shutil.copyfileobj(body, out, 1024 * 1024)
                last = _Deflater(out)
                last.write(b"\0" * (BLOCK * 2))
                last.close(final=True)
                crc = crc32_combine(first.crc, self._body.crc, self._body.size)
                crc = crc32_combine(crc, last.crc, last.size)
                total = first.size + self._body.size + last.size
                out.write(struct.pack("<II", crc & 0xFFFFFFFF, total & 0xFFFFFFFF))
                out.flush()
                os.fsync(out.fileno())
            if verify is not None:
                verify(self._tmp_path)
            self._publish()
        except OSError as exc:
            self.abort()
            raise OutputError(f"writing the bundle in {self.directory} failed: {exc.strerror}",
                              "free space or pass --output DIR elsewhere") from exc
        except BaseException:
            self.abort()
            raise
        finally:
            interrupts.discard(self._body_path)
            if self._reserve is not None:
                interrupts.discard(self._reserve)
        return self.final_path

    def _claim(self, directory: Path, name: str) -> Path:
        """The final path, reserved for this writer.

        A name is ours when no file has it and we created its hidden reservation file
        (O_EXCL): two runs of the same second in the same directory get different names, and
        the name is known before the report that quotes it is rendered.
        """
        stem = name.removesuffix(".tar.gz")
        for n in range(1, 1000 if not self.exact else 2):
            candidate = name if n == 1 else f"{stem}-{n}.tar.gz"
            path = directory / candidate
            if os.path.lexists(path):
                continue
            reserve = directory / f".{candidate}.reserve"
            try:
                os.close(interrupts.create(reserve, _FILE_MODE))
            except FileExistsError:
                continue
            except OSError as exc:
                raise OutputError(f"cannot write to {directory}: {exc.strerror}",
                                  "pass --output DIR with a writable directory") from exc
            if os.path.lexists(path):  # published by another run since we looked
                interrupts.discard(reserve)
                continue
            self._reserve = reserve
            return path
        if self.exact:
            raise OutputError(f"{directory / name} already exists",
                              "remove it or pass -o with another name")
        raise OutputError(f"{directory} already holds 999 bundles named {stem}*",
                          "pass --output DIR elsewhere")

    def _publish(self) -> None:
        with interrupts.publishing(self._tmp_path, self.final_path):
            try:
                os.link(self._tmp_path, self.final_path)  # fails when the name exists
            except FileExistsError:
                raise OutputError(f"{self.final_path} already exists",
                                  "remove it or pass -o with another name") from None
            except OSError:
                if os.path.lexists(self.final_path):
                    raise
                os.replace(self._tmp_path, self.final_path)  # no hard links here
                return
            os.unlink(self._tmp_path)

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Leaving the block with an error (or a signal) aborts the bundle."""
        if exc is not None:
            self.abort()

    def abort(self) -> None:
        """Remove every temporary file; the final name is never created by an aborted run."""
        if not self._closed:
            with contextlib.suppress(Exception):
                self._body_raw.close()
            self._closed = True
        for p in (self._body_path, self._tmp_path, self._reserve):
            if p is not None:
                interrupts.discard(p)
