"""Patterns and second looks that several log signatures share: a shared memory segment that
did not fit in /dev/shm, fork failures (the pids limit or another limit), and databases that
refuse a data directory of another major version.

Strings come from ../shared/reference/failure-taxonomy.md and from the real programs on the
test engine (docs/taxonomy-notes.md: PostgreSQL 15's own messages, busybox, glibc).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.logs import LogLine
from diagnose.evidence.readings.common import compile_any, ulimit
from diagnose.evidence.readings.crash import shm_facts
from diagnose.model.lazyre import lazy_compile

_I = re.IGNORECASE

#: A shared memory segment that did not fit: under /dev/shm, or a POSIX shm name (PostgreSQL's
#: dynamic shared memory `/PostgreSQL.N`, PyTorch's `/torch_...`), which live in /dev/shm.
SHM_FULL = (
    r"could not resize shared memory segment",
    r"/dev/shm\S*[^\n]*?(?:No space left on device|ENOSPC)",
    r"(?:No space left on device|ENOSPC)[^\n]*/dev/shm",
    r"['\"]/(?:PostgreSQL\.\d+|torch_[\w-]+)['\"][^\n]*No space left on device",
    r"insufficient shared memory",
)
_BUS_ERROR = lazy_compile(r"\bbus error\b", _I)
_SHM_NAMED = compile_any(SHM_FULL)


def names_shm(text: str) -> bool:
    """The line itself says a shared memory segment did not fit (not a bare `Bus error`)."""
    return bool(_SHM_NAMED.search(text))


def shm_is_the_cause(c: ContainerEvidence, line: LogLine) -> bool:
    """A bare `Bus error` (a shell or a DataLoader reporting a child's SIGBUS) is /dev/shm's
    doing only where that is the container's own small one; a line naming /dev/shm or a
    shared memory segment says so itself."""
    if _SHM_NAMED.search(line.text) or not _BUS_ERROR.search(line.text):
        return True
    return shm_facts(c).small


#: fork(2), clone(2) and pthread_create failing with EAGAIN, in every runtime's words.
FORK_EAGAIN = (
    r"can't fork", r"fork: retry", r"\bfork: Resource temporarily unavailable",
    r"fork\(\) failed", r"\bvfork\b.*Resource temporarily unavailable",
    r"(?:pthread_create|clone3?|posix_spawn|thread)\S*[^\n]{0,40}"
    r"(?:Resource temporarily unavailable|EAGAIN)",
    r"unable to create (?:new )?native thread", r"failed to create new OS thread",
)
FORK_KEYWORDS = ("fork", "resource temporarily unavailable", "eagain", "native thread",
                 "os thread")


def pids_limited(c: ContainerEvidence) -> bool:
    """The container's pids limit (`--pids-limit`) is the process limit it reaches first: set,
    and not above an `nproc` ulimit (which counts the user's processes)."""
    limit = c.host_config.get("PidsLimit")
    if not isinstance(limit, int) or limit <= 0:
        return False
    nproc = ulimit(c, "nproc")
    soft = nproc.get("Soft") if nproc else None
    return not isinstance(soft, int) or soft < 0 or limit <= soft


def pids_limited_line(c: ContainerEvidence, line: LogLine) -> bool:
    """A fork failure of a container whose pids limit is what it reached."""
    return pids_limited(c)


def not_pids_limited(c: ContainerEvidence, line: LogLine) -> bool:
    """A fork failure of a container without a (binding) pids limit."""
    return not pids_limited(c)


#: A database refusing a data directory written by another major version.
STALE_DATA = (
    r"database files are incompatible with server",                       # PostgreSQL
    r"The data directory was initialized by PostgreSQL version \S+, which is not compatible",
    r"Cannot boot server version \d+ on data directory built by version \d+",   # MySQL 8
    r"UPGRADE PROBLEM: Found an invalid featureCompatibilityVersion document",  # MongoDB
    r"\"msg\":\"Wrong mongod version\"",
    r"cannot upgrade a node from version \[[^\]]+\] directly to version",     # Elasticsearch
    r"was created with version \[[^\]]+\] but the minimum compatible version is",
)

#: The data directory's version and the server's, where the message gives them.
_VERSIONS = (
    lazy_compile(r"initialized by PostgreSQL version (?P<data>\S+), which is not compatible with "
                 r"this version (?P<server>\S+)"),
    lazy_compile(r"Cannot boot server version (?P<server>\d+) on data directory built by version "
                 r"(?P<data>\d+)"),
    lazy_compile(r"cannot upgrade a node from version \[(?P<data>[^\]]+)\] directly to version "
                 r"\[(?P<server>[^\]]+)\]"),
    lazy_compile(r"was created with version \[(?P<data>[^\]]+)\] but the minimum compatible "
                 r"version is \[(?P<server>[^\]]+)\]"),
)


def stale_versions(texts: Iterable[str]) -> tuple[str, str] | None:
    """(the data directory's version, the server's) from a database's refusal, if it says."""
    for text in texts:
        for rx in _VERSIONS:
            m = rx.search(text)
            if m:
                return m.group("data"), m.group("server").rstrip(".")
    return None


#: Where the official images keep their data (the variable that moves it, the default path).
DATA_DIRS = (("PGDATA", "/var/lib/postgresql/data"), ("", "/var/lib/mysql"),
             ("", "/data/db"), ("", "/usr/share/elasticsearch/data"))


def data_dir(c: ContainerEvidence) -> str | None:
    """The database's data directory that a mount holds, if one does."""
    mounts = [str(m.get("Destination") or "") for m in c.inspect.get("Mounts") or ()]
    for var, default in DATA_DIRS:
        path = str(c.env.get(var) or default) if var else default
        if any(path == d or path.startswith(d.rstrip("/") + "/") for d in mounts if d):
            return path
    return None
