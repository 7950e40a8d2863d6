"""Read a bundle back, with no engine: the input of `diagnose analyze` and `diagnose redact`.

A bundle may come from anywhere, so reading it is defensive and bounded (the bounds are
:mod:`diagnose.model.limits`).  Refused with a one-line message (exit 2): a missing, truncated,
corrupt or foreign archive; members that would escape the root (absolute paths, `..`, links,
devices); a member the manifest does not list, one listed but missing, one present twice, or
one whose size or sha256 is not the listed one; anything after the end of the archive (data
after the tar end-of-archive blocks, or after the gzip stream); a manifest whose fields have the
wrong type; and whatever exceeds a bound.

Every member lies in one top-level directory (`diagnose-web-<time>/manifest.json`...), which
is taken off their names; a bundle written before that (members at the root) is read too.
Members are read in one sequential pass and handed over in archive order.  Logs larger than
their analysed window are handed over as a stream of chunks (never whole), and the reports
(findings.json, summary.md, summary.html), which a replay regenerates, are only checked.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from diagnose.bundle.budget import DAMAGED, Budget, Groups
from diagnose.bundle.manifest_check import check_manifest
from diagnose.evidence import layout
from diagnose.evidence.records import CollectorRecord
from diagnose.model import limits as lim
from diagnose.model.errors import BundleError
from diagnose.model.jsonscan import TooDeep, measure
from diagnose.model.text import exact_bytes

HEAD_FILES = {layout.MANIFEST, layout.README, layout.FINDINGS, layout.SUMMARY_MD,
              layout.SUMMARY_HTML}
LOG_NAMES = (layout.LOG_STDOUT, layout.LOG_STDERR)
_CHUNK = 1 << 20


@dataclass
class BundleParts:
    """What a pass over a bundle knows before its members: the manifest."""

    manifest: dict[str, Any]
    file_list: list[dict[str, Any]] = field(default_factory=list)
    _by_owner: dict[str, list[dict[str, Any]]] | None = None

    def records(self, owner: str) -> dict[str, CollectorRecord]:
        """Collector records of one owner (container key, `engine` or `host`)."""
        if self._by_owner is None:
            self._by_owner = {}
            for item in self.manifest.get("collectors") or ():
                self._by_owner.setdefault(str(item.get("owner", "")), []).append(item)
        out = {}
        for item in self._by_owner.get(owner, ()):
            rec = CollectorRecord.from_dict(item)
            out[rec.name] = rec
        return out


@dataclass
class Member:
    """One member: its bytes, or (a log larger than its analysed window) a stream of chunks
    that must be consumed before the next member is asked for; its checksum is verified
    when the stream ends."""

    name: str
    size: int
    data: bytes = b""
    stream: Iterator[bytes] | None = None


def is_log(name: str) -> bool:
    """Is `name` the log of a container or service (logs/stdout.log, logs/stderr.log)?"""
    kind, _, tail = layout.split_engine(name)[1].partition("/")
    return kind in (layout.CONTAINERS_DIR, layout.SERVICES_DIR) and \
        tail.partition("/")[2] in LOG_NAMES


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


def top_of(first: str) -> str:
    """The top-level directory of a bundle whose first member is `first` (`NAME/manifest.json`),
    or '' for a bundle whose members lie at its root (written before the directory)."""
    top, _, rest = first.partition("/")
    return top if rest == layout.MANIFEST and top not in ("", ".", "..") else ""


def _describe(path: Path, exc: BaseException) -> BundleError:
    """The one-line error for what went wrong reading the archive."""
    text = str(exc).lower()
    if isinstance(exc, BundleError):
        return exc
    if isinstance(exc, _HeaderTooLarge):
        return BundleError(f"{path} holds {exc}, more than "
                           f"{exact_bytes(lim.MAX_TAR_HEADER_BYTES)}", DAMAGED)
    if isinstance(exc, EOFError) or "unexpected end" in text or "truncated" in text:
        return BundleError(f"{path} is truncated", "the copy or download is incomplete; fetch "
                           "it again")
    if isinstance(exc, zlib.error):
        what = "checksum error" if "check" in text else "its compressed data is damaged"
        return BundleError(f"{path} is corrupt ({what})", "fetch the bundle again")
    if isinstance(exc, RecursionError):
        return BundleError(f"{path} is not a readable bundle: tar headers nest too deep",
                           DAMAGED)
    return BundleError(f"{path} is not a readable bundle: {exc}", "fetch the bundle again")


class _Inflater:
    """The gzip layer, read by tarfile: exactly one gzip stream (its CRC-32 and length are
    checked at its end), nothing after it, and at most MAX_BUNDLE_BYTES once inflated."""

    def __init__(self, fh: IO[bytes], path: Path) -> None:
        self.fh = fh
        self.path = path
        self.z = zlib.decompressobj(31)
        self.total = 0
        if fh.read(2) != b"\x1f\x8b":
            raise BundleError(f"{path} is not a gzip file, so not a diagnose bundle",
                              "pass the .tar.gz that diagnose wrote")
        self.pending = b"\x1f\x8b"

    def read(self, size: int = _CHUNK) -> bytes:
        size = max(1, min(size, _CHUNK)) if size and size > 0 else _CHUNK
        while True:
            if self.z.eof:
                self._check_end()
                return b""
            raw = self.z.unconsumed_tail or self.pending or self.fh.read(64 * 1024)
            self.pending = b""
            if not raw:
                raise BundleError(f"{self.path} is truncated",
                                  "the copy or download is incomplete; fetch it again")
            try:
                data = self.z.decompress(raw, size)
            except zlib.error as exc:
                raise _describe(self.path, exc) from None
            if data:
                self.total += len(data)
                if self.total > lim.MAX_BUNDLE_BYTES:
                    raise BundleError(f"{self.path} is larger than "
                                      f"{exact_bytes(lim.MAX_BUNDLE_BYTES)} once uncompressed, "
                                      "the most diagnose reads", DAMAGED)
                return data

    def _check_end(self) -> None:
        if self.z.unused_data or self.fh.read(1):
            raise BundleError(f"{self.path} has data after the end of its gzip stream",
                              DAMAGED)


class _HeaderTooLarge(tarfile.HeaderError):
    pass


class _Header(tarfile.TarInfo):
    """Tar headers whose metadata blocks (pax, GNU long names), which tarfile reads whole,
    are refused above MAX_TAR_HEADER_BYTES."""

    _META = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE,
             tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)

    def _proc_member(self, tarfile: tarfile.TarFile) -> Any:
        if self.type in self._META and self.size > lim.MAX_TAR_HEADER_BYTES:
            raise _HeaderTooLarge(f"a tar metadata header of {self.size} bytes")
        return super()._proc_member(tarfile)  # type: ignore[misc]


def _kept() -> Budget:
    return Budget("the run (manifest, engine and host files, inspect.json)",
                  lim.MAX_KEPT_BYTES, lim.MAX_KEPT_ITEMS)


class BundleReader:
    """One sequential pass over a bundle."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not path.exists():
            raise BundleError(f"no such bundle: {path}", "check the path")
        if not path.is_file():
            raise BundleError(f"{path} is not a file", "pass the .tar.gz that diagnose wrote")
        self._kept = _kept()
        self._top = ""

    def members(self) -> tuple[BundleParts, Iterator[Member]]:
        """The manifest, and every member after it but the reports, in archive order."""
        self._kept = _kept()
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed by the generator
        except OSError as exc:
            raise BundleError(f"cannot open {self.path}: {exc.strerror}", "check the path") from exc
        try:
            gz = _Inflater(fh, self.path)
            try:
                tf = tarfile.open(fileobj=gz, mode="r|",  # type: ignore[call-overload]
                                  tarinfo=_Header)
            except (tarfile.TarError, OSError, EOFError, zlib.error, RecursionError) as exc:
                raise _describe(self.path, exc) from exc
            first = self._next(tf)
            self._top = top_of(first.name) if first is not None else ""
            if first is None or first.name != self._inside(layout.MANIFEST) \
                    or not first.isreg():
                raise BundleError(f"{self.path} is not a diagnose bundle (manifest.json is not "
                                  "its first member)", "pass a bundle written by diagnose")
            parts = BundleParts(self._manifest(tf, first))
        except BaseException:
            fh.close()
            raise
        parts.file_list = list(parts.manifest.get("files") or ())
        return parts, self._walk(fh, tf, parts)

    # -- members ------------------------------------------------------------------------------
    def _inside(self, name: str) -> str:
        return f"{self._top}/{name}" if self._top else name

    def _relative(self, name: str) -> str:
        """A member's path inside the bundle's top-level directory (refused outside it)."""
        if not self._top:
            return name
        if name == self._top:
            return "."
        if not name.startswith(self._top + "/"):
            raise BundleError(f"{self.path} holds {name}, outside its top-level directory "
                              f"{self._top}/", DAMAGED)
        return name[len(self._top) + 1:]

    def _next(self, tf: tarfile.TarFile) -> tarfile.TarInfo | None:
        try:
            member = tf.next()
        except (tarfile.TarError, OSError, EOFError, zlib.error, RecursionError) as exc:
            raise _describe(self.path, exc) from exc
        tf.members.clear()  # type: ignore[attr-defined]  # stream mode keeps every header
        return member

    def _manifest(self, tf: tarfile.TarFile, first: tarfile.TarInfo) -> dict[str, Any]:
        if first.size > lim.MAX_FILE_BYTES:
            raise BundleError(f"{self.path}: manifest.json is larger than "
                              f"{exact_bytes(lim.MAX_FILE_BYTES)}", DAMAGED)
        data = self._whole(tf, first)
        try:
            self._kept.add(self.path, len(data), measure(data, lim.MAX_JSON_DEPTH))
            manifest = json.loads(data)
        except TooDeep as exc:
            raise BundleError(f"{self.path}: manifest.json is {exc}", DAMAGED) from None
        except ValueError as exc:
            raise BundleError(f"{self.path} has an unreadable manifest.json",
                              "the bundle is damaged; fetch it again") from exc
        schema = manifest.get("schema", "") if isinstance(manifest, dict) else ""
        if not isinstance(schema, str) or not schema.startswith(
                layout.BUNDLE_SCHEMA.split("/")[0] + "/"):
            raise BundleError(f"{self.path} is not a diagnose bundle (schema {schema!r})",
                              "pass a bundle written by diagnose")
        problem = check_manifest(manifest)
        if problem:
            raise BundleError(f"{self.path} has a malformed manifest.json: {problem}", DAMAGED)
        return dict(manifest)

    def _whole(self, tf: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
        try:
            fobj = tf.extractfile(member)
            return fobj.read() if fobj is not None else b""
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise _describe(self.path, exc) from exc

    def _chunks(self, tf: tarfile.TarFile, member: tarfile.TarInfo, name: str,
                sha256: str) -> Iterator[bytes]:
        h = hashlib.sha256()
        try:
            fobj = tf.extractfile(member)
            while fobj is not None:
                chunk = fobj.read(_CHUNK)
                if not chunk:
                    break
                h.update(chunk)
                yield chunk
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise _describe(self.path, exc) from exc
        if h.hexdigest() != sha256:
            raise self._mismatch(name)

    def _mismatch(self, name: str) -> BundleError:
        return BundleError(f"{self.path} is corrupt: {name} does not match the checksum in its "
                           "manifest", "fetch the bundle again")

    def _walk(self, fh: Any, tf: tarfile.TarFile, parts: BundleParts) -> Iterator[Member]:
        expected = {f["path"]: f for f in parts.file_list}
        groups = Groups(self.path)
        seen: set[str] = set()
        count = 1
        try:
            while (member := self._next(tf)) is not None:
                count += 1
                if count > lim.MAX_MEMBERS:
                    raise BundleError(f"{self.path} has more than {lim.MAX_MEMBERS:,} members, "
                                      "the most diagnose reads", DAMAGED)
                name = self._relative(safe_member_name(member.name))
                if member.isdir():
                    continue
                entry = self._admit(name, member, expected, seen)
                item = self._member(tf, member, name, entry, groups)
                if item is not None:
                    yield item
                    if item.stream is not None:
                        for _ in item.stream:  # whatever the consumer left
                            pass
            self._drain(tf)
            missing = sorted(set(expected) - seen)
            if missing:
                raise BundleError(f"{self.path} is truncated: {len(missing)} file(s) listed in "
                                  f"its manifest are missing (first: {missing[0]})",
                                  "the copy or download is incomplete; fetch it again")
        finally:
            tf.close()
            fh.close()

    def _admit(self, name: str, member: tarfile.TarInfo, expected: dict[str, dict[str, Any]],
               seen: set[str]) -> dict[str, Any]:
        if not member.isreg() or member.sparse is not None:
            raise BundleError(f"refusing a non-regular member {name!r} "
                              f"(links and devices are never in a bundle)",
                              "the archive may be malicious; do not extract it")
        if name in seen or name == layout.MANIFEST:
            raise BundleError(f"{self.path} holds {name} twice", DAMAGED)
        seen.add(name)
        entry = expected.get(name)
        if entry is None:
            raise BundleError(f"{self.path} holds {name}, which its manifest does not list",
                              DAMAGED)
        if entry["size"] != member.size:
            raise BundleError(f"{self.path} is corrupt: {name} is {member.size} bytes, its "
                              f"manifest says {entry['size']}", "fetch the bundle again")
        return entry

    def _member(self, tf: tarfile.TarFile, member: tarfile.TarInfo, name: str,
                entry: dict[str, Any], groups: Groups) -> Member | None:
        size = member.size
        streamed = name in HEAD_FILES or is_log(name)
        limit = lim.MAX_LOG_BYTES if streamed else lim.MAX_FILE_BYTES
        if size > limit:
            raise BundleError(f"{self.path}: {name} is larger than {exact_bytes(limit)}, the most "
                              "diagnose reads", DAMAGED)
        if name in HEAD_FILES:  # regenerated by every replay: only checked
            for _ in self._chunks(tf, member, name, entry["sha256"]):
                pass
            return None
        if streamed and size > lim.LOG_WINDOW_BYTES:
            groups.add(name, lim.LOG_WINDOW_BYTES, 0, self._kept)
            return Member(name, size, stream=self._chunks(tf, member, name, entry["sha256"]))
        data = self._whole(tf, member)
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise self._mismatch(name)
        items = 0
        if name.endswith(".json"):
            try:
                items = measure(data, lim.MAX_JSON_DEPTH)
            except TooDeep as exc:
                raise BundleError(f"{self.path}: {name} is {exc}, deeper than diagnose reads",
                                  DAMAGED) from None
        groups.add(name, size, items, self._kept)
        return Member(name, size, data)

    def _drain(self, tf: tarfile.TarFile) -> None:
        """After the end-of-archive block: at most a tar record's padding of zeros, then the
        end of the gzip stream (its length and CRC-32, and that nothing follows it, are checked
        by _Inflater there)."""
        extra = 0
        stream: Any = tf.fileobj
        try:
            while chunk := stream.read(64 * 1024):
                extra += len(chunk)
                if extra > lim.MAX_TAR_PADDING or chunk.count(0) != len(chunk):
                    raise BundleError(f"{self.path} has data after the end of its tar archive",
                                      DAMAGED)
        except (OSError, EOFError, zlib.error) as exc:
            raise _describe(self.path, exc) from exc
