"""Which differences most likely explain a failure, and the order they are listed in.

Read like an on-call engineer: when a side failed, a difference its finding talks about comes
first.  "Talks about" is, most sure first: the finding names the difference's subject (the
variable DATABASE_URL, the mount /data, the port 8080) as a whole word, or quotes the very
field of inspect.json (NAMED); or the finding's kind of cause lives in the difference's
category (an OOM kill and a memory limit, an exec format error and the image: KIND).  Then
the other differences that decide behaviour in the fixed order of :class:`Category`, then
state, findings on one side only and log lines.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence

from diagnose.model.causes import Cause
from diagnose.model.diff import Category, Difference, Link
from diagnose.model.findings import Finding, Severity
from diagnose.model.report import TargetReport, is_cause

C = Category
#: The categories where each kind of cause usually lives (what to look at first).
CAUSE_CATEGORIES: dict[str, tuple[Category, ...]] = {
    Cause.OOM_KILLED: (C.LIMITS,),
    Cause.FORK_FAILED: (C.LIMITS,),
    Cause.TOO_MANY_OPEN_FILES: (C.LIMITS,),
    Cause.NO_SPACE_LEFT: (C.MOUNTS, C.LIMITS),
    Cause.EXEC_FORMAT_ERROR: (C.IMAGE, C.ENGINE),
    Cause.MISSING_DYNAMIC_LOADER: (C.IMAGE,),
    Cause.MISSING_SHARED_LIBRARY: (C.IMAGE, C.ENV),
    Cause.SEGFAULT: (C.IMAGE, C.LIMITS, C.SECURITY),
    Cause.ENTRYPOINT_NOT_FOUND: (C.COMMAND, C.IMAGE, C.WORKDIR, C.MOUNTS),
    Cause.ENTRYPOINT_NOT_EXECUTABLE: (C.COMMAND, C.IMAGE, C.MOUNTS),
    Cause.BAD_SHEBANG_CRLF: (C.IMAGE, C.COMMAND),
    Cause.SHEBANG_INTERPRETER_MISSING: (C.IMAGE, C.COMMAND),
    Cause.COMMAND_NOT_FOUND: (C.COMMAND, C.IMAGE, C.ENV),
    Cause.INVALID_USER: (C.USER, C.IMAGE),
    Cause.PERMISSION_DENIED: (C.USER, C.MOUNTS, C.CAPABILITIES, C.SECURITY, C.READ_ONLY),
    Cause.READ_ONLY_FILESYSTEM: (C.READ_ONLY, C.MOUNTS),
    Cause.MISSING_ENV_VAR: (C.ENV,),
    Cause.PORT_ALREADY_ALLOCATED: (C.PORTS,),
    Cause.ADDRESS_IN_USE: (C.PORTS, C.NETWORKS),
    Cause.BIND_TO_LOCALHOST: (C.PORTS, C.ENV, C.COMMAND),
    Cause.NETWORK_NOT_FOUND: (C.NETWORKS,),
    Cause.DNS_RESOLUTION_FAILURE: (C.NETWORKS, C.ENV),
    Cause.DEPENDENCY_UNREACHABLE: (C.NETWORKS, C.ENV),
    Cause.MOUNT_SOURCE_MISSING: (C.MOUNTS,),
    Cause.BIND_MOUNT_TYPE_MISMATCH: (C.MOUNTS,),
    Cause.LOGGING_DRIVER_FAILURE: (C.OTHER, C.ENGINE),
    Cause.KILLED_AFTER_STOP_TIMEOUT: (C.COMMAND,),
    "unhealthy": (C.HEALTHCHECK,),
    "restart-loop": (C.RESTART, C.IMAGE, C.COMMAND, C.ENV),
    Cause.APP_EXIT_ERROR: (C.IMAGE, C.COMMAND, C.ENV),
    Cause.EXITED_IMMEDIATELY: (C.COMMAND, C.IMAGE, C.ENV),
    # The rest of the failure taxonomy (issue 16).
    Cause.IMAGE_PLATFORM_MISMATCH: (C.IMAGE, C.ENGINE),
    Cause.GPU_RUNTIME_MISSING: (C.ENGINE, C.OTHER),
    Cause.VOLUME_SHADOWS_IMAGE_CONTENT: (C.MOUNTS, C.IMAGE),
    Cause.HEALTH_CHECK_TIMEOUT: (C.LIMITS, C.HEALTHCHECK),
    Cause.ABORTED: (C.LIMITS, C.ENV, C.IMAGE),
    Cause.BUS_ERROR_SHM_EXHAUSTED: (C.LIMITS, C.MOUNTS),
    Cause.HOST_OR_DAEMON_RESTART: (C.RESTART, C.ENGINE),
    Cause.PIDS_LIMIT_REACHED: (C.LIMITS,),
    Cause.STALE_DATA_VOLUME: (C.MOUNTS, C.IMAGE),
}


def failing(report: TargetReport) -> bool:
    """Did this side fail: is its root cause an error or worse?"""
    v = report.verdict
    return v is not None and v.severity is not None and v.severity >= Severity.ERROR


def causes(report: TargetReport) -> list[Finding]:
    """The findings of a failing side that can explain its failure (no hygiene advice)."""
    return [f for f in report.findings if is_cause(f) and f.stage != "hygiene"
            and f.severity is not None and f.severity >= Severity.WARNING]


def _text(f: Finding) -> str:
    """What a finding says: its title, facts and the log lines it quotes.  Excerpts of
    inspect.json are left out: they quote the configuration (missing-env-var lists every
    variable name there), which would name every difference."""
    parts = [f.title, *(f"{k} {v}" for k, v in f.facts),
             *(e.excerpt for e in f.evidence if e.lines is not None)]
    return "\n".join(parts)


def _names(subject: str, text: str) -> bool:
    if not subject or len(subject) < 2:
        return False
    return re.search(rf"(?<![\w.-]){re.escape(subject)}(?![\w-])", text) is not None


def _named_by(d: Difference, f: Finding) -> bool:
    text = _text(f)
    pointers = {e.pointer for e in f.evidence if e.pointer}
    return any(_names(s, text) for s in d.subjects) or bool(pointers & set(d.pointers))


def link(d: Difference, found: Sequence[Finding], naming: frozenset[str] = frozenset()
         ) -> tuple[Link, tuple[str, ...]]:
    """How sure it is that `d` explains any of `found`, and which of them.  A finding in
    `naming` names some other difference: it explains that one, not every difference of the
    same kind (`DATABASE_URL is not set` is not explained by LOG_LEVEL)."""
    if not d.category.decides:
        return Link.NONE, ()
    named, kind = [], []
    for f in found:
        if _named_by(d, f):
            named.append(f.id)
        elif d.category in CAUSE_CATEGORIES.get(f.id, ()) and f.id not in naming:
            kind.append(f.id)
    if named:
        return Link.NAMED, tuple(dict.fromkeys(named))
    if kind:
        return Link.KIND, tuple(dict.fromkeys(kind))
    return Link.NONE, ()


_LINK_ORDER = {Link.NAMED: 0, Link.KIND: 1, Link.NONE: 2}


def ranked(differences: Iterable[Difference], found: Sequence[Finding]) -> tuple[Difference, ...]:
    """The differences linked to `found` and in the order they are listed, numbered from 1."""
    differences = list(differences)
    naming = frozenset(f.id for f in found
                       if any(d.category.decides and _named_by(d, f) for d in differences))
    linked = []
    for i, d in enumerate(differences):
        how, ids = link(d, found, naming)
        kind_rank = min((CAUSE_CATEGORIES.get(f, ()).index(d.category)
                         for f in ids if d.category in CAUSE_CATEGORIES.get(f, ())), default=0)
        key = (_LINK_ORDER[how], kind_rank if how is Link.KIND else 0, d.category.order, i)
        linked.append((key, dataclasses.replace(d, link=how, explains=ids)))
    linked.sort(key=lambda kv: kv[0])
    return tuple(dataclasses.replace(d, rank=n) for n, (_, d) in enumerate(linked, 1))
