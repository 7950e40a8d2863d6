"""Conformance of every built-in check, and the registry's rules (bandit/sos style)."""

from __future__ import annotations

import re
import types

import pytest

from diagnose.analysis.registry import Registry, RegistryError, builtin_modules, load_registry
from diagnose.model.checks import CheckSpec, check
from diagnose.model.findings import Finding, Severity


def test_every_builtin_check_conforms():
    reg = load_registry(plugins=False)
    assert len(reg) >= 2
    codes, ids = set(), set()
    for spec in reg:
        assert re.fullmatch(r"D\d{3}", spec.code), spec
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", spec.id), spec
        assert spec.code not in codes and spec.id not in ids
        codes.add(spec.code)
        ids.add(spec.id)
        # The module docstring is the user documentation, headed "CODE: title".
        assert spec.doc.startswith(f"{spec.code}: "), spec.module
        assert "Fix" in spec.doc or "fix" in spec.doc, f"{spec.module} docs say how to fix"
        assert isinstance(spec.severity, Severity)
        assert spec.scope in ("container", "service", "run")


def test_one_check_per_module():
    for module in builtin_modules():
        marked = [v for v in vars(module).values() if hasattr(v, "__diagnose_check__")
                  and v.__diagnose_check__.module == module.__name__]
        assert len(marked) == 1, module.__name__


def _module(name: str, *funcs) -> types.ModuleType:
    mod = types.ModuleType(name, "X001: a test check\n\nFix: nothing.")
    for f in funcs:
        setattr(mod, f.__name__, f)
    return mod


def _spec(code="X001", slug="a-check", scope="container"):
    def func(c):
        """X001: a check.  Fix: nothing."""
        return iter(())

    func.__module__ = "m"
    return check(code, slug, severity=Severity.ERROR, scope=scope)(func).__diagnose_check__


def test_registry_rejects_bad_codes_slugs_and_duplicates():
    with pytest.raises(RegistryError, match="code"):
        Registry([_spec(code="D1")])
    with pytest.raises(RegistryError, match="kebab"):
        Registry([_spec(slug="Not_Kebab")])
    with pytest.raises(RegistryError, match="already defined"):
        Registry([_spec(), _spec(slug="other")])
    with pytest.raises(RegistryError, match="already defined"):
        Registry([_spec(), _spec(code="X002")])


def test_marking_has_no_side_effect_and_the_registry_collects():
    def f(c):
        """X005: fives.  Fix: nothing."""
        yield Finding("t")

    f.__module__ = "plugin_mod"
    marked = check("X005", "fives", severity=Severity.INFO)(f)
    assert marked is f
    spec = f.__diagnose_check__
    assert isinstance(spec, CheckSpec) and spec.stage == "logs"
    mod = _module("plugin_mod", f)
    reg = Registry.from_modules([mod], source="plugin")
    assert [s.id for s in reg] == ["fives"] and reg.get("X005").source == "plugin"
    assert reg.get("fives") is reg.get("x005")


def test_stage_order_then_code():
    reg = load_registry(plugins=False)
    from diagnose.model.checks import STAGE_NAMES

    order = [(STAGE_NAMES.index(s.stage), s.code) for s in reg]
    assert order == sorted(order)
