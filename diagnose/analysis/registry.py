"""Finding checks: the built-in package scan, third-party entry points, validation and order.

A :class:`Registry` *collects* functions marked with :func:`diagnose.model.checks.check`
from the modules it is given.  Built-ins are found by scanning the `diagnose.checks` package;
third-party checks come from the entry-point group `diagnose.checks`.  A plugin that fails to
load becomes a :class:`LoadProblem` and the run goes on.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import importlib.metadata
import os
import pkgutil
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import Any, NamedTuple

from diagnose.model.checks import (
    CODE_RE,
    KNOWN_EVIDENCE,
    SCOPES,
    SLUG_RE,
    STAGE_NAMES,
    CheckSpec,
    Scope,
    spec_of,
)
from diagnose.model.errors import UsageError
from diagnose.model.ignore import IgnoreRule

ENTRY_POINT_GROUP = "diagnose.checks"


BUILTIN_PACKAGE = "diagnose.checks"


class LoadProblem(NamedTuple):
    """A plugin or check module that could not be loaded or validated, or a configuration
    entry that no longer applies (`kind` says which)."""

    source: str
    message: str
    kind: str = "plugin"

    def line(self) -> str:
        """How progress and warnings say it: `plugin acme==1.0 [x]: failed to load: ...`."""
        return f"{self.kind} {self.source}: {self.message}" if self.kind else \
            f"{self.source}: {self.message}"


class RegistryError(ValueError):
    """A check failed validation (bad code, duplicate id...)."""


def _specs_in(module: ModuleType) -> Iterator[CheckSpec]:
    for value in vars(module).values():
        spec = spec_of(value)
        if spec is not None and spec.module == module.__name__:
            yield spec


def validate(spec: CheckSpec) -> None:
    """Reject a malformed spec, naming the check."""
    where = f"{spec.module} [{spec.code}]"
    if not CODE_RE.match(spec.code):
        raise RegistryError(f"{where}: code must be 1-3 capitals and 3 digits (e.g. D201)")
    if not SLUG_RE.match(spec.id):
        raise RegistryError(f"{where}: id {spec.id!r} must be kebab-case")
    unknown = set(spec.requires) - KNOWN_EVIDENCE
    if unknown:
        raise RegistryError(f"{where}: requires unknown evidence {sorted(unknown)}")
    if spec.scope not in SCOPES:
        raise RegistryError(f"{where}: unknown scope {spec.scope!r} (one of {', '.join(SCOPES)})")
    if spec.stage not in STAGE_NAMES:
        raise RegistryError(f"{where}: unknown stage {spec.stage!r}")
    if not spec.doc:
        raise RegistryError(f"{where}: a check needs a docstring (it is the check's user docs)")


class Registry:
    """An ordered, validated set of checks (tree stage order, then code)."""

    def __init__(self, specs: Iterable[CheckSpec] = (), problems: Iterable[LoadProblem] = ()):
        self._by_code: dict[str, CheckSpec] = {}
        self._by_id: dict[str, CheckSpec] = {}
        self.problems: list[LoadProblem] = list(problems)
        for spec in specs:
            self.add(spec)

    def add(self, spec: CheckSpec) -> None:
        """Validate and add one check; duplicates are errors naming both sides."""
        validate(spec)
        for index, key in ((self._by_code, spec.code), (self._by_id, spec.id)):
            other = index.get(key)
            if other is not None:
                raise RegistryError(f"{spec.module}: {key} is already defined by {other.module}")
        self._by_code[spec.code] = spec
        self._by_id[spec.id] = spec

    def __iter__(self) -> Iterator[CheckSpec]:
        return iter(sorted(self._by_code.values(), key=_order))

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, key: str) -> CheckSpec | None:
        """Look a check up by id (slug) or code."""
        return self._by_id.get(key) or self._by_code.get(key.upper())

    def suggest(self, key: str, limit: int = 3) -> list[str]:
        """The checks a person who typed `key` probably meant: ids and codes containing it
        (shortest first), then ids and codes within a typo of it."""
        names = {n.lower(): n for s in self for n in (s.id, s.code)}
        low = key.strip().lower()
        containing = sorted((n for n in names if low and low in n), key=lambda n: (len(n), n))
        close = difflib.get_close_matches(low, list(names), n=limit, cutoff=0.6)
        return [names[n] for n in dict.fromkeys([*containing[:limit], *close])][:limit]

    def resolve(self, key: str, where: str = "") -> CheckSpec:
        """The check `key` names (an id or a code); a usage error that suggests close matches
        when there is none (`where`: what named it, e.g. `--skip`)."""
        spec = self.get(key.strip())
        if spec is not None:
            return spec
        close = self.suggest(key)
        raise UsageError(f"{where}{': ' if where else ''}no check {key!r}",
                         f"did you mean {', '.join(close)}?" if close else
                         "`diagnose checks` lists them")

    def select(self, skip: Iterable[str] = (), only: Iterable[str] = ()) -> Registry:
        """This registry with the checks `--only` leaves out and those `--skip` names marked
        deselected (ids or codes; an unknown one is a usage error suggesting close matches).
        Deselected checks stay listed: the run records them as skipped, with the reason."""
        skipped = {self.resolve(k, "--skip").code for k in skip}
        wanted = {self.resolve(k, "--only").code for k in only}
        if not skipped and not wanted:
            return self
        specs = []
        for spec in self:
            why = ("deselected by --skip" if spec.code in skipped else
                   "deselected by --only" if wanted and spec.code not in wanted else "")
            specs.append(dataclasses.replace(spec, deselected=why) if why else spec)
        return Registry(specs, self.problems)

    def ignoring(self, rules: Iterable[IgnoreRule], today: str) -> Registry:
        """This registry with the `[[ignore]]` entries that are still active on `today`
        (YYYY-MM-DD) attached to their checks; an expired entry no longer applies and is
        reported as a problem of the run; one naming no check is a usage error."""
        active: dict[str, list[IgnoreRule]] = {}
        problems = list(self.problems)
        for rule in rules:
            try:
                spec = self.resolve(rule.check)
            except UsageError as exc:
                raise UsageError(f"{rule.where}: {exc.message}", exc.hint) from None
            if rule.expired(today):
                problems.append(LoadProblem(rule.where, (
                    f"the ignore entry for {spec.code} {spec.id}"
                    f"{' on ' + rule.target if rule.target else ''} expired on {rule.expires}"
                    f" and no longer applies (reason was: {rule.reason})"), kind=""))
            else:
                active.setdefault(spec.code, []).append(rule)
        if not active and len(problems) == len(self.problems):
            return self
        return Registry([dataclasses.replace(s, ignores=tuple(active[s.code]))
                         if s.code in active else s for s in self], problems)

    def scoped(self, scope: Scope) -> list[CheckSpec]:
        """The checks of one scope, in order."""
        return [s for s in self if s.scope == scope]

    @classmethod
    def from_modules(cls, modules: Iterable[ModuleType], source: str = "builtin") -> Registry:
        """Collect the marked checks from `modules`."""
        reg = cls()
        for module in modules:
            for spec in _specs_in(module):
                reg.add(_with_source(spec, source))
        return reg


def _order(spec: CheckSpec) -> tuple[int, str]:
    return (STAGE_NAMES.index(spec.stage), spec.code)


def _with_source(spec: CheckSpec, source: str) -> CheckSpec:
    return spec if spec.source == source else dataclasses.replace(spec, source=source)


def builtin_modules() -> list[ModuleType]:
    """Import every module of the built-in check package (a package scan, no globbing)."""
    package = importlib.import_module(BUILTIN_PACKAGE)
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.ispkg)
    return [importlib.import_module(f"{BUILTIN_PACKAGE}.{name}") for name in names]


def _plugin_modules(
    entry_points: Iterable[importlib.metadata.EntryPoint],
) -> Iterator[tuple[str, ModuleType | Any, LoadProblem | None]]:
    for ep in entry_points:
        dist = getattr(ep, "dist", None)
        label = f"{dist.name}=={dist.version}" if dist is not None else ep.value
        label = f"{label} [{ep.name}]"
        try:
            yield label, ep.load(), None
        except Exception as exc:  # a broken plugin must never sink the run
            yield label, None, LoadProblem(label, f"failed to load: {type(exc).__name__}: {exc}")


def load_registry(plugins: bool = True) -> Registry:
    """Built-in checks plus (unless disabled) third-party ones from entry points."""
    reg = Registry.from_modules(builtin_modules())
    if not plugins:
        return reg
    eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    for label, obj, problem in _plugin_modules(sorted(eps, key=lambda e: e.name)):
        if problem is not None:
            reg.problems.append(problem)
            continue
        specs = list(_specs_in(obj)) if isinstance(obj, ModuleType) else []
        marked = spec_of(obj)
        if marked is not None:
            specs.append(marked)
        if not specs:
            reg.problems.append(LoadProblem(label, "no @check-marked function found"))
        for spec in specs:
            try:
                reg.add(_with_source(spec, label))
            except RegistryError as exc:
                reg.problems.append(LoadProblem(label, str(exc)))
    return reg


def registry_for(plugins: bool, skip: Iterable[str] = (), only: Iterable[str] = (),
                 ignores: Iterable[IgnoreRule] = (), today: str = "") -> Registry:
    """The check registry (plugins may be disabled by flag or DIAGNOSE_NO_PLUGINS=1), with
    the checks `skip` names and those `only` leaves out deselected (:meth:`Registry.select`)
    and the `ignores` active on `today` attached (:meth:`Registry.ignoring`)."""
    if os.environ.get("DIAGNOSE_NO_PLUGINS", "") not in ("", "0"):
        plugins = False
    return load_registry(plugins=plugins).select(skip, only).ignoring(ignores, today)
