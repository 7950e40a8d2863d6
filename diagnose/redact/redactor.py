"""Redaction: applied to every byte that enters the bundle or stdout.

Secrets are replaced by placeholders that are stable within a bundle (the same secret always
becomes the same `[redacted-N]`) and keep the key visible (`DB_PASSWORD=[redacted-1]`).  Two
kinds of knowledge find them: *structure* (a value whose variable, label, flag or JSON field
name looks secret; command-line options, see :mod:`diagnose.redact.argv`) and *patterns* (URL
passwords, Authorization/Bearer, JWTs, cloud and SaaS tokens, PEM private keys, `password=`
pairs, see :mod:`diagnose.redact.rules`; the user's own, see :mod:`diagnose.redact.user`).
Every value found that way is *learned* and then replaced, as a whole token, wherever else it
occurs, in every file: a password set in Config.Env and echoed in a log line goes from both.
A weak value (a common word or default password: `root`, `postgres`, `1234`) is replaced only
where it stands as the secret, and recorded (see :mod:`diagnose.redact.values`).

What redaction never rewrites: JSON structure (keys, numbers, booleans), Docker's log
timestamps, engine IDs and digests, and line breaks, so exit codes, states, times and the log
line numbers that evidence points at stay exactly as collected.

The redactor remembers every learned value so the archive writer can rescan the finished
bundle (:meth:`Redactor.leaks`, the same whole-token rule) and refuse to keep it if any
survived.  Counts per rule and file (never values) go to the manifest and the summary.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from diagnose.model.jsonout import indented_json
from diagnose.redact.argv import ASSIGN_RE, read_words, split_line
from diagnose.redact.lines import redact_lines
from diagnose.redact.memo import CleanMemo
from diagnose.redact.rules import secret_name
from diagnose.redact.text import TextRedactor
from diagnose.redact.values import MIN_PROPAGATE, PLACEHOLDER_RE, env_pairs

__all__ = ["MIN_PROPAGATE", "PLACEHOLDER_RE", "Redactor", "secret_name"]

#: JSON keys whose list value is a command line, and whose string value is one.
_ARGV_KEYS = frozenset({"Cmd", "Entrypoint", "Args", "cmdline", "argv", "Test", "Shell"})
_COMMAND_KEYS = frozenset({"CreatedBy", "CMD", "COMMAND", "Command", "Path", "command"})
#: JSON objects whose keys are user data (label names, network names...), not schema.
_USER_KEYED = frozenset({"Labels", "Attributes", "Options", "DriverOpts", "Volumes"})


#: JSON files remembered as clean (see Redactor.file): at most this many, this large each.
_CLEAN_FILES_MAX = 256
_CLEAN_FILE_MAX_BYTES = 1 << 20


class Redactor(TextRedactor):
    """Redaction of a bundle's documents: JSON by field name, command lines by option,
    logs line by line (see :mod:`diagnose.redact.text` for strings and the report)."""

    def __init__(self, enabled: bool = True, extra_patterns: Iterable[str] = (),
                 extra_names: Iterable[str] = ()) -> None:
        super().__init__(enabled, extra_patterns, extra_names)
        # JSON files that came out of file() as collected while the learned values were the
        # same, as the text's clean strings are: a fleet's containers share their image's
        # documents, and each target's networks.json holds the same network inspect (with
        # every target on the network in it: walked once per target, the walks of a run grow
        # with the square of its targets).
        self._clean_files: CleanMemo[bytes] = CleanMemo(_CLEAN_FILES_MAX, _CLEAN_FILE_MAX_BYTES)

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

    def learn_inspect(self, inspect: Mapping[str, Any]) -> None:
        """Learn secrets from a container's config before any of its (or others') files."""
        if self.enabled:
            with self.learning():
                self.json(inspect, "")
            # `DB_USER` and `DB_PASSWORD`: the pair's basic-auth spelling goes too.
            for user, password in env_pairs((inspect.get("Config") or {}).get("Env") or ()):
                self.learn_pair(user, password)

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

    # -- documents ----------------------------------------------------------------------------
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
            if self._clean_files.known(self.learned(), data):
                return data  # the same bytes, found clean with the same learned values
            try:
                doc = json.loads(data)
            except ValueError:
                return self._text_bytes(data, path)
            redacted = self.json(doc, path)
            # Nothing to redact: the document as collected, not re-encoded -- unless it spells
            # characters as escapes (\\uXXXX, \\/), which the searches for learned values
            # in the written text (a re-pass, the final rescan) would not see through.
            if redacted == doc and b"\\u" not in data and b"\\/" not in data:
                if not self._learning:  # then "unchanged" would not mean clean
                    self._clean_files.add(self.learned(), data)
                return data
            return indented_json(redacted)
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
        return redact_lines(self, data, where)


def _spaced(a: Any) -> bool:
    return isinstance(a, str) and any(c.isspace() for c in a)


def _is_secret_value(v: Any) -> bool:
    return isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v)
                                  and bool(v))
