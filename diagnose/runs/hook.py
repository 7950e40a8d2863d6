"""The `diagnose watch --exec CMD` hook: run a command for each incident (page someone, upload
the bundle) with what happened in its environment.

No shell is involved: CMD was split into argv with shlex by the CLI, and the incident's
values (container name, verdict, bundle path: all of them could come from a container's
owner) reach the command only as environment variables, never as words of a command line.
The hook runs on a thread of its own, in a session of its own, with its stdout sent to
stderr (stdout carries the incident lines); one that fails is reported, one that hangs is
killed (its whole process group) after the timeout; neither stops the watch.  When the watch
stops, hooks still running are killed too (nothing would bound them any more).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from diagnose.model.options import Progress

#: Environment variable -> field of the incident record.
VARIABLES = {
    "DIAGNOSE_BUNDLE": "bundle", "DIAGNOSE_VERDICT": "verdict", "DIAGNOSE_CODE": "code",
    "DIAGNOSE_SEVERITY": "severity", "DIAGNOSE_TITLE": "title", "DIAGNOSE_CONTAINER":
    "container", "DIAGNOSE_CONTAINER_ID": "id", "DIAGNOSE_INCIDENT": "incident",
    "DIAGNOSE_EXIT_CODE": "exit_code", "DIAGNOSE_TIME": "time", "DIAGNOSE_RUNS": "runs",
}


def hook_env(record: Mapping[str, Any], base: Mapping[str, str]) -> dict[str, str]:
    """The hook's environment: ours plus the incident's DIAGNOSE_* variables."""
    env = dict(base)
    for var, key in VARIABLES.items():
        value = record.get(key)
        env[var] = "" if value is None else str(value).replace("\0", "")
    return env


def run_hook(argv: Sequence[str], record: Mapping[str, Any], timeout: float,
             say: Progress) -> threading.Thread:
    """Start the hook for one incident on its own thread (returned, for tests to join)."""
    thread = threading.Thread(target=_run, args=(list(argv), hook_env(record, os.environ),
                                                 timeout, say), daemon=True, name="watch-hook")
    thread.start()
    return thread


#: Hooks running now (their process groups are killed when the watch stops).
_running: set[subprocess.Popen[bytes]] = set()
_lock = threading.Lock()


def running_count() -> int:
    """How many hooks run now."""
    with _lock:
        return len(_running)


def stop_hooks() -> None:
    """Kill every hook still running (the watch is stopping: nobody would bound them)."""
    with _lock:
        for proc in _running:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, signal.SIGKILL)


def _run(argv: list[str], env: dict[str, str], timeout: float, say: Progress) -> None:
    try:
        with _lock:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=2,
                                    start_new_session=True)
            _running.add(proc)
    except OSError as exc:
        say(f"warning: --exec {argv[0]}: cannot run it: {exc.strerror or exc}")
        return
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        say(f"warning: --exec {argv[0]}: still running after {timeout:g} s; killed")
        return
    finally:
        with _lock:
            _running.discard(proc)
    if code != 0:
        say(f"warning: --exec {argv[0]}: exited {code}")
