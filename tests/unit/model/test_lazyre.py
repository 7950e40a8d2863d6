"""diagnose.model.lazyre: a deferred pattern behaves like the compiled one, and compiles once."""

from __future__ import annotations

import re

from diagnose.model.lazyre import lazy_compile


def test_behaves_like_the_compiled_pattern():
    lazy = lazy_compile(r"(?P<k>\w+)=(\d+)", re.IGNORECASE)
    real = re.compile(r"(?P<k>\w+)=(\d+)", re.IGNORECASE)
    text = "a=1 B=22 c=x"
    assert lazy.pattern == real.pattern
    assert [m.groups() for m in lazy.finditer(text)] == [m.groups() for m in real.finditer(text)]
    assert lazy.sub("<\\g<k>>", text) == real.sub("<\\g<k>>", text)
    assert lazy.search(text).group("k") == "a"
    assert lazy.match("zz") is None
    assert lazy.flags == real.flags


def test_compiles_on_first_use_only():
    lazy = lazy_compile(r"x+")
    assert lazy._compiled is None  # type: ignore[attr-defined]
    assert lazy.pattern == "x+" and lazy._compiled is None  # type: ignore[attr-defined]
    lazy.search("xx")
    first = lazy._compiled  # type: ignore[attr-defined]
    lazy.search("xxx")
    assert first is not None and lazy._compiled is first  # type: ignore[attr-defined]


def test_after_first_use_a_method_is_the_compiled_patterns_own():
    """No stand-in code runs on later calls: the method is the compiled pattern's, kept."""
    lazy = lazy_compile(r"y+")
    assert lazy.sub("-", "ayyb") == "a-b"
    compiled = lazy._compiled  # type: ignore[attr-defined]
    assert lazy.sub == compiled.sub and lazy.sub.__self__ is compiled
    assert lazy.search.__self__ is compiled and lazy.split("ayb") == ["a", "b"]


def test_asking_for_what_no_pattern_has_does_not_compile():
    """The check registry probes every value of a check module for its mark: a pattern
    among them stays uncompiled until a check uses it."""
    lazy = lazy_compile(r"z+")
    assert getattr(lazy, "__diagnose_check__", None) is None
    assert not hasattr(lazy, "no_such_attribute")
    assert lazy._compiled is None  # type: ignore[attr-defined]
    assert lazy.groups == 0 and lazy._compiled is not None  # type: ignore[attr-defined]
