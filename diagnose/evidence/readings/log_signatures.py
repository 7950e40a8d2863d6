"""Log signatures: what the application's own output says went wrong, read once for every check.

The D4xx checks ("what do its logs say") are pure greps over the collected log lines, but a good
grep is harder than it looks: an application that logs the word "permission" in a passing
sentence must not be reported, runc's own `exec /x: permission denied` belongs to the
entrypoint checks, and a restart loop prints the same error once per run.  This module holds,
per slug, the patterns that claim a line and the look-alike lines that must not be claimed;
:func:`scan_log` groups repeats (by message, ignoring timestamps and pids) and counts the runs they
appear in; :func:`exit_cause` names the signature that explains a non-zero exit so that the
generic `app-exit-error` stays silent (through
:func:`diagnose.evidence.readings.exit.explained_exit`).

Strings come from ../shared/reference/failure-taxonomy.md (sections 2, 3.3, 4.7) and from the
real tools on the test engine (busybox, runc 1.1).  Matching is case-insensitive: applications
and language runtimes capitalise errno texts differently (`Read-only file system`,
`read-only file system`, `EROFS: read-only file system`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.logs import LogLine, shape
from diagnose.evidence.readings.common import compile_any, event_time, signal_of_exit
from diagnose.evidence.readings.lifecycle import latest_run_lines
from diagnose.evidence.readings.log_patterns import (
    FORK_EAGAIN,
    FORK_KEYWORDS,
    SHM_FULL,
    STALE_DATA,
    not_pids_limited,
    pids_limited_line,
    shm_is_the_cause,
)
from diagnose.model.causes import Cause
from diagnose.model.lazyre import lazy_compile

_I = re.IGNORECASE

#: runc's own exec failure (entrypoint checks own it) in every version's wording.
RUNC_EXEC = lazy_compile(r"^(?:exec /\S*|standard_init_linux\.go:\d+: exec user process caused"
                         r"|exec user process caused)", _I)

#: The engine's port-publishing errors (port-already-allocated lives in State.Error); a container
#: that runs the docker CLI may print them, but they are never the app's own bind failing.
ENGINE_PORT = lazy_compile(r"userland proxy|programming external connectivity|"
                           r"port is already allocated|failed to bind host port|"
                           r"Ports are not available", _I)

#: Name lookups; connection checks must not claim them (`lookup db on 127.0.0.11:53: dial udp
#: 127.0.0.11:53: i/o timeout` is DNS, not a dependency).
DNS_LOOKUP = lazy_compile(r"\blookup [\w.-]+(?: on \S+)?:|:53: |getaddrinfo", _I)


@dataclass(frozen=True)
class Signature:
    """The lines one check claims: any of `include`, and none of `exclude`."""

    slug: Cause
    #: Lower-case fragments one of which every claimed line contains: a cheap first look
    #: (substring search, far faster than a case-insensitive alternation), so the full patterns
    #: run on a few lines instead of every line of a large log.
    keywords: tuple[str, ...]
    include: re.Pattern[str]
    exclude: re.Pattern[str] | None = None
    #: Whether a match at the end of a failed run explains the exit (root cause).
    explains_exit: bool = True
    #: A second look at the line in its context, for patterns that need one.
    confirm: Callable[[ContainerEvidence, LogLine], bool] | None = None

    @cached_property
    def keyword_shapes(self) -> tuple[str, ...]:
        """The keywords with every digit read as 0 (see ContainerEvidence.log_shapes_lower)."""
        return tuple(shape(k) for k in self.keywords)

    def matches(self, text: str) -> bool:
        """True when the patterns alone claim the text."""
        low = text.lower()
        for k in self.keywords:
            if k in low:
                break
        else:
            return False
        if not self.include.search(text):
            return False
        return not (self.exclude is not None and self.exclude.search(text))

    def claims(self, c: ContainerEvidence, line: LogLine) -> bool:
        """True when this signature claims the line of container `c`."""
        return self.matches(line.text) and (self.confirm is None or self.confirm(c, line))


def _sig(slug: Cause, keywords: Iterable[str], include: Iterable[str], exclude: Iterable[str] = (),
         explains_exit: bool = True,
         confirm: Callable[[ContainerEvidence, LogLine], bool] | None = None) -> Signature:
    ex = list(exclude)
    return Signature(slug, tuple(keywords), compile_any(include),
                     compile_any(ex) if ex else None, explains_exit, confirm)


def preceding(c: ContainerEvidence, line: LogLine, count: int) -> tuple[LogLine, ...]:
    """Up to `count` lines printed just before `line` on the same stream."""
    return c.lines_before(line, count)


_KEY_ERROR = lazy_compile(r"\bKeyError: '")
_ENVIRON = lazy_compile(r"environ|getenv|os\.py\", line \d+, in __getitem__")


#: The bare phrasing, `DATABASE_URL is not set` (a name with an underscore, upper case, in
#: `var`; the words in any case): claimed only when Config.Env confirms it (see
#: _missing_variable).  log_facts reads the variable's name with it too.
BARE_MISSING = (r"\b(?P<var>(?-i:[A-Z][A-Z0-9]*_[A-Z0-9_]+)) (?:is )?(?:not set|unset|missing"
                r"|required|must be set|undefined|not defined|empty)\b")
_BARE_VAR = lazy_compile(BARE_MISSING, re.IGNORECASE)
_MISSING_NAMED = (
    r"superuser password is not specified",                   # postgres
    r"password option is not specified",                      # mysql, mariadb
    r"\b[A-Za-z_]\w*: unbound variable",                      # bash set -u
    r"\b[A-Za-z_]\w*: parameter (?:null or )?not set",        # ash/dash set -u, ${X?}
    r"\bKeyError: '(?-i:[A-Z][A-Z0-9_]+)'",                   # os.environ['X']
    r"required key (?-i:[A-Z_][A-Z0-9_]*) missing value",     # Go envconfig
    # Generic phrasings; the name itself must be upper case (`(?-i:...)`), so "all
    # required env vars present" is not a claim.
    r"(?:missing|required|undefined|unset)\b[^.]{0,30}\benv(?:ironment)?"
    r"(?: variable)?s?:? ['\"`]?(?-i:[A-Z][A-Z0-9_]{2,})\b",
    r"\benv(?:ironment)? variable ['\"`]?(?-i:[A-Z][A-Z0-9_]{2,})['\"`]? (?:is )?"
    r"(?:not set|missing|required|undefined|must be set|empty)",
)
_NAMED_FORMS = compile_any(_MISSING_NAMED)


def _missing_variable(c: ContainerEvidence, line: LogLine) -> bool:
    """A Python `KeyError: 'X'` is a missing variable only when the traceback above it shows
    an `os.environ[...]` lookup; any other upper-case dict key is an ordinary bug.  A line
    that only says `X_Y is not set` (no word of the environment) is one only when Config.Env
    lacks X_Y or has it empty: a program warning about a variable it was given is not."""
    if _KEY_ERROR.search(line.text):
        return any(_ENVIRON.search(ln.text) for ln in preceding(c, line, 8))
    if _NAMED_FORMS.search(line.text):
        return True
    m = _BARE_VAR.search(line.text)
    return m is not None and str(c.env.get(m.group("var"), "")) == ""


SIGNATURES: dict[Cause, Signature] = {s.slug: s for s in (
    _sig(Cause.STALE_DATA_VOLUME, ("incompatible with server", "initialized by postgresql",
                                   "cannot boot server version", "upgrade problem",
                                   "wrong mongod version", "cannot upgrade a node",
                                   "minimum compatible version"), STALE_DATA),
    _sig(Cause.BUS_ERROR_SHM_EXHAUSTED, ("bus error", "shared memory", "/dev/shm",
                                         "/postgresql.", "/torch_"), (*SHM_FULL, r"\bBus error\b"),
         confirm=shm_is_the_cause),
    _sig(Cause.MISSING_ENV_VAR, ("not specified", "unbound variable", "not set", "keyerror",
                             "missing value", "env", "unset", "missing", "required",
                             "must be set", "undefined", "not defined", "empty"),
         (*_MISSING_NAMED, BARE_MISSING), confirm=_missing_variable),
    _sig(Cause.READ_ONLY_FILESYSTEM, ("read-only file", "erofs"),
         (r"read-only file ?system", r"\bEROFS\b")),
    _sig(Cause.NO_SPACE_LEFT, ("no space left", "enospc", "disk is full"),
         (r"no space left on device", r"\bENOSPC\b", r"Disk is full writing"),
         exclude=SHM_FULL),
    _sig(Cause.PERMISSION_DENIED, ("permission", "eacces", "errno 13", "accessdenied",
                               "operation not permitted"), (
        r"permission denied", r"\bEACCES\b", r"\[Errno 13\]", r"\bPermissionError\b",
        r"AccessDeniedException", r"changing ownership of .*: Operation not permitted",
    ), exclude=(
        RUNC_EXEC.pattern,
        # SQL privileges, SSH and database authentication: not the filesystem.
        r"permission denied for (?:table|relation|schema|database|sequence|function|view|"
        r"column|tablespace|language|large object|foreign)",
        r"Permission denied \((?:publickey|password|keyboard-interactive|gssapi)",
    )),
    _sig(Cause.ADDRESS_IN_USE, ("in use", "eaddrinuse", "errno 98", "(98: ", "bindexception"), (
        r"address already in use", r"\bEADDRINUSE\b", r"\[Errno 98\]", r"\(98: ",
        r"\bBindException\b", r"Connection in use: \(",
    ), exclude=(ENGINE_PORT.pattern,)),
    _sig(Cause.DNS_RESOLUTION_FAILURE, (
        "name resolution", "resolving", "not known", "hostname", "nodename", "in upstream",
        "lookup ", "getaddrinfo", "eai_again", "resolve host", "unknownhost", "unknown host",
        "bad address", "can't find", "server host", "host name"), (
        r"temporary failure in name resolution", r"temporary failure resolving '",
        r"name or service not known", r"no address associated with hostname",
        r"nodename nor servname provided", r"host not found in upstream",
        r"\blookup [\w.-]+(?: on \S+)?: (?:no such host|server misbehaving|i/o timeout|"
        r"read udp|dial udp|.*connection refused)",
        r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN)", r"getaddrinfo failed", r"\bEAI_AGAIN\b",
        r"could not resolve host", r"could not resolve hostname", r"UnknownHostException",
        r"\bunknown host(?! key)\b", r"\bbad address '", r"server can't find \S+: "
        r"(?:NXDOMAIN|SERVFAIL|REFUSED)", r"Unknown MySQL server host",
        r"could not translate host name",
    ), exclude=(r"getaddrinfo\(\) thread failed",)),
    _sig(Cause.DEPENDENCY_UNREACHABLE, (
        "refused", "errno 111", "can't connect", "could not connect", "connection to server",
        "timed out", "etimedout", "i/o timeout", "no route", "unreach"), (
        r"connection refused", r"\bECONNREFUSED\b", r"\[Errno 111\]",
        r"Can't connect to (?:local )?MySQL server", r"could not connect to server",
        r"connection to server at .* failed",
        r"connection timed out", r"\bETIMEDOUT\b", r"connect timed out",
        r"\bnc: timed out", r"dial tcp \S+: (?:connect: )?i/o timeout",
        r"no route to host", r"\bEHOSTUNREACH\b", r"network is unreachable",
        r"\bENETUNREACH\b",
    ), exclude=(DNS_LOOKUP.pattern, r"failed to initialize logging driver",
                r"name or service not known|temporary failure in name resolution")),
    _sig(Cause.TOO_MANY_OPEN_FILES, ("too many open files", "emfile", "enfile", "errno 24"), (
        r"too many open files", r"\bEMFILE\b", r"\bENFILE\b", r"\[Errno 24\]",
    )),
    _sig(Cause.PIDS_LIMIT_REACHED, FORK_KEYWORDS, FORK_EAGAIN, confirm=pids_limited_line),
    _sig(Cause.FORK_FAILED, FORK_KEYWORDS, FORK_EAGAIN, confirm=not_pids_limited),
    # Only announcements that report the address actually bound: a literal loopback IP
    # (Werkzeug, Uvicorn, Django, Puma, Gunicorn print their bind address), PostgreSQL's
    # `listening on IPv4 address "127.0.0.1"`, and dev servers' `Local:` line (told apart by
    # their `Network:` line).  A bare "listening on http://localhost:3000" is often a
    # hard-coded string of an app bound to every interface: not claimed.
    _sig(Cause.BIND_TO_LOCALHOST, ("127.0.0.1", "::1", "local:"), (
        r"\b(?:listening|running|serving|started|bound|server|available)\b[^\n]{0,60}?"
        r"\b(?:on|at):?\s+(?:(?:https?|tcp)://)?(?:127\.0\.0\.1|\[::1\])(?::\d+)?"
        r"(?:[/\s,.)]|$)",
        r"listening on IPv[46] address \"(?:127\.0\.0\.1|::1)\"",
        r"\bLocal:\s+https?://(?:localhost|127\.0\.0\.1)(?::\d+)?",
    ), explains_exit=False),
)}

#: When one line could be claimed by several signatures, the most specific wins.
PRIORITY = (Cause.STALE_DATA_VOLUME, Cause.MISSING_ENV_VAR, Cause.READ_ONLY_FILESYSTEM,
            Cause.BUS_ERROR_SHM_EXHAUSTED, Cause.NO_SPACE_LEFT, Cause.PERMISSION_DENIED,
            Cause.ADDRESS_IN_USE, Cause.DNS_RESOLUTION_FAILURE, Cause.DEPENDENCY_UNREACHABLE,
            Cause.TOO_MANY_OPEN_FILES, Cause.PIDS_LIMIT_REACHED, Cause.FORK_FAILED)

#: How far from the end of a failed run a signature may be and still explain the exit: an
#: error logged, survived and followed by a long healthy run is not why the process died.
EXIT_WINDOW = 40


# -- grouping ------------------------------------------------------------------------------------

_LEADING_STAMP = lazy_compile(
    r"^[\[(]?\d{2,4}[-/.]\d{1,2}[-/.]\d{1,4}[T ]\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
    r"(?:Z|[+-]\d{2}:?\d{2}| ?UTC)?[\])]?\s*")


def strip_stamp(text: str) -> str:
    """The line without an application's own leading timestamp."""
    return _LEADING_STAMP.sub("", text.strip())


