"""Redaction: applied to every byte that enters the bundle or stdout.

Secrets are replaced by placeholders that are stable within a bundle (the same secret always
becomes the same `[redacted-N]`) and keep the key visible (`DB_PASSWORD=[redacted-1]`).  Two
kinds of knowledge find them: *structure* (a value whose variable, label, flag or JSON field
name looks secret; command-line options, see :mod:`diagnose.redact_argv`) and *patterns* (URL
passwords, Authorization/Bearer, JWTs, cloud and SaaS tokens, PEM private keys, `password=`
pairs, see :mod:`diagnose.redact_rules`; the user's own, see :mod:`diagnose.redact_user`).
Every value found that way is *learned* and then replaced, as a whole token, wherever else it
occurs, in every file: a password set in Config.Env and echoed in a log line goes from both.
A weak value (a common word or default password: `root`, `postgres`, `1234`) is replaced only
where it stands as the secret, and recorded (see :mod:`diagnose.redact_values`).

What redaction never rewrites: JSON structure (keys, numbers, booleans), Docker's log
timestamps, engine IDs and digests, and line breaks, so exit codes, states, times and the log
line numbers that evidence points at stay exactly as collected.

The redactor remembers every learned value so the archive writer can rescan the finished
bundle (:meth:`Redactor.leaks`, the same whole-token rule) and refuse to keep it if any
survived.  Counts per rule and file (never values) go to the manifest and the summary.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from diagnose import redact_rules as rr
from diagnose import redact_values as rv
from diagnose.redact_argv import ASSIGN_RE, read_words, split_line
from diagnose.redact_rules import name_strength, secret_name
from diagnose.redact_scan import NO_PREFIX_GATE, NO_PREFIX_MIN, Hit, pem_spans
from diagnose.redact_values import MIN_PROPAGATE, PLACEHOLDER_RE
from diagnose.textwalk import visible, walk_strings

__all__ = ["MIN_PROPAGATE", "PLACEHOLDER_RE", "Redactor", "secret_name"]

#: JSON keys whose list value is a command line, and whose string value is one.
_ARGV_KEYS = frozenset({"Cmd", "Entrypoint", "Args", "cmdline", "argv", "Test", "Shell"})
_COMMAND_KEYS = frozenset({"CreatedBy", "CMD", "COMMAND", "Command", "Path", "command"})
#: JSON objects whose keys are user data (label names, network names...), not schema.
_USER_KEYED = frozenset({"Labels", "Attributes", "Options", "DriverOpts", "Volumes"})

_CLEAN_MAX_LEN = 4096
_CLEAN_MAX_ENTRIES = 50_000


def _ascii_lower(s: str) -> str:
    """`s` lower-cased with its length kept (positions in it are positions in `s`)."""
    low = s.lower()
    if len(low) == len(s):
        return low
    return "".join(c.lower() if c.isascii() else c for c in s)


class Redactor:
    """Stateful within one bundle: placeholders, learned secrets and per-file counts."""

    def __init__(self, enabled: bool = True, extra_patterns: Iterable[str] = (),
                 extra_names: Iterable[str] = ()) -> None:
        from diagnose.redact_user import compile_patterns

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
        self._clean: set[str] = set()
        self._clean_for = (0, 0)
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
        for v in (value, *rv.variants(value, user)):
            if rv.propagates(v) and v not in self._spread:
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
        return [{"kind": k, "name": n, "field": f, "why": w}
                for k, n, f, w in sorted(self._weak.get(path, {}))]

    def weak_record(self, path: str, data: bytes | None) -> list[dict[str, str]]:
        """:meth:`weak_found` for a file already redacted; with redaction off (--no-redact),
        a redactor that only looks reads `data` for it, so the finding does not depend on
        redaction."""
        if self.enabled:
            return self.weak_found(path)
        if not data:
            return []
        probe = Redactor(True, extra_names=self._names)
        probe.file(path, data)
        return probe.weak_found(path)

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

    # -- learning ahead of time ---------------------------------------------------------------
    def learn_inspect(self, inspect: Mapping[str, Any]) -> None:
        """Learn secrets from a container's config before any of its (or others') files."""
        if self.enabled:
            with self.learning():
                self.json(inspect, "")

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
        stamp = (len(self._spread), self._offset)
        if stamp != self._clean_for:
            self._clean.clear()
            self._clean_for = stamp
        if s in self._clean:
            return s
        out = self._propagate(self._patterns(s, where), where)
        # While only learning, spreading is skipped: "unchanged" would not mean clean.
        if out == s and not self._learning and len(s) <= _CLEAN_MAX_LEN:
            if len(self._clean) >= _CLEAN_MAX_ENTRIES:
                self._clean.clear()
            self._clean.add(s)
        return out

    def _patterns(self, s: str, where: str) -> str:
        if "-----" in s:
            s = self._pem_string(s, where)
        low = _ascii_lower(s)
        found = set(rr.TRIGGER_RE.findall(low))
        applicable: set[int] = set().union(*(rr.RULES_FOR[f] for f in found))
        if len(s) >= NO_PREFIX_MIN and NO_PREFIX_GATE.search(s):
            applicable |= rr.SELF_RULES
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

    # -- command lines ------------------------------------------------------------------------
    def replace(self, value: str, rule: str, where: str, learn: bool = True, *, kind: str = "",
                name: str = "", user: str = "") -> str:
        """The placeholder for `value`, learned and counted under `rule` and `where`; a weak
        value found as a `kind` (env, flag, label...) secret called `name` is recorded."""
        return self._replace(value, rule, where, learn, kind=kind, name=name, user=user)

    def assignment(self, item: str, where: str, rule: str = "secret-env") -> str:
        """`NAME=value`: the value goes when the name looks secret; patterns apply anyway."""
        m = ASSIGN_RE.match(item)
        if m and self._secret(m.group(2)) and m.group(3):
            ph = self._replace(m.group(3), rule, where, kind="env", name=m.group(2))
            return f"{m.group(1) or ''}{m.group(2)}={ph}"
        with self._within(var=m.group(2) if m else ""):
            return self.text(item, where)

    def argv(self, args: Iterable[Any], where: str) -> list[Any]:
        """A command line as a list: flags, assignments, then patterns on every element."""
        if not self.enabled:
            return list(args)
        # An element with spaces is a command line of its own (`sh -c "app --password x"`),
        # read word by word unless it is the argument of an option before it.
        items = list(args)
        words = read_words(self, items, where)
        return [(self.command_line(a, where) if w is a and _spaced(a) else self.text(w, where))
                if isinstance(w, str) else w for a, w in zip(items, words, strict=True)]

    def command_line(self, line: str, where: str) -> str:
        """A command line held in one string (ps output, image history `|2 K=V /bin/sh -c`).

        Flags and assignments are read word by word; the patterns then run over the whole
        line, so `Authorization: Bearer x` or `password: x` spanning words are found too.
        """
        if not self.enabled:
            return line
        parts = split_line(line)
        parts[0::2] = read_words(self, parts[0::2], where)
        return self.text("".join(parts), where)

    # -- structured documents -----------------------------------------------------------------
    def json(self, doc: Any, where: str, key: str = "") -> Any:
        """Walk a JSON document, using field names as context."""
        if not self.enabled:
            return doc
        if isinstance(doc, dict):
            user_keyed = key in _USER_KEYED
            rule = "secret-label" if user_keyed else "secret-field"
            out: dict[str, Any] = {}
            for k, v in doc.items():
                name = self._propagate(k, where) if user_keyed else k
                if isinstance(k, str) and self._secret(k) and _is_secret_value(v):
                    with self._within(key, k):
                        out[name] = self._secret_value(v, rule, where, k)
                else:
                    out[name] = self.json(v, where, k)
            return out
        if isinstance(doc, list):
            if key == "Env" or key in _ARGV_KEYS:
                with self._within(key, ""):
                    if key == "Env":
                        return [self.assignment(x, where) if isinstance(x, str) else x
                                for x in doc]
                    return self.argv(doc, where)
            if key == "Processes" and doc and all(isinstance(r, list) for r in doc):
                # docker top rows: the last column is the command line
                return [[*self.json(r[:-1], where), self.json(r[-1], where, "CMD")] if r else r
                        for r in doc]
            return [self.json(x, where, key) for x in doc]
        if isinstance(doc, str):
            context = self._field, self._var
            self._field, self._var = key, ""
            try:
                return self.command_line(doc, where) if key in _COMMAND_KEYS else \
                    self.text(doc, where)
            finally:
                self._field, self._var = context
        return doc

    def _secret_value(self, v: Any, rule: str, where: str, key: str) -> Any:
        kind = "label" if rule == "secret-label" else "field"
        if isinstance(v, str):
            return self._replace(v, rule, where, kind=kind, name=key) if v else v
        return [self._replace(x, rule, where, kind=kind, name=key) if isinstance(x, str) and x
                else x for x in v]

    # -- files --------------------------------------------------------------------------------
    def file(self, path: str, data: bytes) -> bytes:
        """Redact one bundle file by its kind: JSON documents, logs and other text."""
        if not self.enabled:
            return data
        if path.endswith(".json"):
            try:
                doc = json.loads(data)
            except ValueError:
                return self._text_bytes(data, path)
            redacted = self.json(doc, path)
            # Nothing to redact: the document as collected, not re-encoded -- unless it spells
            # characters as escapes (\\uXXXX, \\/), which the searches for learned values
            # in the written text (a re-pass, the final rescan) would not see through.
            if redacted == doc and b"\\u" not in data and b"\\/" not in data:
                return data
            return (json.dumps(redacted, indent=2, ensure_ascii=False) + "\n").encode()
        return self._text_bytes(data, path)

    def files(self, files: Mapping[str, bytes], prefix: str) -> dict[str, bytes]:
        """Redact a set of files whose bundle paths are `prefix/<key>`.

        A secret first seen in image history or at line 900 of a log must also go from
        inspect.json and from line 10: when the pass learned a value that occurs in what it
        already wrote, the set is redacted again with everything known (counts restarted).
        """
        if not self.enabled:
            return dict(files)
        paths = {k: (f"{prefix}/{k}" if prefix else k) for k in files}
        counts = Counter(self.counts)
        known = set(self._spread)
        out = {k: self.file(paths[k], v) for k, v in files.items()}
        fresh = [v for v in self._spread if v not in known]
        if fresh and any(v in text for text in (d.decode("utf-8", "surrogateescape")
                                                for d in out.values()) for v in fresh):
            self.counts = counts
            out = {k: self.file(paths[k], v) for k, v in files.items()}
        return out

    def text_file(self, path: str, data: bytes) -> bytes:
        """Redact a file line by line as text, whatever its extension."""
        return self._text_bytes(data, path) if self.enabled else data

    def _text_bytes(self, data: bytes, where: str) -> bytes:
        from diagnose.redact_lines import redact_lines

        return redact_lines(self, data, where)

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
        self._frozen += 1
        try:
            with self.quiet():
                return walk_strings(obj, lambda s: visible(self.text(s, "")))
        finally:
            self._frozen -= 1


def _spaced(a: Any) -> bool:
    return isinstance(a, str) and any(c.isspace() for c in a)


def _is_secret_value(v: Any) -> bool:
    return isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)
                                  and bool(v))
