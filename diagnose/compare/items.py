"""One side's comparable fields, and how two sides' fields become differences.

Every category reads each side into the same shape, an ordered mapping of field name ->
:class:`Item` (what is shown, what is compared, where in the evidence it is); :func:`differ`
compares the two mappings.  Values are redacted evidence: a secret is a placeholder
(`[redacted-3]`), the same secret the same placeholder within one redaction.  So two sides
redacted together (two live containers, or two containers of one bundle) compare their
placeholders exactly; sides redacted apart (two bundles) cannot tell two placeholders apart,
and what differs only there is listed as not compared rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from diagnose.model.diff import Category, Change, Difference, Unknown
from diagnose.model.findings import Evidence

#: The placeholder redaction writes (diagnose.redact.values.PLACEHOLDER_RE; a stage cannot
#: import a sibling stage, tests/unit/compare checks the two agree).
PLACEHOLDER = re.compile(r"\[redacted-\d+\]")

#: What a secret's value is shown as, on either side.
REDACTED = "(redacted)"


@dataclass(frozen=True)
class Item:
    """One field of one side: `shown` as reports print it, `same` what is compared (default:
    `shown`), `file`/`pointer` where it is in the side's evidence (a bundle path and an RFC
    6901 pointer), `subjects` the names a finding may use for it, `secret` when its value is
    never printed."""

    shown: str
    same: str | None = None
    file: str = ""
    pointer: str = ""
    subjects: tuple[str, ...] = ()
    secret: bool = False

    @property
    def key(self) -> str:
        """What is compared."""
        return self.shown if self.same is None else self.same

    def evidence(self) -> tuple[Evidence, ...]:
        """Where this field is in its side's evidence (none when it has no place)."""
        if not self.file:
            return ()
        return (Evidence(self.file, self.pointer or None,
                         excerpt=REDACTED if self.secret else self.shown),)


Fields = Mapping[str, Item]


def escape_pointer(token: str) -> str:
    """One RFC 6901 reference token (`80/tcp` -> `80~1tcp`)."""
    return token.replace("~", "~0").replace("/", "~1")


def same(a: Item, b: Item, together: bool) -> bool | None:
    """Are two fields equal?  None: cannot tell (they differ only in placeholders of two
    separate redactions, or are one placeholder text that may stand for two secrets)."""
    ka, kb = a.key, b.key
    redacted = bool(PLACEHOLDER.search(ka) or PLACEHOLDER.search(kb))
    if together or not redacted:
        return ka == kb
    if PLACEHOLDER.sub("[redacted]", ka) != PLACEHOLDER.sub("[redacted]", kb):
        return False  # they differ outside what redaction hid
    return None


def differ(category: Category, a: Fields, b: Fields, together: bool,
           reason: str = "") -> tuple[list[Difference], list[Unknown]]:
    """The differences between two sides' fields of one category, in A's order then B's."""
    found: list[Difference] = []
    unknown: list[Unknown] = []
    for name in dict.fromkeys([*a, *b]):
        ia, ib = a.get(name), b.get(name)
        if ia is not None and ib is not None:
            equal = same(ia, ib, together)
            if equal:
                continue
            if equal is None:
                unknown.append(Unknown(category, name, "redacted on both sides by separate "
                                       "runs: whether it changed cannot be told"))
                continue
            change = Change.CHANGED
        else:
            change = Change.ADDED if ia is None else Change.REMOVED
        either = ia if ia is not None else ib
        assert either is not None
        found.append(Difference(
            category, name, change, shown(ia), shown(ib), reason,
            evidence_a=ia.evidence() if ia is not None else (),
            evidence_b=ib.evidence() if ib is not None else (),
            subjects=tuple(dict.fromkeys([*(ia.subjects if ia else ()),
                                          *(ib.subjects if ib else ())])),
            pointers=tuple(dict.fromkeys(i.pointer for i in (ia, ib)
                                         if i is not None and i.pointer)),
            secret=bool((ia and ia.secret) or (ib and ib.secret))))
    return found, unknown


def shown(item: Item | None) -> str | None:
    """A field as reports show it: None when not set, never a secret's value."""
    if item is None:
        return None
    return REDACTED if item.secret else item.shown