def message_key(text: str) -> str:
    """What stays the same when a restart loop prints one error again: no timestamps, pids
    (`[1]`, nginx `1#1:`, `pid 125`) or durations."""
    key = strip_stamp(text)
    key = re.sub(r"\b\d+#\d+:", "#:", key)
    key = re.sub(r"\[\d+\]|\bpid \d+|\b\d+(?:\.\d+)? ?(?:ms|s)\b", "#", key)
    return key.lower()


@dataclass(frozen=True)
class Group:
    """One distinct message and every line that printed it."""

    key: str
    lines: tuple[LogLine, ...]
    runs: int

    @property
    def latest(self) -> LogLine:
        """The latest occurrence (the one quoted)."""
        return self.lines[-1]


@dataclass(frozen=True)
class Hits:
    """Every line one signature claimed, grouped, and where they sit in the container's life."""

    slug: Cause
    lines: tuple[LogLine, ...]
    latest_run: tuple[LogLine, ...]
    groups: tuple[Group, ...]
    #: Runs (of `runs_total`) that printed a claimed line; None when the engine's events no
    #: longer cover every run (dockerd keeps only its latest 256 events).
    runs_with: int | None
    runs_total: int
    #: The collected log is cut (--tail, --since, --max-log-bytes): counts are lower bounds.
    truncated: bool = False
    #: What of the collected log was not analysed (see diagnose.evidence.logwindow), or "".
    unanalysed: str = ""

    @property
    def latest(self) -> LogLine:
        """The latest matching line of all."""
        return self.lines[-1]

    def quoted(self, limit: int = 4) -> list[LogLine]:
        """The latest occurrence of each distinct message (the most recent `limit` messages)."""
        latest = sorted((g.latest for g in self.groups), key=_order)
        return latest[-limit:]


