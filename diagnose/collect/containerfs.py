"""Read-only access to a container's filesystem through the engine's archive endpoint.

What `docker cp` uses: it works on created, exited and running containers alike, and runs
nothing in them.  The engine mounts the rootfs and every mount to serve it.

Many containers of one image (a fleet) would ask the same questions about the same files, and
each archive read costs the engine a mount and a re-exec.  A :class:`SharedImage` lets the
containers of one image share the answers about paths that are the image's own: not changed
in that container (`docker diff`), not under one of its mounts, and not one of the files the
engine writes per container (/etc/hosts...).  Everything else is asked per container.
"""

from __future__ import annotations

import concurrent.futures as cf
import io
import tarfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from docker.errors import NotFound
from docker.utils import decode_json_header

if TYPE_CHECKING:
    from diagnose.collect.memo import Memo

T = TypeVar("T")

#: Files the engine bind-mounts into every container (not listed among its Mounts).
_PER_CONTAINER = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf")
_ADDED, _DELETED = 1, 2  # `docker diff` kinds (0 is modified)


class SharedImage:
    """The image-owned part of one container's filesystem, answered once per image and run."""

    def __init__(self, memo: Memo, image_id: str, changes: Sequence[Mapping[str, Any]],
                 mounts: Sequence[str]) -> None:
        self.memo = memo
        self.image_id = image_id
        self._changed = {str(c.get("Path", "")): int(c.get("Kind", 0)) for c in changes}
        self._replaced = [p for p, kind in self._changed.items() if kind in (_ADDED, _DELETED)]
        self._mounts = [m.rstrip("/") or "/" for m in mounts]

    def owns(self, path: str) -> bool:
        """Whether `path` reads the same in every container of the image."""
        if not path.startswith("/") or path in _PER_CONTAINER or path in self._changed:
            return False
        if any(m == "/" or path == m or path.startswith(m + "/") for m in self._mounts):
            return False
        return not any(path.startswith(p + "/") for p in self._replaced)

    def _memo_key(self, kind: str, key: str) -> tuple[str, str]:
        return f"fs-{kind}", f"{self.image_id}\0{key}"

    def answered(self, kind: str, key: str) -> bool:
        """Whether the shared answer for one question is in already (no engine call)."""
        return self.memo.answered(*self._memo_key(kind, key))

    def answer(self, kind: str, key: str, fetch: Callable[[], T]) -> T:
        """The shared answer for one question, asked at most once per image (a question that
        failed is asked again by each container: one container's trouble is not shared)."""
        try:
            result: T = self.memo.get(*self._memo_key(kind, key), fetch)
        except Exception:
            return fetch()
        return result

HEAD_BYTES = 64 * 1024
MAX_LINKS = 16

_GO_MODE_DIR = 1 << 31
_GO_MODE_SYMLINK = 1 << 27


