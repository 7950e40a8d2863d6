"""The static entrypoint probe: read the container's filesystem, run nothing.

Through the engine's archive endpoint (what `docker cp` uses) it resolves argv[0] the way
runc does (Entrypoint + Cmd, PATH lookup with the container's PATH), and records whether the
file exists, its mode and owner, its first bytes, the shebang line (CR kept) and whether that
interpreter exists, or for ELF files the class, machine and PT_INTERP loader and whether the
loader exists.  It works on created, exited and running containers alike.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Iterator, Mapping
from typing import Any

from docker.errors import NotFound

from diagnose.collect.fileinfo import describe, mode_string, runs_natively

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
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


def _is_dir(stat: Mapping[str, Any]) -> bool:
    return bool(stat.get("mode", 0) & _GO_MODE_DIR)


def _perm(stat: Mapping[str, Any]) -> int:
    return int(stat.get("mode", 0)) & 0o777


def path_env(inspect: Mapping[str, Any], image: Mapping[str, Any]) -> tuple[str, str]:
    """The PATH runc will search, and where it came from."""
    for source, env in (
        ("container", (inspect.get("Config") or {}).get("Env") or ()),
        ("image", (image.get("Config") or {}).get("Env") or ()),
    ):
        for item in env:
            if str(item).startswith("PATH="):
                return str(item)[5:], source
    return DEFAULT_PATH, "default"


def lookup(fs: ContainerFS, name: str, path: str, workdir: str) -> tuple[str | None, list[dict]]:
    """Resolve a command name like Go's exec.LookPath inside the container."""
    candidates: list[dict[str, Any]] = []
    if "/" in name:
        full = name
        if not name.startswith("/"):
            full = posixpath.normpath(posixpath.join(workdir or "/", name))
        candidates.append(_candidate(fs, full))
        found = candidates[0]
        return (full if found["exists"] else None), candidates
    for directory in path.split(":"):
        directory = directory or "."
        if not directory.startswith("/"):
            directory = posixpath.join(workdir or "/", directory)
        cand = _candidate(fs, posixpath.join(directory, name))
        candidates.append(cand)
        if cand["exists"] and cand.get("executable") and not cand.get("is_dir"):
            return cand["path"], candidates
    return None, candidates


def _candidate(fs: ContainerFS, full: str) -> dict[str, Any]:
    final, chain, stat = fs.resolve(full)
    cand: dict[str, Any] = {"path": full, "exists": stat is not None}
    if chain:
        cand["links"] = chain
        cand["real_path"] = final
    if stat is not None:
        cand["mode_octal"] = mode_string(_perm(stat))
        cand["executable"] = bool(_perm(stat) & 0o111)
        cand["is_dir"] = _is_dir(stat)
        cand["size"] = stat.get("size")
    return cand


def probe_entrypoint(
    api: Any, inspect: Mapping[str, Any], image: Mapping[str, Any], engine_arch: str
) -> dict[str, Any]:
    """Run the static probe; the result is stored as entrypoint.json."""
    fs = ContainerFS(api, str(inspect.get("Id")))
    config = inspect.get("Config") or {}
    argv = [str(x) for x in list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])]
    workdir = str(config.get("WorkingDir") or "/")
    path, path_source = path_env(inspect, image)
    out: dict[str, Any] = {
        "argv": argv,
        "workdir": workdir,
        "path_env": path,
        "path_source": path_source,
        "engine_arch": engine_arch,
    }
    if argv:
        name = argv[0]
        out["argv0"] = name
        resolved, candidates = lookup(fs, name, path, workdir)
        out["candidates"] = candidates
        existing = next((c for c in candidates if c["exists"] and not c.get("is_dir")), None)
        out["exists"] = existing is not None
        out["resolved"] = resolved or (existing["path"] if existing else None)
        out["executable"] = bool(existing and existing.get("executable"))
        out["is_dir"] = any(c.get("is_dir") for c in candidates if c["path"] == out["resolved"])
        if existing is not None:
            out["file"] = _file_facts(fs, existing.get("real_path") or existing["path"], path,
                                      workdir, engine_arch)
    out["user"] = _user_facts(fs, str(config.get("User") or ""))
    out["healthcheck"] = _health_program(fs, config, path, workdir)
    out["archive_calls"] = fs.calls
    return out


def _file_facts(fs: ContainerFS, real: str, path: str, workdir: str, arch: str) -> dict[str, Any]:
    got = fs.read_head(real)
    if got is None:
        return {"path": real, "error": "vanished while reading"}
    facts, head = got
    stat = facts.pop("stat") or {}
    info: dict[str, Any] = {"path": real, **facts}
    info["mode_octal"] = mode_string(_perm(stat) if stat else facts.get("tar_mode", 0))
    info["executable"] = bool((_perm(stat) if stat else facts.get("tar_mode", 0)) & 0o111)
    info.pop("tar_mode", None)
    info.update(describe(head))
    if info["kind"] == "script":
        interp = info.get("interpreter_path", "")
        # The kernel looks the interpreter up verbatim, CR and all.
        info["interpreter_exists"] = bool(interp) and fs.resolve(interp)[2] is not None
        if info.get("shebang_crlf"):
            clean = info.get("interpreter_clean", "")
            info["interpreter_clean_exists"] = bool(clean) and fs.resolve(clean)[2] is not None
        prog = info.get("env_program")
        if prog and info["interpreter_exists"]:
            found, _ = lookup(fs, prog.rstrip("\r"), path, workdir)
            info["env_program_resolved"] = found
    elif info["kind"] == "elf":
        loader = info.get("interpreter")
        if loader:
            info["interpreter_exists"] = fs.resolve(loader)[2] is not None
        info["runs_natively"] = runs_natively(info.get("machine", ""), arch)
    return info


def _user_facts(fs: ContainerFS, user: str) -> dict[str, Any]:
    out: dict[str, Any] = {"user": user}
    name = user.split(":", 1)[0]
    if not name or name.isdigit():
        out["numeric"] = True
        return out
    got = fs.read_head("/etc/passwd", 512 * 1024)
    if got is None:
        out["passwd_exists"] = False
        out["found"] = False
        return out
    _, data = got
    names = {ln.split(":", 1)[0] for ln in data.decode("utf-8", "replace").splitlines() if ln}
    out["passwd_exists"] = True
    out["found"] = name in names
    return out


def _health_program(fs: ContainerFS, config: Mapping[str, Any], path: str, workdir: str) -> Any:
    test = list((config.get("Healthcheck") or {}).get("Test") or [])
    if not test or test[0] == "NONE":
        return None
    if test[0] == "CMD" and len(test) > 1:
        prog, form = str(test[1]), "CMD"
    elif test[0] == "CMD-SHELL" and len(test) > 1:
        words = str(test[1]).split()
        prog, form = (words[0] if words else ""), "CMD-SHELL"
    else:
        return None
    if not prog:
        return None
    found, _ = lookup(fs, prog, path, workdir)
    return {"form": form, "program": prog, "found": found}
