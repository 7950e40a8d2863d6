"""A container that ended because the engine or the host went down (issue 16).

Measured on a private dockerd (docs/taxonomy-notes.md, section 9): when the engine stops
gracefully (`systemctl stop docker`, a host shutdown) it stops every container with its stop
timeout, so a PID 1 that ignores SIGTERM ends 137 and one that dies of it 143, at about the
time the engine went down; when the engine and its containerd are killed (a crash, a power
loss) the new engine finds the container dead on restore and records exit **255** with
`FinishedAt` at its own start; when dockerd alone crashes the new engine stops the
survivors itself (137/143, `FinishedAt` just after its start).  `State.Error` stays empty, the
engine's events do not survive its restart, and the Engine API has no start time: diagnose
reads the local dockerd's start time from the host (engine/process.json).
Pure functions of one container's evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.readings.lifecycle import run_end_recorded
from diagnose.model.times import parse_time

#: How long after the engine's start it may still set FinishedAt while restoring containers
#: (it waits a stop timeout, 10 s by default, for the ones it stops itself).
RESTORE_WINDOW = 60.0
#: How long before the engine's start a container may have ended in its shutdown and still be
#: taken for a victim of it (a quick restart; after a reboot the gap is longer: not claimed).
SHUTDOWN_WINDOW = 300.0


@dataclass(frozen=True)
class EngineRestart:
    """How the engine's going away ended the container.

    `how` is `crash` (255 recorded by the new engine at its start: engine and containerd were
    killed, or the power went), `restore` (137/143 set by the new engine stopping a survivor
    just after its start) or `shutdown` (137/143 shortly before the engine started again,
    with no `die` event left: the old engine's stop).  `gap` is FinishedAt minus the engine's
    start, in seconds."""

    how: str
    engine_started: float
    finished: float

    @property
    def gap(self) -> float:
        """FinishedAt - engine start (negative: it ended before the engine started)."""
        return self.finished - self.engine_started


def engine_restart(c: ContainerEvidence) -> EngineRestart | None:
    """The engine restart that ended the latest run, when the evidence shows one."""
    return c.derived("engine_restart", _engine_restart)


def _engine_restart(c: ContainerEvidence) -> EngineRestart | None:
    started = c.engine.started_at
    code = c.exit_code
    if started is None or c.status != "exited" or c.state.get("Error") or code not in (
            255, 137, 143):
        return None
    if str((c.host_config.get("RestartPolicy") or {}).get("Name") or "no") != "no":
        return None  # the engine starts such a container again after its restart
    end = parse_time(c.state.get("FinishedAt"))
    if end is None:
        return None
    begun = parse_time(c.state.get("StartedAt"))
    found = EngineRestart("", started, end.timestamp())
    gap = found.gap
    # Ended by the new engine: the run began under the old one, and ended at the new one's
    # start (restored dead: 255; stopped on restore: 137/143).
    if 0 <= gap <= RESTORE_WINDOW and begun is not None and begun.timestamp() < started:
        return EngineRestart("crash" if code == 255 else "restore", started, found.finished)
    if code == 255:
        return None
    if -SHUTDOWN_WINDOW <= gap < 0 and not run_end_recorded(c):
        return EngineRestart("shutdown", started, found.finished)
    return None
