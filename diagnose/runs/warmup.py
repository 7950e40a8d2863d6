"""Work that needs no engine, done while the engine is being asked.

Importing the pipeline and the check catalogue and compiling the report templates are pure
CPU; the engine calls of a run are mostly waiting on a socket.  A warm-up thread does the
former during the latter, and the run collects the results where it first needs them.  The
imports below are inside the thread's function on purpose: that is the warm-up.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from diagnose.model.ignore import IgnoreRule

if TYPE_CHECKING:  # a type only: the registry's module is what the thread loads
    from diagnose.analysis.registry import Registry


class Warmup:
    """Load the pipeline and check registry, then the report templates, on a background
    thread."""

    def __init__(self, plugins: bool, skip: tuple[str, ...] = (),
                 only: tuple[str, ...] = (), ignores: tuple[IgnoreRule, ...] = (),
                 today: str = "") -> None:
        self._plugins, self._skip, self._only = plugins, skip, only
        self._ignores, self._today = ignores, today
        self._registry: Registry | None = None
        self._error: BaseException | None = None
        self._registry_ready = threading.Event()
        threading.Thread(target=self._run, name="warmup", daemon=True).start()

    def _run(self) -> None:
        from diagnose.analysis.registry import registry_for  # startup: the warm-up itself

        try:
            self._registry = registry_for(self._plugins, self._skip, self._only,
                                          self._ignores, self._today)
        except BaseException as exc:  # handed to the caller of registry()
            self._error = exc
        finally:
            self._registry_ready.set()
        try:
            import diagnose.pipeline.publish  # noqa: F401  # startup: the report/archive tail
            from diagnose.render import warm_templates  # startup: the warm-up itself

            warm_templates()
        except Exception:  # rendering reports the same error, where it can say so
            pass

    def registry(self) -> Registry:
        """The registry (waits for the warm-up to have loaded it)."""
        self._registry_ready.wait()
        if self._error is not None:
            raise self._error
        assert self._registry is not None
        return self._registry
