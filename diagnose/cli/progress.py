"""Progress on stderr while collecting; stdout carries only the report.

On a terminal, a rich spinner line (what is happening now, and the time so far) appears once
the run has taken more than a moment, and is erased before the report is printed.  With
`--quiet`, when stderr is not a terminal, or on a dumb terminal, nothing is shown at all.
A run reports through a plain callable (`progress("[2/5] web: exited 1")`), so the collecting
code knows nothing about how, or whether, it is displayed.
"""

from __future__ import annotations

import os
import sys
import threading
from types import TracebackType
from typing import IO, Any

from diagnose.model import interrupts
from diagnose.model.escape import one_line

#: Seconds a run may take before progress appears (quick runs show none: no flicker).
DELAY = 0.5


class Progress:
    """Where a run says what it is doing.  This base class shows nothing (`--quiet`)."""

    def __call__(self, message: str) -> None:
        """Report what the run is doing now."""

    def close(self) -> None:
        """Stop and erase any display (before the report reaches the terminal)."""

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class TerminalProgress(Progress):
    """A transient rich spinner on a terminal, started only after `delay` seconds."""

    def __init__(self, stream: IO[str], color: bool, delay: float = DELAY,
                 first: str = "connecting to the Docker engine") -> None:
        from rich.console import Console  # startup: rich only on a terminal that shows it
        from rich.progress import Progress as RichProgress  # startup: as above
        from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn  # startup: above

        self._console = Console(file=stream, no_color=not color, highlight=False,
                                soft_wrap=False)
        self._bar = RichProgress(
            SpinnerColumn(),
            TimeElapsedColumn(),
            # Last, so a narrow terminal cuts the message, never the clock.
            TextColumn("diagnose: {task.description}", markup=False),
            console=self._console,
            transient=True,
        )
        self._task = self._bar.add_task(first, total=None)
        self._lock = threading.Lock()
        self._started = self._closed = False
        self._timer = threading.Timer(delay, self._start)
        self._timer.daemon = True
        self._timer.start()
        interrupts.at_stop(self.close)  # a signal ends the run on another thread

    def _start(self) -> None:
        with self._lock:
            if not self._closed:
                self._bar.start()
                self._started = True

    def __call__(self, message: str) -> None:
        message = one_line(message)  # what it quotes never acts on the terminal
        if message.startswith("warning"):
            # Warnings stay on screen; the spinner line is transient.
            self._console.print(f"diagnose: {message}", markup=False, highlight=False)
            return
        with self._lock:
            # Drawn now once the display runs: a step must not wait for the display's next
            # tick (ten a second), which a quick run may never reach before it ends.
            self._bar.update(self._task, description=message, refresh=self._started)

    def close(self) -> None:
        interrupts.forget(self.close)
        with self._lock:
            self._closed = True
            self._timer.cancel()
            if self._started:
                self._bar.stop()
                self._started = False


def for_stderr(quiet: bool, color: bool, stream: Any = None) -> Progress:
    """Progress for a run: on a terminal stderr unless `quiet`; `color` as for the report."""
    stream = sys.stderr if stream is None else stream
    if quiet or not _is_terminal(stream) or os.environ.get("TERM") == "dumb":
        return Progress()
    return TerminalProgress(stream, color)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
