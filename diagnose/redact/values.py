"""What redaction does with a secret VALUE once found: weak or strong, and how it is searched for.

A value found as a secret (an environment variable's value, a flag's argument, a URL's
password...) is always replaced where it stands.  Whether it is also *spread* -- searched for
and replaced in every other file, and looked for by the post-write rescan -- depends on the
value:

- WEAK values are ordinary or default words (`root`, `postgres`, `admin`, `1234`,
  `changeme`...; the list is the data file `weak_passwords.txt`), any letters-only or
  digits-only value of up to 10 characters, and anything shorter than 4 characters.  They
  also occur in image names, paths, log messages and the tool's own words (`runs-as-root`):
  spreading them would rewrite those, and the rescan would then find them in JSON keys it
  never rewrites and fail the run.  They are counted and reported instead (the redaction
  report says how many; check D712 names where they are).
- Words that are states or switches (`true`, `running`, `default`...) are not secrets at all:
  redacted in place, never spread, never reported.
- Every other value is spread as a WHOLE TOKEN: where it is not glued to an identifier
  character (`[A-Za-z0-9_]`) on a side where the value itself starts or ends with one.  So a
  secret `Sup3r-Secret` goes from `pw=Sup3r-Secret` and `"Sup3r-Secret"`, but a secret `abc1`
  does not rewrite `abc12` or `xabc1`.  The rescan uses exactly the same rule.

Spread values are also searched for in their other spellings (JSON-, HTML-, URL-escaped, the
lines of a multi-line value, and standard base64 of the value and of `user:value`).
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
import urllib.parse
from collections.abc import Iterable
from importlib import resources

from diagnose.model.lazyre import lazy_compile
from diagnose.redact.scan import PEM_BEGIN, PEM_END

PLACEHOLDER_RE = lazy_compile(r"\[redacted-\d+\]")

#: Values too common to be secrets at all (still replaced where found by name; not reported).
STOP_VALUES = frozenset({
    "true", "false", "null", "none", "nil", "yes", "no", "on", "off", "enabled", "disabled",
    "created", "running", "paused", "restarting", "removing", "exited", "dead", "healthy",
    "unhealthy", "starting", "default", "bridge", "host", "local", "json-file", "redacted",
})
MIN_PROPAGATE = 4  # shorter values are redacted where found, not searched for everywhere
MIN_LINE = 8  # lines of a multi-line secret that are searched for on their own
WORD_MAX = 10  # letters-only / digits-only values up to this length are weak
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The packaged list of common and default passwords (lower case)."""
    text = resources.files("diagnose.redact").joinpath("weak_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.lstrip().startswith("#"))


@functools.lru_cache(maxsize=4096)
def weak_reason(value: str) -> str:
    """Why `value` is a weak secret ('' when it is not weak, or not a secret at all)."""
    if not value or value.lower() in STOP_VALUES or PLACEHOLDER_RE.fullmatch(value):
        return ""
    if value.lower() in common_passwords():
        return "a common or default password"
    if len(value) < MIN_PROPAGATE:
        return f"shorter than {MIN_PROPAGATE} characters"
    if len(value) <= WORD_MAX and value.isascii() and value.isalpha():
        return "a single word (letters only)"
    if len(value) <= WORD_MAX and value.isascii() and value.isdigit():
        return "digits only"
    return ""


def strong(value: str) -> bool:
    """Does a value found in free text look like a real secret rather than a word (or a
    stretch of shell script between two quotes)?"""
    if len(value) < 8 or any(c.isspace() for c in value):
        return False
    classes = (any(c.islower() for c in value) + any(c.isupper() for c in value)
               + any(c.isdigit() for c in value) + any(not c.isalnum() for c in value))
    return classes >= 2


def looks_secret(value: str) -> bool:
    """Does a value look like a generated secret (a key, a token) rather than an ordinary
    value?  Asked of values whose name only weakly says secret (`key=`, `session:`): at
    least 12 characters of three kinds (lower, upper, digits, others), or 20 of letters and
    digits (hex and base64 tokens).  `batch-1234`, `user:42`, `started` are not."""
    if any(c.isspace() for c in value):
        return False
    lower = any(c.islower() for c in value)
    upper = any(c.isupper() for c in value)
    digit = any(c.isdigit() for c in value)
    other = any(not c.isalnum() for c in value)
    if len(value) >= 12 and lower + upper + digit + other >= 3:
        return True
    return len(value) >= 20 and (lower or upper) and digit


def propagates(value: str) -> bool:
    """Is `value` searched for everywhere once learned (and by the post-write rescan)?"""
    return (len(value) >= MIN_PROPAGATE and value.lower() not in STOP_VALUES
            and not weak_reason(value) and not PLACEHOLDER_RE.fullmatch(value))


def _b64(raw: str) -> set[str]:
    enc = base64.b64encode(raw.encode("utf-8", "surrogateescape")).decode("ascii")
    return {enc, enc.rstrip("=")}


#: How a variable holding a password ends, and how its user's sibling ends (`DB_PASSWORD` and
#: `DB_USER`): the pair is spelled base64 in HTTP basic auth (`Authorization: Basic ...`).
_PASSWORD_SUFFIXES = ("PASSWORD", "PASSWD", "PASS", "PWD")
_USER_SUFFIXES = ("USER", "USERNAME", "LOGIN", "USR")


def env_pairs(env: Iterable[str]) -> list[tuple[str, str]]:
    """(user, password) values of `NAME_USER` / `NAME_PASSWORD` variables (same prefix, any
    of the usual spellings, either case) among `NAME=value` items."""
    values: dict[str, str] = {}
    for item in env:
        name, eq, value = str(item).partition("=")
        if eq and value:
            values[name.upper()] = value
    pairs = []
    for name, password in values.items():
        suffix = next((s for s in _PASSWORD_SUFFIXES if name.endswith(s)), "")
        if not suffix:
            continue
        prefix = name[:-len(suffix)]
        user = next((values[prefix + u] for u in _USER_SUFFIXES if prefix + u in values), "")
        if user:
            pairs.append((user, password))
    return pairs


def pair_spellings(user: str, value: str) -> set[str]:
    """base64 of `user:value` (HTTP basic auth), padded and not, when it is worth searching."""
    return {v for v in _b64(f"{user}:{value}") if propagates(v)}


def variants(value: str, user: str = "") -> set[str]:
    """How a secret may be spelled in other files: JSON- and HTML-escaped, percent-encoded,
    Markdown-table-escaped, base64 (of the value, and of `user:value` for HTTP basic auth),
    and each long line of a multi-line value on its own."""
    out = {
        json.dumps(value, ensure_ascii=False)[1:-1],
        json.dumps(value)[1:-1],
        html.escape(value),
        urllib.parse.quote(value, safe=""),
        value.replace("|", "\\|"),
        *_b64(value),
    }
    if user:
        out |= pair_spellings(user, value)
    if "\n" in value:
        for line in value.splitlines():
            line = line.strip()
            if len(line) >= MIN_LINE and not PEM_BEGIN.search(line) and not PEM_END.search(line):
                out.add(line)
    out.discard(value)
    return {v for v in out if propagates(v)}


_WORD_RUN = re.compile(r"[A-Za-z0-9_]+")


def whole_token(s: str, a: int, b: int) -> bool:
    """Is `s[a:b]` a whole token: not glued to an identifier character on a side where it
    starts or ends with one?"""
    return not ((a > 0 and s[a] in _WORD and s[a - 1] in _WORD)
                or (b < len(s) and s[b - 1] in _WORD and s[b] in _WORD))


class TokenSet:
    """The learned values, found in a string as whole tokens in one pass over its words.

    Each value is filed under its *anchor*, its longest run of identifier characters: where
    the value stands as a whole token, its anchor is a whole word of the string.  So a
    string's words are looked up (a set lookup each) instead of trying every value at every
    position, and learning a value compiles nothing: a log that prints a fresh token on each
    of its 2,000 lines stays linear.  Values without any identifier character are few and
    looked for as plain substrings.
    """

    def __init__(self) -> None:
        self._by_anchor: dict[str, list[tuple[str, int]]] = {}  # longest value first
        self._odd: list[str] = []

    def add(self, value: str) -> None:
        """File one more value."""
        runs = [(m.start(), m.group()) for m in _WORD_RUN.finditer(value)]
        if not runs:
            self._odd.append(value)
            return
        off, anchor = max(runs, key=lambda r: len(r[1]))
        entries = self._by_anchor.setdefault(anchor, [])
        entries.append((value, off))
        entries.sort(key=lambda e: -len(e[0]))

    def find(self, s: str) -> list[tuple[int, int, str]]:
        """(start, end, value) of every value in `s` as a whole token: leftmost first, the
        longest at a position, not overlapping (what one alternation regex would find)."""
        found: list[tuple[int, int, str]] = []
        anchors = self._by_anchor
        if anchors and not anchors.keys().isdisjoint(_WORD_RUN.findall(s)):
            for m in _WORD_RUN.finditer(s):
                for value, off in anchors.get(m.group(), ()):
                    a = m.start() - off
                    if a >= 0 and s.startswith(value, a) and whole_token(s, a, a + len(value)):
                        found.append((a, a + len(value), value))
        for value in self._odd:
            i = s.find(value)
            while i >= 0:
                found.append((i, i + len(value), value))
                i = s.find(value, i + 1)
        if len(found) < 2:
            return found
        found.sort(key=lambda f: (f[0], -len(f[2])))
        out: list[tuple[int, int, str]] = []
        for f in found:
            if not out or f[0] >= out[-1][1]:
                out.append(f)
        return out


def count_tokens(text: str, values: list[str]) -> list[tuple[int, int]]:
    """Spans of the occurrences of `values` in `text` as whole tokens (the rescan's rule):
    leftmost first, the longest at a position, not overlapping (as :class:`TokenSet`)."""
    spans = []
    for value in values:
        i = text.find(value)
        while i >= 0:
            if whole_token(text, i, i + len(value)):
                spans.append((i, i + len(value)))
            i = text.find(value, i + 1)
    spans.sort(key=lambda s: (s[0], -s[1]))
    out: list[tuple[int, int]] = []
    for span in spans:
        if not out or span[0] >= out[-1][1]:
            out.append(span)
    return out
