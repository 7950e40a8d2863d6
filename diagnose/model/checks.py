"""What a check is: the :func:`check` decorator, its :class:`CheckSpec`, and the catalogue's
vocabulary (stages, scopes, code and id shapes, the evidence a check may require).

Pure data: marking a function attaches a frozen spec and has no other effect, so a check
module imports nothing but :mod:`diagnose.api`.  Finding, validating and ordering marked checks
is :mod:`diagnose.analysis.registry`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from diagnose.model.findings import Finding, Severity
from diagnose.model.ignore import IgnoreRule

#: Built-in codes are D + 3 digits; third parties use their own 1-3 letter prefix.
CODE_RE = re.compile(r"^[A-Z]{1,3}[0-9]{3}$")


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


Scope = Literal["container", "run", "service"]


#: Every scope, in the order a run calls them: each container, each Swarm service, the run.
#: (The catalogue itself is ordered by stage, then code: service checks are D51x, `project`.)
SCOPES: tuple[str, ...] = ("container", "service", "run")


#: Decision-tree stages, in the order the tree walks them; built-in code ranges map onto them.
STAGES: tuple[tuple[str, str], ...] = (
    ("exists", "Does it exist, and did it ever start?"),
    ("start", "Why did it not start?"),
    ("exit", "How did it exit?"),
    ("running", "Is it running well?"),
    ("logs", "What do its logs say?"),
    ("project", "Did a service it depends on fail?"),
    ("engine", "Is the engine or host the problem?"),
    ("hygiene", "Security and hygiene"),
)


STAGE_NAMES = tuple(name for name, _ in STAGES)


_STAGE_BY_HUNDRED = {
    0: "exists",
    1: "start",
    2: "exit",
    3: "running",
    4: "logs",
    5: "project",
    6: "engine",
    7: "hygiene",
}


#: Evidence a check may require; a check whose requirement is missing is SKIPPED with a reason.
KNOWN_EVIDENCE = frozenset(
    {
        "inspect",
        "logs",
        "top",
        "processes",
        "image",
        "history",
        "events",
        "diff",
        "stats",
        "networks",
        "mounts",
        "entrypoint",
        "engine",
        "host",
        "probe",
        "runtime",
        # Run scope: one engine collector each (see diagnose.collect.cleanup).
        "engine-version",
        "engine-df",
        "engine-images",
        "engine-containers",
        "engine-volumes",
        "engine-networks",
        # Service scope: one Swarm service's collectors (see diagnose.collect.swarm).
        "service",
        "tasks",
        "nodes",
    }
)


def stage_for_code(code: str) -> str:
    """Map a built-in code to its decision-tree stage (third-party codes: `logs`)."""
    if code.startswith("D") and code[1:].isdigit():
        return _STAGE_BY_HUNDRED.get(int(code[1:]) // 100, "logs")
    return "logs"


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """Metadata attached to a check function by :func:`check`."""

    code: str
    id: str
    severity: Severity
    title: str
    scope: Scope
    requires: tuple[str, ...]
    stage: str
    func: Callable[..., Iterable[Finding]]
    module: str
    source: str = "builtin"
    #: Why this run leaves the check out (`deselected by --skip`): the runner records it as
    #: SKIPPED with this reason instead of calling it.
    deselected: str = ""
    #: The active `[[ignore]]` entries for this check: the runner marks the findings they
    #: cover as suppressed.
    ignores: tuple[IgnoreRule, ...] = ()

    @property
    def doc(self) -> str:
        """The check's user documentation: its module docstring (then its own)."""
        mod = inspect.getmodule(self.func)
        text = (mod.__doc__ if mod is not None else None) or self.func.__doc__ or ""
        return inspect.cleandoc(text)


_MARK = "__diagnose_check__"


def check(
    code: str,
    id: str,  # noqa: A002 - the public name of the field is "id"
    *,
    severity: Severity,
    requires: Iterable[str] = ("inspect",),
    scope: Scope = "container",
    stage: str | None = None,
) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    """Mark a function as a check.  Marking has no side effect beyond one attribute.

    `requires` names evidence the check reads; when any is missing the engine records the check
    as skipped (with the collector's reason) instead of calling it.
    """

    def mark(func: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        first_line = (inspect.getdoc(inspect.getmodule(func)) or func.__doc__ or "").strip()
        title = first_line.splitlines()[0] if first_line else id
        title = re.sub(r"^[A-Z]{1,3}[0-9]{3}\s*[:\-]\s*", "", title)
        spec = CheckSpec(
            code=code,
            id=str(id),  # a Cause names it: the spec keeps the plain string
            severity=severity,
            title=title,
            scope=scope,
            requires=tuple(requires),
            stage=stage or stage_for_code(code),
            func=func,
            module=func.__module__,
        )
        setattr(func, _MARK, spec)
        return func

    return mark


def spec_of(obj: object) -> CheckSpec | None:
    """The spec :func:`check` attached to `obj`, if it is a marked check."""
    spec = getattr(obj, _MARK, None)
    return spec if isinstance(spec, CheckSpec) else None