def _order(line: LogLine) -> tuple[str, int, str]:
    return (line.timestamp, line.number, line.stream)


def run_boundaries(c: ContainerEvidence) -> list[str]:
    """Times of every `die` event: run n of the log starts after the n-th die."""
    return sorted(t for t in (event_time(e) for e in c.events if e.get("Action") == "die") if t)


def run_of(boundaries: Sequence[str], line: LogLine) -> int:
    """Index of the run that printed `line` (0 = first run; lines without time: last run)."""
    if not line.timestamp:
        return len(boundaries)
    return bisect.bisect_left(boundaries, line.timestamp)


def scan_log(c: ContainerEvidence, slug: Cause,
             lines: Sequence[LogLine] | None = None) -> Hits | None:
    """The lines of `c` (both streams, time order; or `lines`, some of them) that the `slug`
    signature claims."""
    sig = SIGNATURES[slug]
    shapes = c.log_shapes_lower
    if not any(k in shapes for k in sig.keyword_shapes):
        return None  # no line of c, so none of `lines` either, can be claimed: skip the look
    pool = c.log_lines if lines is None else lines
    matched = tuple(ln for ln in pool if sig.claims(c, ln))
    if not matched:
        return None
    latest = set(latest_run_lines(c))
    bounds = run_boundaries(c)
    by_key: dict[str, list[LogLine]] = {}
    for ln in matched:
        by_key.setdefault(message_key(ln.text), []).append(ln)
    restarts = int(c.inspect.get("RestartCount") or 0)
    # Every run but one in progress ends with a `die`.  The engine drops its oldest events
    # first, so with the `create` event still there every later one is too.
    runs = len(bounds) + (1 if c.status in ("running", "paused") else 0)
    complete = runs >= restarts + 1 and any(e.get("Action") == "create" for e in c.events)
    groups = tuple(Group(k, tuple(v), len({run_of(bounds, ln) for ln in v}) if complete else 0)
                   for k, v in by_key.items())
    return Hits(
        slug=slug,
        lines=matched,
        latest_run=tuple(ln for ln in matched if ln in latest),
        groups=groups,
        runs_with=len({run_of(bounds, ln) for ln in matched}) if complete else None,
        runs_total=max(restarts + 1, runs, 1),
        truncated=bool((rec := c.records.get("logs")) is not None and rec.truncated),
        unanalysed=c.log_unanalysed(),
    )


# -- what the signatures mean for the exit ---------------------------------------------------


def failed_run(c: ContainerEvidence) -> bool:
    """The latest run ended with a non-zero exit that no signal explains."""
    if not c.ever_started or c.status not in ("exited", "restarting", "dead"):
        return False
    code = c.exit_code
    return bool(code) and signal_of_exit(code) is None


def exit_cause(c: ContainerEvidence) -> Cause | None:
    """The log signature that explains a non-zero exit, or None.

    The latest claimed line within the last :data:`EXIT_WINDOW` non-empty lines of the latest
    run wins: the last error an application prints before it dies is the one that killed it.
    """
    if not failed_run(c):
        return None
    window = []  # the last EXIT_WINDOW non-empty lines, latest first
    for ln in reversed(latest_run_lines(c)):
        if ln.text.strip():
            window.append(ln)
            if len(window) == EXIT_WINDOW:
                break
    for line in window:
        for slug in PRIORITY:
            if SIGNATURES[slug].claims(c, line):
                return slug
    return None
