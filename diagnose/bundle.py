"""Read a bundle back into evidence, with no engine: the input of `diagnose analyze`.

Reading is defensive: a missing, truncated, corrupt or foreign archive, or one with members
that would escape the root (absolute paths, `..`, links, devices) is refused with a one-line
message (exit 2).  Members are read in one sequential pass; each container's files are handed
over as soon as its directory ends, so memory follows one container at a time.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnose import layout
from diagnose.errors import BundleError
from diagnose.snapshot import CollectorRecord

MAX_MEMBER = 1024 * 1024 * 1024
HEAD_FILES = {layout.MANIFEST, layout.FINDINGS, layout.SUMMARY_MD, layout.SUMMARY_HTML}


@dataclass
class BundleParts:
    """What a pass over a bundle yields besides containers."""

    manifest: dict[str, Any]
    engine_files: dict[str, bytes] = field(default_factory=dict)
    host_files: dict[str, bytes] = field(default_factory=dict)
    other_files: dict[str, bytes] = field(default_factory=dict)
    #: Swarm services (`diagnose service`): key -> files relative to services/<key>/.
    service_files: dict[str, dict[str, bytes]] = field(default_factory=dict)
    file_list: list[dict[str, Any]] = field(default_factory=list)

    def records(self, owner: str) -> dict[str, CollectorRecord]:
        """Collector records of one owner (container key, `engine` or `host`)."""
        out = {}
        for item in self.manifest.get("collectors") or ():
            if item.get("owner") == owner:
                rec = CollectorRecord.from_dict(item)
                out[rec.name] = rec
        return out


def safe_member_name(name: str) -> str:
    """Validate an archive member name; raise BundleError when it could escape the root."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        raise BundleError(f"refusing a member with an unsafe name: {name!r}",
                          "the archive may be malicious; do not extract it")
    norm = posixpath.normpath(name)
    if norm.startswith("..") or "/../" in f"/{name}/" or norm in (".", ""):
        raise BundleError(f"refusing a member that escapes the bundle root: {name!r}",
                          "the archive may be malicious; do not extract it")
    return norm


def _describe(path: Path, exc: BaseException) -> BundleError:
    if isinstance(exc, EOFError) or "unexpected end" in str(exc).lower():
        return BundleError(f"{path} is truncated", "the copy or download is incomplete; fetch "
                           "it again")
    if isinstance(exc, gzip.BadGzipFile) or "not a gzip" in str(exc).lower():
        return BundleError(f"{path} is not a gzip file, so not a diagnose bundle",
                           "pass the .tar.gz that diagnose wrote")
    if isinstance(exc, zlib.error | OSError) and "crc" in str(exc).lower():
        return BundleError(f"{path} is corrupt (checksum error)", "fetch the bundle again")
    return BundleError(f"{path} is not a readable bundle: {exc}", "fetch the bundle again")


