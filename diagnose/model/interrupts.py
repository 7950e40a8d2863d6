"""SIGINT, SIGTERM and SIGHUP end a run the same way, at once, leaving no temporary file.

Why a run is not simply interrupted where it stands: CPython runs a Python signal handler in
the main thread only, when that thread next executes bytecode.  A signal the kernel delivers
to another thread (or that lands just before the main thread blocks) only sets a flag; a main
thread blocked in `queue.get()`, `Thread.join()`, `Future.result()` or a socket read then
sleeps on until whatever it waits for happens.  That was the Ctrl-C that hung for the whole
--timeout while the engine stalled: the main thread waited for a collector whose request the
engine never answered.  And SIGTERM/SIGHUP killed the process outright (their default
action), leaving the bundle's temporary files behind.

So:

- :func:`install` makes the three signals raise :class:`Interrupted` (exit code 128+signal)
  in the main thread; later signals are ignored while the run ends;
- :func:`run` runs a command's body on a worker thread while the main thread only waits in
  short timed waits, so a pending signal is acted on within :data:`POLL` seconds whatever the
  body is blocked in;
- every temporary file is created through :func:`create` and leaves the registry when it is
  published (:func:`publishing`) or removed (:func:`discard`), under one lock; :func:`stop`
  takes that lock, removes what is registered and closes the registry, so a file is either
  removed or was published whole, whichever state the body was in when the signal came.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from diagnose.model.escape import one_line

T = TypeVar("T")

#: How long the main thread sleeps at most before it looks at pending signals.
POLL = 0.1

_VERBS: dict[int, str] = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated",
          signal.SIGHUP: "hung up"}
_raised = False


class Interrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, which it replaces
    """A run ended by a signal (not a KeyboardInterrupt: click would turn that into its own
    "Aborted!" and exit code 1)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """128 + the signal number: 130 (INT), 143 (TERM), 129 (HUP)."""
        return 128 + self.signum


def install() -> None:
    """Make SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` (main thread only)."""
    for signum in _VERBS:
        signal.signal(signum, _raise)


def _raise(signum: int, frame: Any) -> None:
    global _raised
    if _raised:  # the run is already ending: let the clean-up finish
        return
    _raised = True
    raise Interrupted(signum)


def run(body: Callable[[], T], poll: float = POLL) -> T:
    """`body()` on a worker thread; its result or exception, or :class:`Interrupted` as soon
    as a signal comes (the worker is left to the process's exit).  `poll` bounds how long a
    signal that lands just before the wait may go unseen (a long-lived, mostly idle command
    such as `diagnose watch` wakes up less often)."""
    outcome: list[Any] = []

    def work() -> None:
        try:
            outcome.append((True, body()))
        except BaseException as exc:  # handed to the main thread
            outcome.append((False, exc))

    worker = threading.Thread(target=work, name="diagnose-run", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(poll)
    ok, value = outcome[0]
    if not ok:
        raise value
    result: T = value
    return result


# -- temporary files ------------------------------------------------------------------------------

_lock = threading.Lock()
_temporary: set[Path] = set()
_published: list[Path] = []
_on_stop: list[Callable[[], None]] = []
_closed = False


class RunStopped(RuntimeError):
    """The run was stopped by a signal: no new temporary file, no publication."""


def create(path: Path, mode: int) -> int:
    """Create `path` (O_EXCL, `mode`) for writing and register it as temporary; its fd."""
    with _lock:
        if _closed:
            raise RunStopped(f"not creating {path}: the run was stopped")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
        _temporary.add(path)
    return fd


def discard(path: Path) -> None:
    """Remove a temporary file (if it is still there) and forget it."""
    with _lock:
        _temporary.discard(path)
        with contextlib.suppress(OSError):
            path.unlink()


@contextlib.contextmanager
def publishing(temporary: Path, final: Path) -> Iterator[None]:
    """Around the rename of `temporary` to `final`: atomic with respect to :func:`stop`."""
    with _lock:
        if _closed:
            raise RunStopped(f"not publishing {final}: the run was stopped")
        yield
        _temporary.discard(temporary)
        _published.append(final)


def at_stop(callback: Callable[[], None]) -> None:
    """Run `callback` (e.g. erase a progress display) if the run is stopped by a signal."""
    _on_stop.append(callback)


def forget(callback: Callable[[], None]) -> None:
    """Undo :func:`at_stop` (the display was closed the ordinary way)."""
    with contextlib.suppress(ValueError):
        _on_stop.remove(callback)


def signal_of(exc: BaseException) -> int:
    """The signal that stopped the run (SIGINT for a KeyboardInterrupt)."""
    return exc.signum if isinstance(exc, Interrupted) else int(signal.SIGINT)


def close() -> list[Path]:
    """Remove every temporary file, refuse new ones, run the :func:`at_stop` callbacks; the
    files published before (what :func:`stop` says; `diagnose watch` ends with this alone)."""
    global _closed
    with _lock:
        _closed = True
        for path in _temporary:
            with contextlib.suppress(OSError):
                path.unlink()
        _temporary.clear()
        published = list(_published)
    for callback in _on_stop[:]:
        with contextlib.suppress(Exception):
            callback()
    return published


def stop(exc: BaseException) -> int:
    """End an interrupted run (:class:`Interrupted`, or a KeyboardInterrupt where
    :func:`install` was not called): remove every temporary file, erase displays, say so in
    one line on stderr; the exit code (the caller exits without waiting for the worker)."""
    signum = signal_of(exc)
    published = close()
    how = _VERBS.get(signum, "interrupted")
    if signum != signal.SIGINT:  # Ctrl-C needs no name; a TERM or HUP from elsewhere does
        how += f" ({signal.Signals(signum).name})"
    if published:
        line = f"diagnose: {how} after the bundle was written: {published[-1]}"
    else:
        line = f"diagnose: {how}; no bundle was written (temporary files removed)"
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(one_line(line) + "\n")
        sys.stderr.flush()
    return 128 + signum
