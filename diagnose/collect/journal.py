"""The event journal `diagnose watch` keeps, and reading it back as evidence.

The engine keeps its last 256 events engine-wide: on a busy host the `kill` events that tell a
stop timeout from `docker kill` are gone within minutes.  `diagnose watch` appends every event
of the containers it follows to a journal on disk (already redacted by the caller), and every
later collection of a container's events (`diagnose CONTAINER`, watch's own bundles) merges
the journal's events of that container into its events.json, each marked
`"Source": "watch-journal"`, so the checks see what the engine dropped.

Where: `--journal DIR` (watch), else $DIAGNOSE_JOURNAL, else /var/lib/diagnose/journal when
root, else $XDG_STATE_HOME/diagnose/journal (~/.local/state/diagnose/journal).  Bounded:
`events.jsonl` is rotated to `events.jsonl.1` ... `.{KEEP_FILES - 1}` at :data:`MAX_FILE_BYTES`
(so at most KEEP_FILES x MAX_FILE_BYTES on disk); the directory is 0700, the files 0600;
each line is one event, written with one `write()` on an O_APPEND descriptor and fsync'd, so
a crash or a signal leaves at worst a last line cut short (skipped when read).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 16 * 1024 * 1024
KEEP_FILES = 4
NAME = "events.jsonl"
SOURCE = "watch-journal"
#: Journal events kept for one container (the newest).
MAX_EVENTS = 1000


def default_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The journal's directory when none is given."""
    env = os.environ if environ is None else environ
    if env.get("DIAGNOSE_JOURNAL"):
        return Path(env["DIAGNOSE_JOURNAL"])
    if os.geteuid() == 0:
        return Path("/var/lib/diagnose/journal")
    state = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "diagnose" / "journal"


class Journal:
    """Appends events to the journal in `directory`, rotating it at its bound."""

    def __init__(self, directory: Path, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        self.fd = -1
        self.size = 0
        self._open()

    def _open(self) -> None:
        path = self.directory / NAME
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        os.fchmod(self.fd, 0o600)
        self.size = os.fstat(self.fd).st_size

    def append(self, event: Mapping[str, Any]) -> None:
        """One event, one line, on disk before this returns."""
        line = (json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self.lock:
            if self.fd < 0:
                return  # closed (the watch is stopping)
            if self.size + len(line) > self.max_bytes and self.size:
                self._rotate()
            os.write(self.fd, line)
            os.fsync(self.fd)
            self.size += len(line)

    def _rotate(self) -> None:
        os.close(self.fd)
        base = self.directory / NAME
        for n in range(KEEP_FILES - 1, 0, -1):
            older = self.directory / f"{NAME}.{n - 1}" if n > 1 else base
            with contextlib.suppress(FileNotFoundError):
                os.replace(older, self.directory / f"{NAME}.{n}")
        self._open()

    def close(self) -> None:
        """Finish the line being written (if any) and close."""
        with self.lock:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1


def files(directory: Path) -> list[Path]:
    """The journal's files, oldest first."""
    found = [directory / f"{NAME}.{n}" for n in range(KEEP_FILES - 1, 0, -1)]
    return [p for p in [*found, directory / NAME] if p.is_file()]


def events_of(directory: Path, cid: str, since: float) -> list[dict[str, Any]]:
    """The journal's events of container `cid` from `since` on (the newest MAX_EVENTS),
    each marked with its source."""
    kept: collections.deque[dict[str, Any]] = collections.deque(maxlen=MAX_EVENTS)
    needle = cid.encode()
    for path in files(directory):
        try:
            with open(path, "rb") as fh:
                for raw in fh:
                    if needle not in raw:
                        continue
                    try:
                        event = json.loads(raw)
                    except ValueError:  # a line cut short by a crash
                        continue
                    actor = event.get("Actor") if isinstance(event, dict) else None
                    if not isinstance(actor, dict) or actor.get("ID") != cid:
                        continue
                    nano = event.get("timeNano")
                    if isinstance(nano, int) and nano / 1e9 >= since:
                        kept.append({**event, "Source": SOURCE})
        except OSError:
            continue
    return list(kept)


def merge(engine: Iterable[dict[str, Any]], journal: Iterable[dict[str, Any]]
          ) -> tuple[list[dict[str, Any]], int]:
    """The engine's events with the journal's it no longer has, in time order; and how many
    came from the journal."""
    def key(e: Mapping[str, Any]) -> tuple[Any, ...]:
        return (e.get("timeNano"), (e.get("Actor") or {}).get("ID"), e.get("Action"))

    out = list(engine)
    seen = {key(e) for e in out}
    added = [e for e in journal if key(e) not in seen]
    if not added:
        return out, 0
    out += added
    out.sort(key=lambda e: e.get("timeNano") or 0)
    return out, len(added)