class BundleReader:
    """One sequential pass over a bundle."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            raise BundleError(f"no such bundle: {path}", "check the path")
        if not path.is_file():
            raise BundleError(f"{path} is not a file", "pass the .tar.gz that diagnose wrote")

    def read(self) -> tuple[BundleParts, Iterator[tuple[str, dict[str, bytes]]]]:
        """The manifest and engine/host files, and an iterator of (container key, files).

        The iterator must be consumed fully; engine, host and service files found after
        containers are added to the parts as the pass reaches them.
        """
        fh, gz, tf, parts = self._open()
        return parts, self._containers(fh, gz, tf, parts)

    def _open(self) -> tuple[Any, gzip.GzipFile, tarfile.TarFile, BundleParts]:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed by the generator
        except OSError as exc:
            raise BundleError(f"cannot open {self.path}: {exc.strerror}", "check the path") from exc
        try:
            # Our own gzip layer, so the end-of-stream marker and CRC are verified (tarfile's
            # stream mode would take a truncated file for a shorter archive).
            gz = gzip.GzipFile(fileobj=fh, mode="rb")
            tf = tarfile.open(fileobj=gz, mode="r|")
            first = tf.next()
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            fh.close()
            raise _describe(self.path, exc) from exc
        if first is None or first.name != layout.MANIFEST:
            fh.close()
            raise BundleError(
                f"{self.path} is not a diagnose bundle (manifest.json is not its first member)",
                "pass a bundle written by diagnose",
            )
        try:
            manifest = json.loads(self._data(tf, first))
        except ValueError as exc:
            fh.close()
            raise BundleError(f"{self.path} has an unreadable manifest.json",
                              "the bundle is damaged; fetch it again") from exc
        schema = str(manifest.get("schema", ""))
        if not schema.startswith(layout.BUNDLE_SCHEMA.split("/")[0] + "/"):
            fh.close()
            raise BundleError(f"{self.path} is not a diagnose bundle (schema {schema!r})",
                              "pass a bundle written by diagnose")
        parts = BundleParts(manifest, file_list=list(manifest.get("files") or ()))
        return fh, gz, tf, parts

    def _verify(self, name: str, data: bytes, expected: dict[str, dict[str, Any]]) -> None:
        want = expected.get(name)
        if want is None or "sha256" not in want:
            return
        if hashlib.sha256(data).hexdigest() != want["sha256"]:
            raise BundleError(f"{self.path} is corrupt: {name} does not match the checksum in "
                              "its manifest", "fetch the bundle again")

    def _drain(self, gz: gzip.GzipFile) -> None:
        """Read to the end of the gzip stream: its length and CRC-32 are checked there."""
        try:
            while gz.read(1 << 20):
                pass
        except (OSError, EOFError, zlib.error) as exc:
            raise _describe(self.path, exc) from exc

    def _data(self, tf: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
        if not member.isreg():
            raise BundleError(f"refusing a non-regular member {member.name!r} "
                              f"(links and devices are never in a bundle)",
                              "the archive may be malicious; do not extract it")
        if member.size > MAX_MEMBER:
            raise BundleError(f"member {member.name!r} is larger than 1 GiB",
                              "this is not a bundle diagnose wrote")
        fobj = tf.extractfile(member)
        return fobj.read() if fobj is not None else b""

    def _containers(
        self, fh: Any, gz: gzip.GzipFile, tf: tarfile.TarFile, parts: BundleParts
    ) -> Iterator[tuple[str, dict[str, bytes]]]:
        current_key: str | None = None
        current: dict[str, bytes] = {}
        prefix = layout.CONTAINERS_DIR + "/"
        for name, data in self._members(fh, gz, tf, parts):
            if name.startswith(prefix) and name.count("/") >= 2:
                key, _, rel = name[len(prefix):].partition("/")
                if key != current_key:
                    if current_key is not None:
                        yield current_key, current
                    current_key, current = key, {}
                current[rel] = data
                continue
            if name.startswith(layout.ENGINE_DIR + "/"):
                parts.engine_files[name] = data
            elif name.startswith("host/"):
                parts.host_files[name] = data
            elif name.startswith(layout.SERVICES_DIR + "/") and name.count("/") >= 2:
                key, _, rel = name[len(layout.SERVICES_DIR) + 1:].partition("/")
                parts.service_files.setdefault(key, {})[rel] = data
            elif name not in HEAD_FILES:
                parts.other_files[name] = data
        if current_key is not None:
            yield current_key, current

    def members(self) -> tuple[BundleParts, Iterator[tuple[str, bytes]]]:
        """The manifest, and every member after it as (name, bytes), in archive order, with
        the same checks as :meth:`read` (for rewriting a bundle member by member)."""
        fh, gz, tf, parts = self._open()
        return parts, self._members(fh, gz, tf, parts)

    def _members(
        self, fh: Any, gz: gzip.GzipFile, tf: tarfile.TarFile, parts: BundleParts
    ) -> Iterator[tuple[str, bytes]]:
        expected = {f["path"]: f for f in parts.file_list if "path" in f}
        seen: set[str] = set()
        try:
            while True:
                try:
                    member = tf.next()
                except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
                    raise _describe(self.path, exc) from exc
                if member is None:
                    break
                name = safe_member_name(member.name)
                if member.isdir():
                    continue
                try:
                    data = self._data(tf, member)
                except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
                    raise _describe(self.path, exc) from exc
                self._verify(name, data, expected)
                seen.add(name)
                yield name, data
            self._drain(gz)
            missing = sorted(set(expected) - seen)
            if missing:
                raise BundleError(f"{self.path} is truncated: {len(missing)} file(s) listed in "
                                  f"its manifest are missing (first: {missing[0]})",
                                  "the copy or download is incomplete; fetch it again")
        finally:
            tf.close()
            fh.close()
