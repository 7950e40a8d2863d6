"""One container's evidence: what collection produced, as checks and renderers see it.

The view *is* the bundle: every property here is parsed from the same bytes that the archive
writer puts on disk, so a live run and `diagnose analyze BUNDLE` feed the checks identical
input.  Nothing here talks to the engine or the host.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from diagnose.evidence import layout
from diagnose.evidence.entrypoint import Entrypoint
from diagnose.evidence.logs import LogLine, adjacent, log_window, parse_log, shape
from diagnose.evidence.logwindow import LogCut
from diagnose.evidence.target import CollectedTarget
from diagnose.model.jsonview import as_list, as_map, as_maps
from diagnose.model.times import parse_time

_T = TypeVar("_T")


@dataclass(frozen=True)
class ContainerEvidence(CollectedTarget):
    """Everything collected about one container, read-only (parsed views are computed on
    first use)."""

    #: `engines/<label>/` when the run covered several engines, else "".
    prefix: str = ""
    #: Logs given as their window already (a large log read from a bundle as a stream): the
    #: file holds the window, this says where it skips lines.  Other logs are windowed here.
    cuts: Mapping[str, LogCut] = field(default_factory=dict)

    # -- locating -----------------------------------------------------------------------------
    @property
    def directory(self) -> str:
        """Bundle-relative directory of this container."""
        return self.prefix + layout.container_dir(self.key)

    def derived(self, name: str, compute: Callable[[ContainerEvidence], _T]) -> _T:
        """A reading that several checks share (the latest run's lines...), computed once
        per container: checks stay pure functions, and a 2,000-line log is walked once."""
        cache: dict[str, Any] = self.__dict__.setdefault("_derived", {})
        if name not in cache:
            cache[name] = compute(self)
        value: _T = cache[name]
        return value

    # -- inspect ------------------------------------------------------------------------------
    @cached_property
    def inspect(self) -> Mapping[str, Any]:
        """The `docker inspect` object ({} when inspect failed)."""
        return as_map(self.json(layout.INSPECT))

    @property
    def id(self) -> str:
        """Full container ID."""
        return str(self.inspect.get("Id", ""))

    @property
    def name(self) -> str:
        """Container name without the leading slash (the key when unknown)."""
        return str(self.inspect.get("Name", "")).lstrip("/") or self.key

    @property
    def state(self) -> Mapping[str, Any]:
        """`.State`."""
        return as_map(self.inspect.get("State"))

    @property
    def config(self) -> Mapping[str, Any]:
        """`.Config`."""
        return as_map(self.inspect.get("Config"))

    @property
    def host_config(self) -> Mapping[str, Any]:
        """`.HostConfig`."""
        return as_map(self.inspect.get("HostConfig"))

    @property
    def status(self) -> str:
        """`.State.Status`: created, running, paused, restarting, removing, exited or dead."""
        return str(self.state.get("Status", "unknown"))

    @property
    def exit_code(self) -> int | None:
        """`.State.ExitCode` (None when inspect is missing)."""
        code = self.state.get("ExitCode")
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    @property
    def ever_started(self) -> bool:
        """True when StartedAt is not the zero time: the process ran at least once."""
        return parse_time(self.state.get("StartedAt")) is not None

    @property
    def image_ref(self) -> str:
        """The image as the user named it (`.Config.Image`)."""
        return str(self.config.get("Image", ""))

    @property
    def labels(self) -> Mapping[str, str]:
        """`.Config.Labels` ({} when none)."""
        return as_map(self.config.get("Labels"))

    @property
    def compose_project(self) -> str:
        """The Compose project this container belongs to ('' when none)."""
        return str(self.labels.get("com.docker.compose.project", ""))

    @property
    def compose_service(self) -> str:
        """The Compose service this container runs ('' when none)."""
        return str(self.labels.get("com.docker.compose.service", ""))

    @property
    def env(self) -> Mapping[str, str]:
        """`.Config.Env` as a mapping (values may be redacted placeholders)."""
        out: dict[str, str] = {}
        for item in as_list(self.config.get("Env")):
            key, _, value = str(item).partition("=")
            out[key] = value
        return out

    # -- start errors -------------------------------------------------------------------------
    @cached_property
    def runtime(self) -> Mapping[str, Any]:
        """What the engine keeps on its host but not in its API (runtime.json: Podman's OCI
        runtime log and the kernel's OOM records), or {}."""
        return as_map(self.json(layout.RUNTIME))

    @cached_property
    def start_error(self) -> str:
        """Why the latest start failed: `State.Error`, or, when the engine left that empty
        (Podman always does), the OCI runtime's error for a start attempted after the latest
        run began (Podman's `oci-log`).  "" when no start failed."""
        error = str(self.state.get("Error") or "")
        if error:
            return error
        entry = self._runtime_error()
        return str(entry[1].get("msg") or "") if entry else ""

    @property
    def start_error_pointer(self) -> tuple[str, str]:
        """(file, JSON pointer) of :attr:`start_error`: inspect's State.Error, or the entry
        of runtime.json's OCI runtime log."""
        entry = self._runtime_error() if not self.state.get("Error") else None
        if entry is not None:
            return layout.RUNTIME, f"/oci_log/entries/{entry[0]}/msg"
        return layout.INSPECT, "/State/Error"

    @property
    def start_error_source(self) -> str:
        """`State.Error`, or `the OCI runtime log (oci-log)` when that is where it was read."""
        return ("the OCI runtime log (oci-log)"
                if self.start_error_pointer[0] == layout.RUNTIME else "State.Error")

    def _runtime_error(self) -> tuple[int, Mapping[str, Any]] | None:
        """The OCI runtime log's last error entry, when it tells of the latest start: any
        entry of a container that never ran; for one that ran and is now stopped, an entry
        written after its run ended (an older one is from a start that failed before a later
        one worked, or from stopping it)."""
        entries = as_list(as_map(self.runtime.get("oci_log")).get("entries"))
        if not entries or self.status not in ("created", "exited"):
            return None
        i = len(entries) - 1
        entry = as_map(entries[i])
        if not entry.get("msg") or entry.get("level") not in (None, "error", "fatal"):
            return None
        if not self.ever_started:
            return i, entry
        when = parse_time(entry.get("time"))
        ended = parse_time(self.state.get("FinishedAt"))
        # The log's times are whole seconds: an attempt within the run's last second counts.
        if when is not None and ended is not None and when.timestamp() >= int(ended.timestamp()):
            return i, entry
        return None

    def run_seconds(self) -> float | None:
        """How long the last run lasted (FinishedAt - StartedAt), when both are known."""
        start = parse_time(self.state.get("StartedAt"))
        end = parse_time(self.state.get("FinishedAt"))
        if start is None or end is None:
            return None
        seconds = (end - start).total_seconds()
        # runc's exec failures finish a few microseconds "before" they started.
        return max(seconds, 0.0) if seconds > -1 else None

    # -- logs ---------------------------------------------------------------------------------
    @cached_property
    def _windows(self) -> dict[str, tuple[bytes, LogCut | None]]:
        return {rel: log_window(self.files, self.cuts, rel) for rel in LOG_FILES}

    @cached_property
    def stdout(self) -> tuple[LogLine, ...]:
        """stdout lines (empty when not collected; only its window when it is long)."""
        return parse_log("stdout", *self._windows[layout.LOG_STDOUT])

    @cached_property
    def stderr(self) -> tuple[LogLine, ...]:
        """stderr lines (empty when not collected; only its window when it is long)."""
        return parse_log("stderr", *self._windows[layout.LOG_STDERR])

    def log_cut(self, stream: str) -> LogCut | None:
        """Where the analysed window of `stream` (stdout, stderr) skips lines, if it does."""
        return self._windows[layout.LOG_STDOUT if stream == "stdout" else layout.LOG_STDERR][1]

    def log_unanalysed(self) -> str:
        """`stdout: lines 1,001-1,998,000 (63.9 MiB) not analysed`, or "" when every collected
        line was analysed."""
        cuts = [(s, cut) for s in ("stdout", "stderr") if (cut := self.log_cut(s)) is not None]
        return "; ".join(f"{s}: {cut.describe()}" for s, cut in cuts)

    def log_line_count(self, stream: str) -> int:
        """Lines of `stream` in the collected log, analysed or not."""
        cut = self.log_cut(stream)
        if cut is not None:
            return cut.total_lines
        return len(self.stdout if stream == "stdout" else self.stderr)

    def lines_before(self, line: LogLine, count: int) -> tuple[LogLine, ...]:
        """Up to `count` lines printed just before `line` on its stream (analysed ones)."""
        stream = self.stderr if line.stream == "stderr" else self.stdout
        return adjacent(stream, line, -count)

    def lines_after(self, line: LogLine, count: int) -> tuple[LogLine, ...]:
        """Up to `count` lines printed just after `line` on its stream (analysed ones)."""
        stream = self.stderr if line.stream == "stderr" else self.stdout
        return adjacent(stream, line, count)

    @cached_property
    def log_lines(self) -> tuple[LogLine, ...]:
        """Both streams interleaved in time order (stable for equal or missing timestamps)."""
        merged = list(self.stdout) + list(self.stderr)
        merged.sort(key=operator.attrgetter("timestamp"))
        return tuple(merged)

    @cached_property
    def log_shapes_lower(self) -> str:
        """Every distinct line *shape* of both log streams in one string: the line's text
        (no timestamp) lower-cased with every digit read as 0.  A keyword can be in a line
        only if its own :func:`shape` is in this string, so one substring search here tells a
        check whether any line can be of interest before it looks line by line; and a log
        that repeats a few messages with different numbers (request ids, counters, times)
        shrinks to a few lines for those searches."""
        text = "\n".join([ln.text for ln in self.stdout] + [ln.text for ln in self.stderr])
        return "\n".join(set(shape(text.lower()).split("\n")))


    # -- other evidence -----------------------------------------------------------------------
    @cached_property
    def events(self) -> tuple[Mapping[str, Any], ...]:
        """Engine events for this container, oldest first."""
        return as_maps(self.json(layout.EVENTS))

    @cached_property
    def top(self) -> Mapping[str, Any]:
        """`docker top` (Titles, Processes), or {}."""
        return as_map(self.json(layout.TOP))

    @cached_property
    def processes(self) -> Mapping[str, Any]:
        """Host-side process tree (psutil), or {}."""
        return as_map(self.json(layout.PROCESSES))

    @cached_property
    def image(self) -> Mapping[str, Any]:
        """Image inspect, or {}."""
        return as_map(self.json(layout.IMAGE_INSPECT))

    @cached_property
    def history(self) -> tuple[Mapping[str, Any], ...]:
        """Image history, newest layer first (as the engine returns it)."""
        return as_maps(self.json(layout.IMAGE_HISTORY))

    @cached_property
    def diff(self) -> tuple[Mapping[str, Any], ...]:
        """Filesystem changes ({Path, Kind})."""
        return as_maps(self.json(layout.DIFF))

    @cached_property
    def stats(self) -> Mapping[str, Any]:
        """One-shot stats sample, or {}."""
        return as_map(self.json(layout.STATS))

    @cached_property
    def networks(self) -> Mapping[str, Any]:
        """Networks the container is attached to: name -> {found, inspect | error}."""
        return as_map(self.json(layout.NETWORKS))

    @cached_property
    def mounts(self) -> tuple[Mapping[str, Any], ...]:
        """Mounts with host-side facts (source_exists for local bind mounts)."""
        return as_maps(self.json(layout.MOUNTS))

    @cached_property
    def entrypoint(self) -> Entrypoint:
        """The static entrypoint probe (argv, resolved path, file facts); empty when not
        collected."""
        return Entrypoint(self.json(layout.ENTRYPOINT))


LOG_FILES = (layout.LOG_STDOUT, layout.LOG_STDERR)
