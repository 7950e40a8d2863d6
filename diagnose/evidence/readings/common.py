"""Helpers for check authors: reading logs, events and inspect, and building evidence.

Everything here is a pure function of a :class:`~diagnose.evidence.container.ContainerEvidence`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.logs import LogLine
from diagnose.model.findings import Evidence
from diagnose.model.jsonview import as_map, dig, resolve_pointer
from diagnose.model.lazyre import lazy_compile
from diagnose.model.text import excerpt

#: Linux signal numbers (containers are Linux; don't trust the analysing host's table).
SIGNALS = {
    1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT",
    7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2",
    13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD",
    18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG",
    24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO",
    30: "SIGPWR", 31: "SIGSYS",
}


def signal_of_exit(code: int | None) -> int | None:
    """The signal number behind an exit code 129..159, else None."""
    if code is not None and 128 < code < 160:
        return code - 128
    return None


def signal_name(number: int) -> str:
    """`SIGKILL` for 9; `signal 40` for unknown numbers."""
    return SIGNALS.get(number, f"signal {number}")


def signal_of_event(value: Any) -> int | None:
    """Parse the `signal` attribute of a kill event (a number, or a name like SIGTERM)."""
    text = str(value or "").strip().upper()
    if text.isdigit():
        return int(text)
    name = text if text.startswith("SIG") else f"SIG{text}"
    for number, known in SIGNALS.items():
        if known == name:
            return number
    return None


# -- logs ------------------------------------------------------------------------------------


def compile_any(patterns: Iterable[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """One alternation regex from several patterns."""
    return lazy_compile("|".join(f"(?:{p})" for p in patterns), flags)


def grep(lines: Iterable[LogLine], pattern: re.Pattern[str]) -> list[LogLine]:
    """Lines matching `pattern`."""
    return [line for line in lines if pattern.search(line.text)]


class HasFiles(Protocol):
    """Evidence with a bundle directory: a container, or a Swarm service (same log names)."""

    def path(self, rel: str) -> str:
        """Bundle-relative path of one of its files."""
        ...


def log_evidence(c: HasFiles, lines: Sequence[LogLine], limit: int = 5) -> list[Evidence]:
    """Evidence pointers for log lines: contiguous lines of one stream become one range.

    At most `limit` ranges are returned, the latest ones (the end of a log is where a crash is).
    """
    by_stream: dict[str, list[LogLine]] = {}
    for line in lines:
        by_stream.setdefault(line.stream, []).append(line)
    ranges: list[tuple[str, list[LogLine]]] = []
    for stream, group in by_stream.items():
        group.sort(key=lambda ln: ln.number)
        current = [group[0]]
        for line in group[1:]:
            if line.number == current[-1].number + 1:
                current.append(line)
            else:
                ranges.append((stream, current))
                current = [line]
        ranges.append((stream, current))
    ranges.sort(key=lambda r: (r[1][-1].timestamp, r[1][-1].number))
    out = []
    for _stream, run in ranges[-limit:]:
        excerpt = "\n".join(line.text for line in run[-12:])
        out.append(
            Evidence(
                file=c.path(run[0].file),
                lines=(run[0].number, run[-1].number),
                excerpt=excerpt,
            )
        )
    return out


def tail(lines: Sequence[LogLine], count: int) -> Sequence[LogLine]:
    """The last `count` lines."""
    return lines[-count:] if count else ()


def event_time(event: Mapping[str, Any]) -> str:
    """An event's time as RFC 3339 with nanoseconds (comparable with log timestamps)."""
    nano = event.get("timeNano")
    if isinstance(nano, int):
        whole, frac = divmod(nano, 1_000_000_000)
        stamp = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{stamp}.{frac:09d}Z"
    secs = event.get("time")
    if isinstance(secs, int):
        return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%dT%H:%M:%S.000000000Z")
    return ""


# -- inspect and events --------------------------------------------------------------------


def inspect_evidence(c: ContainerEvidence, pointer: str, value: Any = None) -> Evidence:
    """Evidence pointing at one field of inspect.json, quoting its value."""
    if value is None:
        value = resolve_pointer(c.inspect, pointer)
    return Evidence(file=c.path(layout.INSPECT), pointer=pointer, excerpt=excerpt(value))




