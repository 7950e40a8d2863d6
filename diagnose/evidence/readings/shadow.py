"""A mount that hides what the image put at its destination (issue 16).

A bind mount or a volume over `/app` (or `/app/node_modules`) replaces the image's directory:
the entrypoint, the application or its dependencies are gone from the container's view, and
the program fails as if they had never been built in (`exec: "/app/start.sh": stat ...: no
such file or directory`, Node's `Error: Cannot find module 'express'`, Python's `can't open
file '/app/main.py'`).  An empty *named* volume is filled from the image on first use, so it
only hides content when it already held something (an older image's `node_modules`).

What the program missed comes from State.Error, the exec failure or its last words; the mount
from inspect's Mounts; the image side from the image's history (the COPY/ADD steps and the
package installs that wrote at or above the mount's destination) and its own entrypoint.
Pure functions of one container's evidence.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.logs import LogLine, last_with_text
from diagnose.evidence.readings.exec_failure import exec_diagnosis
from diagnose.evidence.readings.lifecycle import latest_run_lines
from diagnose.evidence.readings.log_facts import MountHit, mount_for, mount_kind
from diagnose.evidence.readings.start import start_failure
from diagnose.model.causes import Cause
from diagnose.model.lazyre import lazy_compile

_EXEC_PATH = lazy_compile(r'exec: "(/[^"]+)"')
_NODE_MISSING = lazy_compile(r"Error: Cannot find module '([^']+)'")
_REQUIRE_STACK = lazy_compile(r"^\s*-\s+(/\S+)")
_PY_MISSING = lazy_compile(r"can't open file '(/[^']+)': \[Errno 2\]")
_COPY = lazy_compile(r"\b(?:COPY|ADD)\b(?:\s+--\S+)*\s+.*?(\S+)\s*(?:# buildkit)?\s*$")
_WORKDIR = lazy_compile(r"\bWORKDIR\s+(\S+)")
_INSTALL = lazy_compile(r"\b(?:npm|yarn|pnpm)\s+(?:install|ci|i)\b")


@dataclass(frozen=True)
class Shadow:
    """What a mount hides: the path the program missed, how that showed, the mount, and the
    image's steps that wrote there (`exact`: at or under the mount's destination, or the
    image's own entrypoint lives there; otherwise only above it)."""

    path: str
    said: str
    line: LogLine | None
    mount: MountHit
    steps: tuple[str, ...]
    exact: bool


def _under(path: str, top: str) -> bool:
    top = top.rstrip("/") or "/"
    return path == top or path.startswith(top + "/") or top == "/"


def _missing_from_logs(c: ContainerEvidence) -> tuple[str, str, LogLine] | None:
    lines = last_with_text(latest_run_lines(c), 40)
    for i in range(len(lines) - 1, -1, -1):
        text = lines[i].text
        m = _PY_MISSING.search(text)
        if m:
            return m.group(1), text.strip(), lines[i]
        m = _NODE_MISSING.search(text)
        if m:
            return _node_path(c, m.group(1), lines[i + 1:i + 6]), text.strip(), lines[i]
    return None


def _node_path(c: ContainerEvidence, module: str, after: Sequence[LogLine]) -> str:
    """Where Node looked for `module`: next to the file that required it (its Require stack),
    or in the working directory."""
    requirer = next((m.group(1) for ln in after if (m := _REQUIRE_STACK.search(ln.text))), "")
    base = posixpath.dirname(requirer) if requirer else str(c.config.get("WorkingDir") or "/")
    if module.startswith("/"):
        return module
    if module.startswith("."):
        return posixpath.normpath(posixpath.join(base, module))
    return posixpath.join(base, "node_modules", module)


def _missing(c: ContainerEvidence) -> tuple[str, str, LogLine | None] | None:
    sf = start_failure(c)
    if sf is not None:
        m = _EXEC_PATH.search(sf.error)
        if sf.category == Cause.ENTRYPOINT_NOT_FOUND and m:
            return m.group(1), sf.error, None
        return None
    ed = exec_diagnosis(c)
    if ed is not None:
        if ed.cause == Cause.ENTRYPOINT_NOT_FOUND and ed.path.startswith("/"):
            return ed.path, ed.line.text.strip(), ed.line
        return None
    return _missing_from_logs(c)


def image_steps(c: ContainerEvidence, dest: str) -> tuple[tuple[str, ...], bool]:
    """The history steps that wrote at, under or above `dest` (oldest first), and whether one
    wrote at or under it."""
    steps: list[str] = []
    exact = False
    workdir = "/"
    for layer in reversed(c.history):
        step = " ".join(str(layer.get("CreatedBy") or "").split())
        target = ""
        if m := _WORKDIR.search(step):
            workdir = posixpath.join(workdir, m.group(1))
            continue
        if m := _COPY.search(step):
            target = posixpath.join(workdir, m.group(1))
        elif _INSTALL.search(step):
            target = posixpath.join(workdir, "node_modules")
        if not target:
            continue
        target = posixpath.normpath(target)
        if _under(target, dest):
            steps.append(step)
            exact = True
        elif target != "/" and _under(dest, target):
            # A step that wrote into `/` says nothing about one directory below it.
            steps.append(step)
    return tuple(steps), exact


def shadowed(c: ContainerEvidence) -> Shadow | None:
    """The mount that hides what the program missed, when the image put something there."""
    return c.derived("shadowed", _shadowed)


def _shadowed(c: ContainerEvidence) -> Shadow | None:
    # Only a bind mount or a volume hides what the image put there (mount_for finds those in
    # inspect's Mounts): without one, no log is read.
    if not any(mount_kind(m) in ("bind", "volume") for m in c.inspect.get("Mounts") or ()):
        return None
    missing = _missing(c)
    if missing is None:
        return None
    path, said, line = missing
    mount = mount_for(c, path)
    if mount.kind not in ("bind", "volume"):
        return None
    steps, exact = image_steps(c, mount.destination)
    entry = [str(x) for x in (c.image.get("Config") or {}).get("Entrypoint") or ()]
    if entry and entry[0].startswith("/") and _under(entry[0], mount.destination):
        exact = True
        steps = (*steps, f"ENTRYPOINT {entry[0]} (the image's own)")
    if not steps:
        return None
    return Shadow(path, said, line, mount, steps, exact)
