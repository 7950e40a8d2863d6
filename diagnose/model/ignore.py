"""Ignore entries of the configuration (`[[ignore]]`): which findings a team has decided to
live with, why, and until when.

An entry names a check (id or code), optionally a target glob (`web-*`), a required reason
and an optional expiry date.  The analysis stamps the findings an active entry covers as
suppressed (:class:`~diagnose.model.findings.Suppression`); checks never see the entries and
stay pure.  Whether an entry has expired is decided by the run's own clock, passed in as
`today`.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True)
class IgnoreRule:
    """One `[[ignore]]` entry, validated (`where` names it in messages)."""

    check: str
    reason: str
    target: str = ""
    expires: str = ""
    where: str = "config"

    def expired(self, today: str) -> bool:
        """Has it expired by `today` (YYYY-MM-DD)?  It applies through its expiry day."""
        return bool(self.expires) and self.expires < today

    def covers(self, target: str) -> bool:
        """Does it apply to a finding about `target` (a target key, `engine/name` when the
        run has several engines)?"""
        if not self.target:
            return True
        name = target.rsplit("/", 1)[-1]
        return fnmatch.fnmatchcase(target, self.target) or fnmatch.fnmatchcase(name,
                                                                               self.target)
