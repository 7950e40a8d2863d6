"""Every cause a reading names is a registered check; every category no check claims is not.

Readings and checks talk through :class:`~diagnose.model.causes.Cause` instead of bare strings:
a renamed check, or a reading that names a check that does not exist, fails here.
"""

from __future__ import annotations

from diagnose.evidence.readings.exit import LOG_PATTERNS
from diagnose.evidence.readings.log_signatures import PRIORITY, SIGNATURES
from diagnose.evidence.readings.start import START_CHECKED, START_ERROR_PATTERNS
from diagnose.model.causes import Cause, Unclaimed
from tests.support.evidence import registry

IDS = {spec.id for spec in registry()}


def test_every_cause_is_a_registered_check():
    assert {c.value for c in Cause} - IDS == set()


def test_no_unclaimed_category_is_a_check():
    assert {u.value for u in Unclaimed} & IDS == set()


def test_what_the_readings_name_is_typed():
    named = [category for category, _ in START_ERROR_PATTERNS]
    named += [*START_CHECKED, *SIGNATURES, *PRIORITY, *LOG_PATTERNS]
    named += [s.slug for s in SIGNATURES.values()]
    assert all(isinstance(n, Cause | Unclaimed) for n in named), named
    assert all(slug == sig.slug for slug, sig in SIGNATURES.items())


def test_a_cause_is_its_id_wherever_a_string_is():
    assert Cause.OOM_KILLED == "oom-killed" and f"{Cause.OOM_KILLED}" == "oom-killed"
    assert {"oom-killed": 1}[Cause.OOM_KILLED] == 1
    assert registry().get(Cause.OOM_KILLED).code == "D201"  # type: ignore[union-attr]
