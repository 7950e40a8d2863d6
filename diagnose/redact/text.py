"""Redaction of strings: placeholders, learned values, rules, and the report of what went.

:class:`TextRedactor` holds what one bundle's redaction knows (placeholders, the learned
values, the weak values and where they stood, counts per rule and file) and redacts one
string at a time: the text rules of :mod:`diagnose.redact.rules`, the user's RE2 patterns,
then every learned value as a whole token.  :class:`diagnose.redact.redactor.Redactor` builds
on it to read documents (JSON by field name, command lines by option, logs line by line).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from diagnose.model.walk import visible, walk_strings
from diagnose.redact import rules as rr
from diagnose.redact import values as rv
from diagnose.redact.memo import CleanMemo
from diagnose.redact.rules import name_strength, secret_name
from diagnose.redact.scan import NO_PREFIX_GATE, NO_PREFIX_MIN, Hit, pem_spans
from diagnose.redact.user import compile_patterns
from diagnose.redact.values import PLACEHOLDER_RE

_NAME_MAX = 128  # characters of a name recorded with a weak value
_CLEAN_MAX_LEN = 4096
_CLEAN_MAX_ENTRIES = 50_000


def _ascii_lower(s: str) -> str:
    """`s` lower-cased with its length kept (positions in it are positions in `s`)."""
    low = s.lower()
    if len(low) == len(s):
        return low
    return "".join(c.lower() if c.isascii() else c for c in s)


class TextRedactor:
    """Stateful within one bundle: placeholders, learned secrets, weak values and per-file
    counts; redaction of strings.  :class:`diagnose.redact.redactor.Redactor` adds documents."""

    def __init__(self, enabled: bool = True, extra_patterns: Iterable[str] = (),
                 extra_names: Iterable[str] = ()) -> None:
        self.enabled = enabled
        self._placeholders: dict[str, str] = {}  # secret value -> placeholder
        self._spread: dict[str, str] = {}  # value or variant searched everywhere -> placeholder
        self.counts: Counter[tuple[str, str]] = Counter()
        patterns = tuple(extra_patterns)
        self._extra = compile_patterns(patterns) if enabled and patterns else []
        self._names = tuple(n for n in extra_names if n)
        self._tokens = rv.TokenSet()  # the keys of _spread, as whole tokens
        self._quiet = 0  # > 0: nothing is counted (pre-scans, report scrubbing)
        self._learning = 0  # > 0: only learn, output is thrown away (no spreading)
        self._offset = 0  # placeholder numbers already used by the input (re-redaction)
        self._frozen = 0  # > 0: replace, but learn nothing new (everything is written)
        # Strings that came out of text() unchanged while the learned values were the same:
        # a fleet's inspect documents and reports repeat most of their strings (image names,
        # paths, field values), and a clean string stays clean until a value is learned.
        self._clean: CleanMemo[str] = CleanMemo(_CLEAN_MAX_ENTRIES, _CLEAN_MAX_LEN)
        # Weak values (never written anywhere) and where they stood, per file.
        self._weak_values: set[str] = set()
        self._weak_recorded = 0  # from a bundle's manifest (diagnose analyze)
        self._weak: dict[str, dict[tuple[str, str, str, str], None]] = {}
        self._field = ""  # the JSON key being walked (Env, Cmd, Labels, Test...)
        self._var = ""  # the variable whose value is being read (Env NAME=...)

    # -- placeholders -------------------------------------------------------------------------
    def _replace(self, value: str, rule: str, where: str, learn: bool = True, *, kind: str = "",
                 name: str = "", user: str = "") -> str:
        if not value or PLACEHOLDER_RE.fullmatch(value):
            return value
        if not self._quiet:
            self.counts[(rule, where)] += 1
        ph = self._placeholders.get(value)
        if ph is None:
            ph = f"[redacted-{self._offset + len(self._placeholders) + 1}]"
            self._placeholders[value] = ph
        why = rv.weak_reason(value)
        if why:
            if not self._quiet:
                self._weak_values.add(value)
                if kind:
                    key = (kind, name or self._var, self._field, why)
                    self._weak.setdefault(where, {})[key] = None
        elif learn and not self._frozen and rv.propagates(value):
            self._learn(value, ph, user)
        return ph

    def _learn(self, value: str, ph: str, user: str = "") -> None:
        if value in self._spread and not user:
            return  # known, with all its spellings
        self._spread_as(ph, (value, *rv.variants(value, user)))

    def learn_pair(self, user: str, value: str) -> None:
        """`value`, a secret already replaced (weak or not), as HTTP basic auth spells it with
        `user` (base64 of `user:value`): searched for everywhere, under the same placeholder."""
        ph = self._placeholders.get(value)
        if ph is not None and not self._frozen:
            self._spread_as(ph, rv.pair_spellings(user, value))

    def _spread_as(self, ph: str, spellings: Iterable[str]) -> None:
        """Search for each of `spellings` everywhere (those worth it), replaced by `ph`."""
        for v in spellings:
            if v not in self._spread and rv.propagates(v):
                self._spread[v] = ph
                self._tokens.add(v)

    def reserve_placeholders(self, used: int) -> None:
        """Number placeholders after `used` (re-redacting a bundle that already has some),
        so one placeholder never stands for two different secrets.  Only call this before
        any output was produced: placeholders learned so far are renumbered."""
        if used <= 0:
            return
        shift = {ph: f"[redacted-{int(ph[10:-1]) + used}]"
                 for ph in self._placeholders.values()}
        self._placeholders = {v: shift[p] for v, p in self._placeholders.items()}
        self._spread = {v: shift[p] for v, p in self._spread.items()}
        self._offset += used

    def _secret(self, name: str) -> bool:
        return secret_name(name, self._names)

    def is_secret_name(self, name: str) -> bool:
        """Does `name` (a variable, flag, label or field) look like it holds a secret?"""
        return self._secret(name)

    def secrets(self) -> list[str]:
        """Every value searched for after writing (never printed or stored)."""
        return list(self._spread)

    def report(self) -> list[dict[str, Any]]:
        """Rule, file and count for each redaction (values never included)."""
        return [
            {"rule": rule, "file": where, "count": n}
            for (rule, where), n in sorted(self.counts.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ]

    def weak_count(self) -> int:
        """How many distinct weak values were redacted where they stood only."""
        return len(self._weak_values) + self._weak_recorded

    def summary(self) -> dict[str, Any]:
        """The redaction report of the manifest and the report: enabled, counts per rule and
        file, and (when any) how many weak values were redacted in place only."""
        out: dict[str, Any] = {"enabled": self.enabled, "counts": self.report()}
        if self.weak_count():
            out["weak"] = self.weak_count()
        return out

    def restore_summary(self, recorded: Mapping[str, Any]) -> None:
        """Take over a bundle's recorded redaction report (diagnose analyze reports it)."""
        for c in recorded.get("counts") or ():
            self.counts[(str(c.get("rule", "")), str(c.get("file", "")))] = int(c.get("count", 0))
        weak = recorded.get("weak")
        self._weak_recorded = weak if isinstance(weak, int) and weak > 0 else 0

    def weak_found(self, path: str) -> list[dict[str, str]]:
        """Where weak secrets stood in file `path` (kind, name, field, why; never values)."""
        # Names are written as they are redacted elsewhere (a label name may hold a learned
        # secret), and bounded (a key/value key is an identifier run of any length).
        return [{"kind": k, "name": self.plain(n[:_NAME_MAX]), "field": f, "why": w}
                for k, n, f, w in sorted(self._weak.get(path, {}))]

    @contextlib.contextmanager
    def quiet(self) -> Iterator[None]:
        """Learn and replace without counting (report scrubbing, names)."""
        self._quiet += 1
        try:
            yield
        finally:
            self._quiet -= 1

    @contextlib.contextmanager
    def learning(self) -> Iterator[None]:
        """Only learn: nothing is counted and the output is not used."""
        self._quiet += 1
        self._learning += 1
        try:
            yield
        finally:
            self._quiet -= 1
            self._learning -= 1

    @contextlib.contextmanager
    def _within(self, field: str | None = None, var: str | None = None) -> Iterator[None]:
        """What is being read, for the record of weak values (`Env` / `DATABASE_URL`)."""
        old = self._field, self._var
        self._field = old[0] if field is None else field
        self._var = old[1] if var is None else var
        try:
            yield
        finally:
            self._field, self._var = old

    def plain(self, s: str) -> str:
        """Redact one string without counting (names, messages, the report)."""
        if not self.enabled:
            return s
        with self.quiet():
            return self.text(s, "")

    # -- text ---------------------------------------------------------------------------------
    def text(self, s: str, where: str) -> str:
        """Redact patterns and every already-learned secret in one string."""
        if not self.enabled or not s:
            return s
        if self._clean.known(self.learned(), s):
            return s
        out = self._propagate(self._patterns(s, where), where)
        # While only learning, spreading is skipped: "unchanged" would not mean clean.
        if out == s and not self._learning:
            self._clean.add(self.learned(), s)
        return out

    def learned(self) -> tuple[int, int]:
        """What the redactor has learned, as a stamp that changes whenever it learns a value
        or renumbers its placeholders (a :class:`CleanMemo` forgets then)."""
        return len(self._spread), self._offset

    def _patterns(self, s: str, where: str) -> str:
        if "-----" in s:
            s = self._pem_string(s, where)
        low = s.lower()
        if len(low) != len(s):
            low = _ascii_lower(s)
        found = rr.triggers_in(low)
        applicable = set().union(*(rr.RULES_FOR[f] for f in found)) if found else set()
        if len(s) >= NO_PREFIX_MIN and NO_PREFIX_GATE.search(s):
            applicable |= rr.SELF_RULES
        if not applicable and not self._extra:
            return s
        for index in sorted(applicable):
            rule = rr.TEXT_RULES[index]
            hits = rule.hits(s, low)
            if hits:
                new = self._splice_hits(s, hits, rule, where)
                if new != s:
                    s, low = new, _ascii_lower(new)
        for pattern in self._extra:
            spans = pattern.spans(s)
            if spans:
                s = self._splice_spans(s, spans, "user-pattern", where)
        return s

    def _splice_hits(self, s: str, hits: list[Hit], rule: rr.Rule, where: str) -> str:
        pieces: list[str] = []
        pos = 0
        for h in hits:
            if h.vstart < pos:
                continue
            ph = self._hit(s[h.vstart:h.vend], h, rule, where)
            if ph is None:
                continue
            pieces += (s[pos:h.vstart], ph)
            pos = h.vend
        pieces.append(s[pos:])
        return "".join(pieces)

    def _hit(self, value: str, h: Hit, rule: rr.Rule, where: str) -> str | None:
        """The placeholder for one rule hit, or None when it is not a secret after all."""
        if not value or PLACEHOLDER_RE.fullmatch(value):
            return None
        name = rule.name
        kind = ""
        if rule.gate:
            strength = name_strength(h.key, self._names)
            if strength == 0 or (strength == 1 and not rv.looks_secret(value)):
                return None  # `tests pass: 10`, `auth: ok`, `session: started`
            name = rr.key_value_rule(h.key, value)
            kind = "setting" if self._field else ""
        elif rule.name in ("url-password", "curl-user"):
            kind = "url" if rule.name == "url-password" else "flag"
        learn = rule.learn == "always" or rv.strong(value)
        label = h.key if rule.gate else ("curl -u" if rule.name == "curl-user" else "")
        return self._replace(value, name, where, learn, kind=kind, name=label, user=h.user)

    def _splice_spans(self, s: str, spans: list[tuple[int, int]], rule: str, where: str) -> str:
        pieces: list[str] = []
        pos = 0
        for a, b in spans:
            value = s[a:b]
            if a < pos or PLACEHOLDER_RE.fullmatch(value):
                continue
            pieces += (s[pos:a], self._replace(value, rule, where))
            pos = b
        pieces.append(s[pos:])
        return "".join(pieces)

    def _pem_string(self, s: str, where: str) -> str:
        """PEM private keys inside one string: whole blocks, a block cut at the end of the
        string, and the tail of a block whose BEGIN was cut off."""
        spans = [(a, b) for a, b in pem_spans(s)
                 if s[a:b].strip() and not PLACEHOLDER_RE.fullmatch(s[a:b].strip())]
        return self._splice_spans(s, spans, "pem-private-key", where) if spans else s

    def _propagate(self, s: str, where: str) -> str:
        if self._learning or not self._spread:
            return s  # (spreading while learning learns nothing new)
        found = self._tokens.find(s)
        if not found:
            return s
        spans = rr.protected_spans(s)
        pieces: list[str] = []
        pos = 0
        for a, b, value in found:
            if rr.strictly_inside((a, b), spans):
                continue
            if not self._quiet:
                self.counts[("known-secret", where)] += 1
            pieces += (s[pos:a], self._spread[value])
            pos = b
        pieces.append(s[pos:])
        return "".join(pieces)

    def leaks(self, text: str) -> int:
        """How many learned secrets occur in `text` as whole tokens, outside protected spans
        (the rule :meth:`text` replaces them by)."""
        present = [v for v in self._spread if v in text]  # plain searches first: fast
        if not present:
            return 0
        found = rv.count_tokens(text, present)
        spans = rr.protected_spans(text) if found else []
        return sum(1 for span in found if not rr.strictly_inside(span, spans))

    def replace(self, value: str, rule: str, where: str, learn: bool = True, *, kind: str = "",
                name: str = "", user: str = "") -> str:
        """The placeholder for `value`, learned and counted under `rule` and `where`; a weak
        value found as a `kind` (env, flag, label...) secret called `name` is recorded."""
        return self._replace(value, rule, where, learn, kind=kind, name=name, user=user)

    def spread_values(self) -> list[str]:
        """The learned values searched for everywhere (only while not just learning), as
        substrings to look for: a padded base64 spelling goes with its unpadded one."""
        if self._learning:
            return []
        spread = self._spread
        return [v for v in spread if not (v.endswith("=") and v.rstrip("=") in spread)]

    @property
    def extra_patterns(self) -> list[Any]:
        """The user's patterns (--redact, config file), as :class:`UserPattern`."""
        return self._extra

    # -- reports ------------------------------------------------------------------------------
    def scrub(self, obj: Any) -> Any:
        """Make a report or manifest safe to print: redact every string (uncounted) and show
        control characters as `\\xNN` (dataclasses, dicts, lists are walked).

        The report is built from redacted evidence, so redaction normally changes nothing
        here; it is the guarantee that stdout and the bundle's own documents never carry a
        learned secret (from a record's error message, a command line, an endpoint...).  The
        control characters a binary log may hold would otherwise reach a terminal (escape
        sequences) or make the HTML invalid (NUL), whatever a check quotes.
        """
        if not self.enabled:
            return walk_strings(obj, visible)
        # While frozen nothing is learned, so a string scrubs the same each time it occurs (a
        # report repeats check ids, states and commands thousands of times): once each.
        done: dict[str, str] = {}

        def fix(s: str) -> str:
            out = done.get(s)
            if out is None:
                out = done[s] = visible(self.text(s, ""))
            return out

        self._frozen += 1
        try:
            with self.quiet():
                return walk_strings(obj, fix)
        finally:
            self._frozen -= 1
