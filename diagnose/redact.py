"""Redaction: applied to every byte that enters the bundle or stdout.

Secrets are replaced by placeholders that are stable within a bundle (the same secret always
becomes the same `[redacted-N]`) and keep the key visible (`DB_PASSWORD=[redacted-1]`).  The
redactor remembers every value it replaced so the archive writer can rescan the finished
bundle and refuse to keep it if any survived.  Counts per rule and file (never values) go to
the manifest and the summary.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

PLACEHOLDER_RE = re.compile(r"\[redacted-\d+\]")

#: Name fragments that mark a variable, label, flag or field as secret (case-insensitive).
_SECRET_SUBSTRINGS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE",
                      "APIKEY", "API_KEY", "ACCESSKEY", "ACCESS_KEY", "PASSPHRASE")
_SECRET_PARTS = {"KEY", "KEYS", "PASS", "PWD", "AUTH", "DSN", "SALT", "COOKIE", "SESSION",
                 "SIGNATURE", "CREDS", "JWT", "OTP", "PIN", "CERTKEY"}
#: Normalised (upper case, letters and digits only) names that look secret but are not,
#: among them engine fields such as NetworkSettings.SandboxKey.
_NOT_SECRET_NAMES = {"KEYID", "PUBLICKEY", "KEYBOARD", "PASSTHROUGH", "AUTHTYPE", "AUTHOR",
                     "TOKENTYPE", "SANDBOXKEY", "CERTISSUERPUBLICKEY", "SIGNATUREKEYID"}

MIN_PROPAGATE = 4  # shorter values are redacted where found, not searched for everywhere


def secret_name(name: str) -> bool:
    """Does a variable/label/flag/field name look like it holds a secret?"""
    upper = name.upper().lstrip("-")
    flat = re.sub(r"[^A-Z0-9]", "", upper)
    if flat in _NOT_SECRET_NAMES or flat.endswith("KEYID") or upper.endswith("_FILE"):
        return False
    if any(s in upper for s in _SECRET_SUBSTRINGS):
        return True
    parts = set(re.split(r"[^A-Z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", name).upper()))
    return bool(parts & _SECRET_PARTS)


# (rule name, regex, group index of the secret) -- applied to every text.
_TEXT_RULES: tuple[tuple[str, re.Pattern[str], int], ...] = (
    ("pem-private-key", re.compile(
        r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?-----END \1PRIVATE KEY-----", re.S), 0),
    ("url-password", re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@\"']*:)([^@\s/\"']+)(@)"),
     2),
    ("authorization-header", re.compile(
        r"(?i)\b((?:proxy-)?authorization\s*[:=]\s*\"?(?:basic|bearer|token|digest)?\s*)"
        r"([A-Za-z0-9._~+/=-]{6,})"), 2),
    ("bearer-token", re.compile(r"(?i)\b(bearer\s+)([A-Za-z0-9._~+/-]{8,}=*)"), 2),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), 0),
    ("aws-access-key-id", re.compile(r"\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16})\b"), 1),
    ("github-token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
     1),
    ("gitlab-token", re.compile(r"\b(glpat-[A-Za-z0-9_-]{20,})"), 1),
    ("slack-token", re.compile(r"\b(xox[abprse]-[A-Za-z0-9-]{10,})"), 1),
    ("stripe-key", re.compile(r"\b((?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,})"), 1),
    ("key-value-pair", re.compile(
        r"(?i)(?<![A-Za-z0-9])([A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|"
        r"access[_-]?key|private[_-]?key|credential|passphrase)[A-Za-z0-9_.-]*)"
        r"(\"?\s*[=:]\s*\"?)([^\s\"'&,;<>]{1,})"), 3),
)

_FLAG_RE = re.compile(r"^--?([A-Za-z0-9][A-Za-z0-9_.-]*)$")
_ASSIGN_RE = re.compile(r"^(--?)?([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$", re.S)


class Redactor:
    """Stateful within one bundle: placeholders, learned secrets and per-file counts."""

    def __init__(self, enabled: bool = True, extra_patterns: Iterable[str] = ()) -> None:
        self.enabled = enabled
        self._placeholders: dict[str, str] = {}
        self.counts: Counter[tuple[str, str]] = Counter()
        self._extra = [re.compile(p) for p in extra_patterns]
        self._learned_re: re.Pattern[str] | None = None

    # -- placeholders -------------------------------------------------------------------------
    def _placeholder(self, value: str) -> str:
        ph = self._placeholders.get(value)
        if ph is None:
            ph = f"[redacted-{len(self._placeholders) + 1}]"
            self._placeholders[value] = ph
            self._learned_re = None
        return ph

    def _replace(self, value: str, rule: str, where: str) -> str:
        if not value or PLACEHOLDER_RE.fullmatch(value):
            return value
        self.counts[(rule, where)] += 1
        return self._placeholder(value)

    def secrets(self) -> list[str]:
        """Every secret value replaced so far (for the post-write rescan; never printed)."""
        return list(self._placeholders)

    def report(self) -> list[dict[str, Any]]:
        """Rule, file and count for each redaction (values never included)."""
        return [
            {"rule": rule, "file": where, "count": n}
            for (rule, where), n in sorted(self.counts.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        ]

    # -- learning ahead of time ---------------------------------------------------------------
    def learn_inspect(self, inspect: Mapping[str, Any]) -> None:
        """Learn secrets from a container's config before any of its (or others') files."""
        if not self.enabled:
            return
        self.json(inspect, "(pre-scan)")

    # -- text ---------------------------------------------------------------------------------
    def text(self, s: str, where: str) -> str:
        """Redact patterns and every already-learned secret in one string."""
        if not self.enabled or not s:
            return s
        for rule, rx, group in _TEXT_RULES:
            if rx.search(s):
                s = rx.sub(functools.partial(self._sub, group=group, rule=rule, where=where), s)
        for rx in self._extra:
            group = 1 if rx.groups else 0
            s = rx.sub(functools.partial(self._sub, group=group, rule="user-pattern",
                                         where=where), s)
        return self._learned(s, where)

    def _sub(self, m: re.Match[str], group: int, rule: str, where: str) -> str:
        secret = m.group(group)
        if rule == "key-value-pair" and not secret_name(m.group(1)):
            return m.group(0)
        if PLACEHOLDER_RE.fullmatch(secret or "") or not secret:
            return m.group(0)
        ph = self._replace(secret, rule, where)
        start, end = m.span(group)
        base = m.start(0)
        whole = m.group(0)
        return whole[: start - base] + ph + whole[end - base :]

    def _learned(self, s: str, where: str) -> str:
        values = [v for v in self._placeholders if len(v) >= MIN_PROPAGATE]
        if not values:
            return s
        if self._learned_re is None:
            values.sort(key=len, reverse=True)
            self._learned_re = re.compile("|".join(re.escape(v) for v in values))
        rx = self._learned_re

        def swap(m: re.Match[str]) -> str:
            self.counts[("known-secret", where)] += 1
            return self._placeholders[m.group(0)]

        return rx.sub(swap, s)

    def assignment(self, item: str, where: str, rule: str = "secret-env") -> str:
        """`NAME=value`: the value goes when the name looks secret; patterns apply anyway."""
        m = _ASSIGN_RE.match(item)
        if m and secret_name(m.group(2)) and m.group(3):
            return f"{m.group(1) or ''}{m.group(2)}={self._replace(m.group(3), rule, where)}"
        return self.text(item, where)

    def argv(self, args: Iterable[Any], where: str) -> list[Any]:
        """A command line: `--password x`, `--token=x`, `NAME=x` and patterns."""
        out: list[Any] = []
        secret_next = False
        for arg in args:
            if not isinstance(arg, str):
                out.append(arg)
                continue
            if secret_next:
                out.append(self._replace(arg, "secret-flag", where))
                secret_next = False
                continue
            flag = _FLAG_RE.match(arg)
            if flag and secret_name(flag.group(1)):
                secret_next = True
                out.append(arg)
                continue
            out.append(self.assignment(arg, where, "secret-flag"))
        return out

    def command_line(self, line: str, where: str) -> str:
        """A command line held in one string (ps output, image history)."""
        if not self.enabled:
            return line
        return " ".join(self.argv(line.split(" "), where))

    # -- structured documents -----------------------------------------------------------------
    def json(self, doc: Any, where: str, key: str = "") -> Any:
        """Walk a JSON document, using field names as context."""
        if not self.enabled:
            return doc
        if isinstance(doc, dict):
            out: dict[str, Any] = {}
            for k, v in doc.items():
                if isinstance(v, str) and secret_name(k) and key not in ("Labels", "Attributes"):
                    out[k] = self._replace(v, "secret-field", where) if v else v
                elif key in ("Labels", "Attributes") and isinstance(v, str) and secret_name(k):
                    out[k] = self._replace(v, "secret-label", where) if v else v
                else:
                    out[k] = self.json(v, where, k)
            return out
        if isinstance(doc, list):
            if key in ("Env",):
                return [self.assignment(x, where) if isinstance(x, str) else x for x in doc]
            if key in ("Cmd", "Entrypoint", "Args", "cmdline", "Test"):
                return self.argv(doc, where)
            return [self.json(x, where, key) for x in doc]
        if isinstance(doc, str):
            if key in ("CreatedBy", "CMD", "Command", "Path"):
                return self.command_line(doc, where)
            return self.text(doc, where)
        return doc

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
            return (json.dumps(self.json(doc, path), indent=2, ensure_ascii=False) + "\n").encode()
        return self._text_bytes(data, path)

    def text_file(self, path: str, data: bytes) -> bytes:
        """Redact a file line by line as text, whatever its extension."""
        return self._text_bytes(data, path) if self.enabled else data

    def _text_bytes(self, data: bytes, where: str) -> bytes:
        # surrogateescape keeps non-UTF-8 bytes exactly as they were.
        text = data.decode("utf-8", errors="surrogateescape")
        lines = text.split("\n")
        out = []
        in_pem = False
        for line in lines:
            if in_pem:
                if "-----END" in line and "PRIVATE KEY-----" in line:
                    in_pem = False
                    end = line.index("-----END")
                    out.append(self._pem_line(line[:end], where) + line[end:])
                else:
                    out.append(self._pem_line(line, where))
                continue
            if "-----BEGIN" in line and "PRIVATE KEY-----" in line and "-----END" not in line:
                in_pem = True
                out.append(self.text(line, where))
                continue
            out.append(self.text(line, where))
        return "\n".join(out).encode("utf-8", errors="surrogateescape")

    def _pem_line(self, line: str, where: str) -> str:
        # Keep the timestamp prefix docker logs adds; the key material goes.
        stamp, sep, rest = line.partition(" ")
        if sep and stamp.endswith("Z") and len(stamp) >= 20 and stamp[4] == "-":
            return f"{stamp} {self._replace(rest, 'pem-private-key', where)}" if rest else line
        return self._replace(line, "pem-private-key", where) if line else line

    def files(self, files: Mapping[str, bytes], prefix: str) -> dict[str, bytes]:
        """Redact a set of files whose bundle paths are `prefix/<key>`."""
        return {k: self.file(f"{prefix}/{k}" if prefix else k, v) for k, v in files.items()}
