"""Compiled templates kept between runs, and only where nobody else can write them.

A jinja bytecode cache file is marshalled Python code that is run when it is loaded: whoever
can write one runs code as the next user of diagnose (as root under `sudo -E diagnose`, which
keeps the user's $XDG_CACHE_HOME).  Compiling the four report templates costs about 80 ms,
loading them from the cache about 2 ms (see the commit that added this module), so the cache
stays, under these rules:

- the directory ($XDG_CACHE_HOME/diagnose/jinja-<versions>) is opened without following a
  symlink and used only when it is a directory owned by the effective user with mode 0700;
  every later access goes through that open descriptor, so renaming or replacing the path
  afterwards changes nothing;
- a cache file is loaded only when it is a regular file owned by the effective user and
  writable by nobody else; files are written under a private temporary name and renamed;
- missing directories are created (0700) only inside a directory the effective user owns
  (root never creates a root-owned directory in a user's home);
- anything else, or DIAGNOSE_NO_CACHE=1: no cache, templates are compiled each run.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any

import jinja2

from diagnose import __version__

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def cache_directory() -> Path:
    """Where the cache is looked for: $XDG_CACHE_HOME (or ~/.cache)/diagnose/jinja-<versions>."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "diagnose" / f"jinja-{__version__}-{jinja2.__version__}"


def private_dir(st: os.stat_result) -> bool:
    """A directory of the effective user that nobody else can enter or write."""
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()
            and stat.S_IMODE(st.st_mode) == 0o700)


def private_file(st: os.stat_result) -> bool:
    """A regular file of the effective user that nobody else can write."""
    return (stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid()
            and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


class PrivateBytecodeCache(jinja2.BytecodeCache):
    """jinja's file cache, reading and writing only through a verified directory descriptor."""

    def __init__(self, dir_fd: int) -> None:
        self._fd = dir_fd

    @staticmethod
    def _name(bucket: Any) -> str:
        return f"__jinja2_{bucket.key}.cache"

    def load_bytecode(self, bucket: Any) -> None:
        try:
            fd = os.open(self._name(bucket), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
                         dir_fd=self._fd)
        except OSError:
            return
        with os.fdopen(fd, "rb") as fh:
            if private_file(os.fstat(fh.fileno())):
                bucket.load_bytecode(fh)

    def dump_bytecode(self, bucket: Any) -> None:
        name = self._name(bucket)
        tmp = f".{name}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                         0o600, dir_fd=self._fd)
        except OSError:
            return  # a read-only or full disk: compile again next time
        try:
            with os.fdopen(fd, "wb") as fh:
                bucket.write_bytecode(fh)
            os.replace(tmp, name, src_dir_fd=self._fd, dst_dir_fd=self._fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=self._fd)


def _create_missing(directory: Path) -> None:
    """mkdir -p with mode 0700, only below a directory the effective user owns."""
    missing = []
    existing = directory
    while not os.path.lexists(existing):
        missing.append(existing)
        if existing.parent == existing:
            return
        existing = existing.parent
    if not missing or os.stat(existing).st_uid != os.geteuid():
        return
    for path in reversed(missing):
        os.mkdir(path, 0o700)


def open_cache() -> PrivateBytecodeCache | None:
    """The bytecode cache, or None (compile every time) when the directory is not private,
    cannot be made, or DIAGNOSE_NO_CACHE=1."""
    if os.environ.get("DIAGNOSE_NO_CACHE", "") not in ("", "0"):
        return None
    directory = cache_directory()
    try:
        _create_missing(directory)
        fd = os.open(directory, _DIR_FLAGS)
    except OSError:
        return None
    if not private_dir(os.fstat(fd)):
        os.close(fd)
        return None
    return PrivateBytecodeCache(fd)
