"""Crashes a process reports itself: `abort()` (glibc heap checks, assertions, uncaught C++
exceptions, V8's heap limit) and bus errors on a full `/dev/shm`.

Two quirks of containers decide how these read (measured on the real engine, docs/taxonomy-
notes.md).  A program that calls `abort()` as PID 1 of the container does not die of SIGABRT:
the kernel ignores a default-action signal sent to a PID namespace's init from inside, so
glibc's `abort()` falls through to its last resort and faults: the container exits 139
(SIGSEGV), not 134, with the abort message as its last words.  Under `--init`, or a shell that
stays, the same program exits 134.  And `/dev/shm` is a 64 MiB tmpfs unless `--shm-size` says
otherwise: a program that maps more of it than that dies of SIGBUS (135) when it touches the
pages that do not fit, or gets ENOSPC when it reserves them first (`posix_fallocate`, as
PostgreSQL does for its dynamic shared memory segments, `/PostgreSQL.N`).
Pure functions of one container's evidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.logs import LogLine, last_with_text
from diagnose.evidence.readings.common import argv
from diagnose.evidence.readings.lifecycle import latest_run_lines
from diagnose.model.lazyre import lazy_compile

#: The default size of a container's /dev/shm (`--shm-size` unset).
DEFAULT_SHM = 64 * 1024 * 1024

#: How far from the end of a run an abort message may be (a native stack trace follows V8's).
ABORT_WINDOW = 40

#: kind -> the last words of a process that aborts, as glibc, libstdc++, assert and V8 print.
ABORT_MESSAGES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, lazy_compile(rx)) for kind, rx in (
        ("V8 heap limit (JavaScript heap out of memory)",
         r"FATAL ERROR: .*(?:JavaScript heap out of memory|Reached heap limit)"),
        ("glibc detected heap corruption",
         r"^(?:\*\*\* Error in `[^`]*': )?(?:(?:free|malloc|realloc|calloc|munmap_chunk|"
         r"malloc_consolidate|_int_malloc|_int_free|tcache_thread_shutdown)\(\): \S.*|"
         r"double free or corruption\b.*|corrupted (?:size vs\. prev_size|double-linked list)"
         r".*)"),
        ("failed assertion", r"\bAssertion [`'‘].*[`'’] failed\.?\s*$"),
        ("uncaught C++ exception",
         r"^terminate called (?:after throwing an instance of '[^']+'|without an active "
         r"exception|recursively)"),
        ("buffer overflow detected by the C library",
         r"\*\*\* (?:stack smashing|buffer overflow) detected \*\*\*"),
        # Py_FatalError() aborts; faulthandler prints the same prefix for a fault it catches
        # (`Fatal Python error: Segmentation fault`), which is no abort.
        ("fatal Python error", r"^Fatal Python error: (?!Segmentation fault|Bus error|"
                               r"Floating point exception|Illegal instruction)"),
    )
)

_HEAP_FLAG = lazy_compile(r"--max[-_]old[-_]space[-_]size[= ](\d+)")


@dataclass(frozen=True)
class AbortReport:
    """What an aborting process printed: the kind of failure, the decisive line and the lines
    that belong with it (`what():` after `terminate called`, V8's GC summary)."""

    kind: str
    line: LogLine
    lines: tuple[LogLine, ...]

    @property
    def v8_heap(self) -> bool:
        """Node.js stopped at its own V8 heap limit (not the kernel's memory limit)."""
        return self.kind.startswith("V8")


def abort_report(c: ContainerEvidence) -> AbortReport | None:
    """The abort message among the last lines of the latest run, if the process printed one
    (worked out once per container)."""
    return c.derived("abort_report", _abort_report)


def _abort_report(c: ContainerEvidence) -> AbortReport | None:
    lines = last_with_text(latest_run_lines(c), ABORT_WINDOW)
    for i in range(len(lines) - 1, -1, -1):
        text = lines[i].text.strip()
        for kind, rx in ABORT_MESSAGES:
            if rx.search(text):
                return AbortReport(kind, lines[i], tuple(_with_context(lines, i)))
    return None


def _with_context(lines: Sequence[LogLine], i: int) -> list[LogLine]:
    line = lines[i]
    if line.text.lstrip().startswith("terminate called"):
        # libstdc++ prints the exception's what() on the next line of the same stream.
        after = [ln for ln in lines[i + 1:i + 3] if ln.stream == line.stream]
        return [line, *after[:1]]
    return [line]


def heap_limit_mib(c: ContainerEvidence) -> int | None:
    """Node's V8 heap limit (`--max-old-space-size`, in MiB) from the command or NODE_OPTIONS."""
    text = " ".join(argv(c)) + " " + str(c.env.get("NODE_OPTIONS") or "")
    m = _HEAP_FLAG.search(text)
    return int(m.group(1)) if m else None


def aborted_as_pid1(c: ContainerEvidence) -> bool:
    """Exit 139 that is really an `abort()` of PID 1 (see the module docs): no `--init`, and
    the program's own abort message at the end of the run."""
    return (c.exit_code == 139 and not c.host_config.get("Init")
            and abort_report(c) is not None)


@dataclass(frozen=True)
class ShmFacts:
    """The container's /dev/shm as inspect describes it."""

    size: int | None
    ipc_mode: str

    @property
    def own(self) -> bool:
        """The container has a /dev/shm of its own (not the host's, not another container's)."""
        return self.ipc_mode in ("", "private", "shareable")

    @property
    def small(self) -> bool:
        """Its own /dev/shm at or below the 64 MiB default."""
        return self.own and (self.size or DEFAULT_SHM) <= DEFAULT_SHM

    def describe(self) -> str:
        """`64 MiB (the default: --shm-size not set)`, `host's /dev/shm (--ipc host)`..."""
        if self.ipc_mode == "host":
            return "the host's /dev/shm (--ipc host)"
        if self.ipc_mode.startswith("container:"):
            return f"shared with {self.ipc_mode[len('container:'):]} (--ipc {self.ipc_mode})"
        if self.ipc_mode == "none":
            return "none (--ipc none)"
        size = self.size or DEFAULT_SHM
        mib = f"{size / 1024 / 1024:g} MiB" if size >= 1024 * 1024 else f"{size // 1024} KiB"
        return mib + (" (the default: --shm-size not set)" if size == DEFAULT_SHM else "")


def shm_facts(c: ContainerEvidence) -> ShmFacts:
    """ShmSize and IpcMode of the container."""
    size = c.host_config.get("ShmSize")
    return ShmFacts(size if isinstance(size, int) and size > 0 else None,
                    str(c.host_config.get("IpcMode") or ""))
