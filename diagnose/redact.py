"""Redaction: applied to every byte that enters the bundle or stdout.

Secrets are replaced by placeholders that are stable within a bundle (the same secret always
becomes the same `[redacted-N]`) and keep the key visible (`DB_PASSWORD=[redacted-1]`).  Two
kinds of knowledge find them: *structure* (a value whose variable, label, flag or JSON field
name looks secret) and *patterns* (URL passwords, Authorization/Bearer, JWTs, cloud and SaaS
tokens, PEM private keys, `password=` pairs, user patterns; see :mod:`diagnose.redact_rules`).
Every value found that way is *learned* and then replaced wherever else it occurs, in every
file: a password set in Config.Env and echoed in a log line goes from both.

What redaction never rewrites: JSON structure (keys, numbers, booleans), Docker's log
timestamps, engine IDs and digests, and line breaks, so exit codes, states, times and the log
line numbers that evidence points at stay exactly as collected.

The redactor remembers every learned value so the archive writer can rescan the finished
bundle (:meth:`Redactor.leaks`) and refuse to keep it if any survived.  Counts per rule and
file (never values) go to the manifest and the summary.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from diagnose import redact_rules as rr
from diagnose.redact_rules import MIN_PROPAGATE, PLACEHOLDER_RE, secret_name

__all__ = ["MIN_PROPAGATE", "PLACEHOLDER_RE", "Redactor", "secret_name"]

_FLAG_RE = re.compile(r"^--?([A-Za-z0-9][A-Za-z0-9_.-]*)$")
_ASSIGN_RE = re.compile(r"^(--?)?([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$", re.S)
#: JSON keys whose list value is a command line, and whose string value is one.
_ARGV_KEYS = frozenset({"Cmd", "Entrypoint", "Args", "cmdline", "argv", "Test", "Shell"})
_COMMAND_KEYS = frozenset({"CreatedBy", "CMD", "COMMAND", "Command", "Path", "command"})
#: JSON objects whose keys are user data (label names, network names...), not schema.
_USER_KEYED = frozenset({"Labels", "Attributes", "Options", "DriverOpts", "Volumes"})
#: Clients that take a password glued to `-p` (`mysql -uroot -psecret`).
_GLUED_P = frozenset({"mysql", "mysqldump", "mysqladmin", "mariadb", "mariadb-dump",
                      "mysqlimport", "mysqlshow", "mysqlcheck"})


_CLEAN_MAX_LEN = 4096
_CLEAN_MAX_ENTRIES = 50_000


class Redactor:
    """Stateful within one bundle: placeholders, learned secrets and per-file counts."""

    def __init__(self, enabled: bool = True, extra_patterns: Iterable[str] = (),
                 extra_names: Iterable[str] = ()) -> None:
        self.enabled = enabled
        self._placeholders: dict[str, str] = {}  # secret value -> placeholder
        self._spread: dict[str, str] = {}  # value or variant searched everywhere -> placeholder
        self.counts: Counter[tuple[str, str]] = Counter()
        self._extra = [re.compile(p) for p in extra_patterns]
        self._names = tuple(n for n in extra_names if n)
        self._spread_re: re.Pattern[str] | None = None
        self._quiet = 0  # > 0: nothing is counted (pre-scans, report scrubbing)
        self._learning = 0  # > 0: only learn, output is thrown away (no spreading)
        self._offset = 0  # placeholder numbers already used by the input (re-redaction)
        self._frozen = 0  # > 0: replace, but learn nothing new (everything is written)
        # Strings that came out of text() unchanged while the learned values were the same:
        # a fleet's inspect documents and reports repeat most of their strings (image names,
        # paths, field values), and a clean string stays clean until a value is learned.
        self._clean: set[str] = set()
        self._clean_for = (0, 0)

    # -- placeholders -------------------------------------------------------------------------
    def _replace(self, value: str, rule: str, where: str, learn: bool = True) -> str:
        if not value or PLACEHOLDER_RE.fullmatch(value):
            return value
        if not self._quiet:
            self.counts[(rule, where)] += 1
        ph = self._placeholders.get(value)
        if ph is None:
            ph = f"[redacted-{self._offset + len(self._placeholders) + 1}]"
            self._placeholders[value] = ph
        if learn and not self._frozen:
            self._learn(value, ph)
        return ph

    def _learn(self, value: str, ph: str) -> None:
        for v in (value, *rr.variants(value)):
            if rr.propagates(v) and v not in self._spread:
                self._spread[v] = ph
                self._spread_re = None

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
        self._spread_re = None

    def _secret(self, name: str) -> bool:
        return secret_name(name, self._names)

    def secrets(self) -> list[str]:
        """Every value searched for after writing (never printed or stored)."""
        return list(self._spread)

    def report(self) -> list[dict[str, Any]]:
        """Rule, file and count for each redaction (values never included)."""
        return [
            {"rule": rule, "file": where, "count": n}
            for (rule, where), n in sorted(self.counts.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ]

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
        found = set(rr.TRIGGER_RE.findall(s.lower()))
        applicable = sorted(set().union(*(rr.RULES_FOR[f] for f in found))) if found else ()
        for index in applicable:
            rule = rr.TEXT_RULES[index]
            if rule.gate:
                s = self._splice_all(s, rr.key_value_matches(s, s.lower()), rule, where)
            else:
                s = rule.regex.sub(functools.partial(self._sub, rule=rule, where=where), s)
        for rx in self._extra:
            s = rx.sub(functools.partial(self._sub_user, rx=rx, where=where), s)
        return s

    def _splice_all(self, s: str, matches: list[re.Match[str]], rule: rr.Rule,
                    where: str) -> str:
        pieces: list[str] = []
        pos = 0
        for m in matches:
            pieces.append(s[pos:m.start()])
            pieces.append(self._sub(m, rule, where))
            pos = m.end()
        pieces.append(s[pos:])
        return "".join(pieces)

    def _sub(self, m: re.Match[str], rule: rr.Rule, where: str) -> str:
        groups = m.groupdict()
        name = next((g for g in ("v", "v2", "v3") if groups.get(g) is not None), None)
        if name is None:
            return m.group(0)
        value = m.group(name)
        if not value or PLACEHOLDER_RE.fullmatch(value):
            return m.group(0)
        if rule.gate and not self._secret(m.group("k")):
            return m.group(0)
        learn = rule.learn == "always" or rr.strong(value)
        return self._splice(m, name, self._replace(value, rule.name, where, learn))

    def _sub_user(self, m: re.Match[str], rx: re.Pattern[str], where: str) -> str:
        group = 1 if rx.groups else 0
        value = m.group(group)
        if not value or PLACEHOLDER_RE.fullmatch(value):
            return m.group(0)
        return self._splice(m, group, self._replace(value, "user-pattern", where))

    @staticmethod
    def _splice(m: re.Match[str], group: int | str, ph: str) -> str:
        start, end = m.span(group)
        base = m.start(0)
        whole = m.group(0)
        return whole[: start - base] + ph + whole[end - base:]

    def _pem_string(self, s: str, where: str) -> str:
        """PEM private keys inside one string: whole blocks, a block cut at the end of the
        string, and the tail of a block whose BEGIN was cut off."""
        def body(m: re.Match[str]) -> str:
            value = m.group("v")
            if not value.strip() or PLACEHOLDER_RE.fullmatch(value.strip()):
                return m.group(0)
            return self._splice(m, "v", self._replace(value, "pem-private-key", where))

        for rx in (rr.PEM_FULL, rr.PEM_OPEN, rr.PEM_ORPHAN_END):
            if rx.search(s):
                s = rx.sub(body, s)
        return s

    def _propagate(self, s: str, where: str) -> str:
        if self._learning:
            return s  # spreading learns nothing new
        rx = self._spread_regex()
        if rx is None or not rx.search(s):
            return s
        spans: list[tuple[int, int]] | None = None

        def swap(m: re.Match[str]) -> str:
            nonlocal spans
            if spans is None:
                spans = rr.protected_spans(s)
            if rr.strictly_inside(m.span(), spans):
                return m.group(0)
            if not self._quiet:
                self.counts[("known-secret", where)] += 1
            return self._spread[m.group(0)]

        return rx.sub(swap, s)

    def _spread_regex(self) -> re.Pattern[str] | None:
        if not self._spread:
            return None
        if self._spread_re is None:
            values = sorted(self._spread, key=len, reverse=True)
            self._spread_re = re.compile("|".join(re.escape(v) for v in values))
        return self._spread_re

    def leaks(self, text: str) -> int:
        """How many learned secrets occur in `text` (outside protected spans)."""
        present = [v for v in self._spread if v in text]  # plain searches first: fast
        if not present:
            return 0
        present.sort(key=len, reverse=True)
        rx = re.compile("|".join(re.escape(v) for v in present))
        found = [m.span() for m in rx.finditer(text)]
        spans = rr.protected_spans(text)
        return sum(1 for span in found if not rr.strictly_inside(span, spans))

    # -- command lines ------------------------------------------------------------------------
    def assignment(self, item: str, where: str, rule: str = "secret-env") -> str:
        """`NAME=value`: the value goes when the name looks secret; patterns apply anyway."""
        m = _ASSIGN_RE.match(item)
        if m and self._secret(m.group(2)) and m.group(3):
            return f"{m.group(1) or ''}{m.group(2)}={self._replace(m.group(3), rule, where)}"
        return self.text(item, where)

    def _argv_structural(self, args: list[Any], where: str) -> list[Any]:
        """Flag and assignment semantics only: `--password x`, `--token=x`, `NAME=x`,
        `mysql -psecret`.  Returns the args with those values replaced."""
        out: list[Any] = []
        secret_next = False
        glued_p = bool(args) and isinstance(args[0], str) and \
            args[0].rsplit("/", 1)[-1] in _GLUED_P
        for arg in args:
            if not isinstance(arg, str):
                out.append(arg)
                secret_next = False
                continue
            if secret_next:
                secret_next = False
                if not arg.startswith("-") or arg == "-":
                    out.append(self._replace(arg, "secret-flag", where))
                    continue
            if glued_p and len(arg) > 2 and arg.startswith("-p") and not arg.startswith("--"):
                out.append("-p" + self._replace(arg[2:], "secret-flag", where))
                continue
            flag = _FLAG_RE.match(arg)
            if flag and self._secret(flag.group(1)):
                secret_next = True
                out.append(arg)
                continue
            m = _ASSIGN_RE.match(arg)
            if m and self._secret(m.group(2)) and m.group(3).rstrip("\"'"):
                # A shell word may end with the closing quote of a longer string.
                value = m.group(3).rstrip("\"'")
                out.append(f"{m.group(1) or ''}{m.group(2)}="
                           f"{self._replace(value, 'secret-flag', where)}"
                           f"{m.group(3)[len(value):]}")
                continue
            out.append(arg)
        return out

    def argv(self, args: Iterable[Any], where: str) -> list[Any]:
        """A command line as a list: flags, assignments, then patterns on every element."""
        if not self.enabled:
            return list(args)
        # An element with spaces is a command line of its own (`sh -c "app --password x"`).
        return [(self.command_line(a, where) if any(c.isspace() for c in a)
                 else self.text(a, where)) if isinstance(a, str) else a
                for a in self._argv_structural(list(args), where)]

    def command_line(self, line: str, where: str) -> str:
        """A command line held in one string (ps output, image history `|2 K=V /bin/sh -c`).

        Flags and assignments are read word by word; the patterns then run over the whole
        line, so `Authorization: Bearer x` or `password: x` spanning words are found too.
        """
        if not self.enabled:
            return line
        parts = re.split(r"(\s+)", line)
        words = parts[0::2]
        words = self._argv_structural(words, where)
        parts[0::2] = words
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
                    out[name] = self._secret_value(v, rule, where)
                else:
                    out[name] = self.json(v, where, k)
            return out
        if isinstance(doc, list):
            if key == "Env":
                return [self.assignment(x, where) if isinstance(x, str) else x for x in doc]
            if key in _ARGV_KEYS:
                return self.argv(doc, where)
            if key == "Processes" and doc and all(isinstance(r, list) for r in doc):
                # docker top rows: the last column is the command line
                return [[*self.json(r[:-1], where), self.json(r[-1], where, "CMD")] if r else r
                        for r in doc]
            return [self.json(x, where, key) for x in doc]
        if isinstance(doc, str):
            if key in _COMMAND_KEYS:
                return self.command_line(doc, where)
            return self.text(doc, where)
        return doc

    def _secret_value(self, v: Any, rule: str, where: str) -> Any:
        if isinstance(v, str):
            return self._replace(v, rule, where) if v else v
        return [self._replace(x, rule, where) if isinstance(x, str) and x else x for x in v]

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
        if fresh and any(v in data.decode("utf-8", "surrogateescape")
                         for data in out.values() for v in fresh):
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
        """The learned values searched for everywhere (only while not just learning)."""
        return [] if self._learning else list(self._spread)

    @property
    def extra_patterns(self) -> list[re.Pattern[str]]:
        """The user's patterns (--redact, config file)."""
        return self._extra

    def replace(self, value: str, rule: str, where: str) -> str:
        """The placeholder for `value`, learned and counted under `rule` and `where`."""
        return self._replace(value, rule, where)

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
            return rr.walk_strings(obj, rr.visible)
        self._frozen += 1
        try:
            with self.quiet():
                return self._scrub(obj)
        finally:
            self._frozen -= 1

    def _scrub(self, obj: Any) -> Any:
        return rr.walk_strings(obj, lambda s: rr.visible(self.text(s, "")))


def _is_secret_value(v: Any) -> bool:
    return isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)
                                  and bool(v))