def events_with(c: ContainerEvidence, *actions: str) -> list[tuple[int, Mapping[str, Any]]]:
    """(index, event) pairs whose Action starts with one of `actions` (e.g. `health_status`)."""
    return [
        (i, e)
        for i, e in enumerate(c.events)
        if any(str(e.get("Action", "")).startswith(a) for a in actions)
    ]


def event_evidence(c: ContainerEvidence, indexed: Sequence[tuple[int, Mapping[str, Any]]]) -> list[
    Evidence
]:
    """Evidence pointers for events, quoting action and attributes."""
    out = []
    for i, e in indexed:
        attrs = (e.get("Actor") or {}).get("Attributes") or {}
        detail = ", ".join(
            f"{k}={attrs[k]}" for k in ("exitCode", "signal", "execDuration") if k in attrs
        )
        stamp = event_time(e)
        out.append(
            Evidence(
                file=c.path(layout.EVENTS),
                pointer=f"/{i}",
                excerpt=f"{stamp} {e.get('Action')}" + (f" ({detail})" if detail else ""),
            )
        )
    return out


def event_attr(event: Mapping[str, Any], key: str) -> Any:
    """One attribute of an event's actor (None when the event has no such attribute)."""
    return as_map(dig(event, "Actor", "Attributes")).get(key)


# -- remediation helpers ---------------------------------------------------------------------


def defunct_in_top(c: ContainerEvidence) -> int:
    """How many of `docker top`'s processes are zombies (`<defunct>`): each holds a pid."""
    return sum(1 for p in c.top.get("Processes") or () if "<defunct>" in " ".join(map(str, p)))


def ulimit(c: ContainerEvidence, name: str) -> Mapping[str, Any] | None:
    """The container's `--ulimit NAME` entry of HostConfig.Ulimits (`nofile`, `nproc`...), or
    None.  dockerd names them as given (`nofile`); Podman as the kernel does
    (`RLIMIT_NOFILE`), and lists its defaults on every container."""
    for u in c.host_config.get("Ulimits") or ():
        if isinstance(u, Mapping) and str(u.get("Name") or "").lower().removeprefix(
                "rlimit_") == name:
            return u
    return None


def q(text: str) -> str:
    """Shell-quote for commands users paste."""
    return shlex.quote(text)


def override_command(c: ContainerEvidence, with_mounts: bool = True,
                     with_user: bool = True) -> str:
    """`docker run --rm -it --entrypoint sh IMAGE` with the target's user and mounts.

    This is the source notes' advice for a container that won't run: start a shell instead of
    its entrypoint and look around with the same user and volumes.  Leave out the user or the
    mounts when they are what stops the container (an unknown user, a missing bind source).
    """
    parts = ["docker", "run", "--rm", "-it", "--entrypoint", "sh"]
    user = str(c.config.get("User") or "")
    if user and with_user:
        parts += ["--user", user]
    if with_mounts:
        for m in c.inspect.get("Mounts") or ():
            src = m.get("Name") if m.get("Type") == "volume" else m.get("Source")
            dst = m.get("Destination")
            if src and dst:
                mode = "" if m.get("RW", True) else ":ro"
                parts += ["-v", f"{src}:{dst}{mode}"]
    image = str(c.config.get("Image") or c.inspect.get("Image") or "IMAGE")
    return " ".join(q(p) for p in parts + [image])


def logs_command(c: ContainerEvidence, tail_lines: int = 50) -> str:
    """`docker logs --tail N NAME`."""
    return f"docker logs --tail {tail_lines} {q(c.name)}"


def argv(c: ContainerEvidence) -> list[str]:
    """Entrypoint + Cmd as the runtime will exec them."""
    return [str(x) for x in _words(c.config.get("Entrypoint")) + _words(c.config.get("Cmd"))]


def _words(value: Any) -> list[Any]:
    """Entrypoint or Cmd as a list (a list, a lone string, or nothing)."""
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, str) and value else []