class _GenReader(io.RawIOBase):
    """A file object over a chunk generator, so tarfile reads only what it needs."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._buf:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


class ContainerFS:
    """Read-only access to one container's filesystem view (rootfs plus its mounts)."""

    def __init__(self, api: Any, container_id: str, shared: SharedImage | None = None) -> None:
        self.api = api
        self.cid = container_id
        #: Set by the probe once the container's root is known to be readable (answers read
        #: through an unreadable root say "missing" for everything and must not be shared).
        self.shared = shared
        self.calls = 0
        self._lock = threading.Lock()  # the probe asks from several threads
        # One probe asks about the same paths more than once (the entrypoint, then the
        # shell it turns out to be); the filesystem is read once per path.
        self._stats: dict[str, dict[str, Any] | None] = {}
        self._heads: dict[tuple[str, int], tuple[dict[str, Any], bytes] | None] = {}

    def _head(self, path: str) -> Any:
        # HEAD /containers/{id}/archive is the Engine API's stat (what `docker cp` asks
        # first); docker-py has no method for it, only get_archive's GET, which makes the
        # engine build a tar (dockerd re-executes itself for that on each call).  So the
        # request goes through the SDK's own session and URL builder.
        self._count()
        url = self.api._url("/containers/{0}/archive", self.cid)
        return self.api.head(url, params={"path": path}, timeout=self.api.timeout)

    def root_readable(self) -> tuple[bool, str]:
        """Whether the engine can open this container's filesystem at all (HEAD of `/`).

        Docker mounts the rootfs *and* every mount to serve the archive endpoint; when a bind
        source has vanished it answers 404 for every path, `/` included.  Without this check
        such a container would look as if none of its files existed.
        """
        resp = self._head("/")
        try:
            if resp.status_code == 200:
                return True, ""
            return False, f"the engine answered {resp.status_code} for / (archive endpoint)"
        finally:
            resp.close()

    def stat(self, path: str) -> dict[str, Any] | None:
        """The engine's stat of `path` (symlinks not followed), or None when it is missing."""
        if path not in self._stats:
            shared = self.shared
            if shared is not None and shared.owns(path):
                self._stats[path] = shared.answer("stat", path, lambda: self._stat(path))
            else:
                self._stats[path] = self._stat(path)
        got = self._stats[path]
        return None if got is None else dict(got)  # cached answers stay as the engine gave them

    def _stat(self, path: str) -> dict[str, Any] | None:
        resp = self._head(path)
        try:
            if resp.status_code == 404:
                return None
            self.api._raise_for_status(resp)
            header = resp.headers.get("X-Docker-Container-Path-Stat")
            return dict(decode_json_header(header)) if header else {}
        finally:
            resp.close()

    def map(self, func: Callable[[str], T], paths: Sequence[str]) -> list[T]:
        """`func` over `paths` concurrently (each is a few HEAD requests), results in order;
        in order on this thread when the engine need not be asked about any of them (another
        container of the image asked already: threads would only wait for each other)."""
        if len(paths) < 2 or all(self.stat_known(p) for p in paths):
            return [func(p) for p in paths]
        with cf.ThreadPoolExecutor(min(8, len(paths)), thread_name_prefix="stat") as pool:
            return list(pool.map(func, paths))

    def stat_known(self, path: str) -> bool:
        """Whether the stat of `path` is answered without asking the engine."""
        if path in self._stats:
            return True
        shared = self.shared
        return shared is not None and shared.owns(path) and shared.answered("stat", path)

    def _count(self) -> None:
        with self._lock:
            self.calls += 1

    def _open(self, path: str) -> tuple[Any, dict[str, Any] | None]:
        self._count()
        try:
            gen, stat = self.api.get_archive(self.cid, path, chunk_size=HEAD_BYTES)
        except NotFound:
            return None, None
        return gen, stat

    def read_head(self, path: str, size: int = HEAD_BYTES) -> tuple[dict[str, Any], bytes] | None:
        """Tar header facts and the first `size` bytes of a regular file (None if missing)."""
        if (path, size) not in self._heads:
            shared = self.shared
            if shared is not None and shared.owns(path):
                self._heads[(path, size)] = shared.answer(
                    "head", f"{size}\0{path}", lambda: self._read_head(path, size))
            else:
                self._heads[(path, size)] = self._read_head(path, size)
        got = self._heads[(path, size)]
        # A copy of the facts: the answer may be cached for other containers (and questions).
        return None if got is None else (dict(got[0]), got[1])

    def _read_head(self, path: str, size: int) -> tuple[dict[str, Any], bytes] | None:
        gen, stat = self._open(path)
        if gen is None:
            return None
        try:
            with tarfile.open(fileobj=io.BufferedReader(_GenReader(gen)), mode="r|") as tf:
                member = tf.next()
                if member is None:
                    return {"stat": stat}, b""
                facts = {
                    "stat": stat,
                    "uid": member.uid,
                    "gid": member.gid,
                    "owner": member.uname or str(member.uid),
                    "group": member.gname or str(member.gid),
                    "tar_mode": member.mode,
                    "size": member.size,
                }
                data = b""
                if member.isreg():
                    fh = tf.extractfile(member)
                    data = fh.read(size) if fh is not None else b""
                return facts, data
        finally:
            gen.close()

    def resolve(self, path: str) -> tuple[str | None, list[str], dict[str, Any] | None]:
        """Follow symlinks (the engine resolves each hop inside the container root).

        Returns (final path or None when dangling, the chain of links, final stat).
        """
        chain: list[str] = []
        current = path
        for _ in range(MAX_LINKS):
            stat = self.stat(current)
            if stat is None:
                return None, chain, None
            target = stat.get("linkTarget") or ""
            if not (stat.get("mode", 0) & _GO_MODE_SYMLINK) or not target:
                return current, chain, stat
            chain.append(f"{current} -> {target}")
            current = target
        return None, chain, None


def is_dir(stat: Mapping[str, Any]) -> bool:
    """Whether an archive stat (Go FileMode bits) is a directory."""
    return bool(stat.get("mode", 0) & _GO_MODE_DIR)


def perm(stat: Mapping[str, Any]) -> int:
    """The permission bits of an archive stat."""
    return int(stat.get("mode", 0)) & 0o777
