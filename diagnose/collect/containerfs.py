"""Read-only access to a container's filesystem through the engine's archive endpoint.

What `docker cp` uses: it works on created, exited and running containers alike, and runs
nothing in them.  The engine mounts the rootfs and every mount to serve it.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator, Mapping
from typing import Any

from docker.errors import NotFound

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

    def __init__(self, api: Any, container_id: str) -> None:
        self.api = api
        self.cid = container_id
        self.calls = 0

    def root_readable(self) -> tuple[bool, str]:
        """Whether the engine can open this container's filesystem at all (HEAD of `/`).

        Docker mounts the rootfs *and* every mount to serve the archive endpoint; when a bind
        source has vanished it answers 404 for every path, `/` included.  Without this check
        such a container would look as if none of its files existed.
        """
        self.calls += 1
        url = self.api._url("/containers/{0}/archive", self.cid)
        resp = self.api.head(url, params={"path": "/"}, timeout=self.api.timeout)
        try:
            if resp.status_code == 200:
                return True, ""
            return False, f"the engine answered {resp.status_code} for / (archive endpoint)"
        finally:
            resp.close()

    def stat(self, path: str) -> dict[str, Any] | None:
        """The engine's stat of `path` (symlinks not followed), or None when it is missing."""
        gen, stat = self._open(path)
        if gen is None:
            return None
        gen.close()
        return stat

    def _open(self, path: str) -> tuple[Any, dict[str, Any] | None]:
        self.calls += 1
        try:
            gen, stat = self.api.get_archive(self.cid, path, chunk_size=HEAD_BYTES)
        except NotFound:
            return None, None
        return gen, stat

    def read_head(self, path: str, size: int = HEAD_BYTES) -> tuple[dict[str, Any], bytes] | None:
        """Tar header facts and the first `size` bytes of a regular file (None if missing)."""
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
