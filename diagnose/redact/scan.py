"""The redaction rules that are scanners rather than one regular expression, all linear-time.

Each scanner finds its anchor literal (`://`, a secret-name fragment, `curl`, the PEM armour)
with one left-to-right search, then reads what follows with an *anchored* pattern whose every
repetition either is bounded or runs over a stretch of text no other anchor reads again:

- URL passwords: from each `://`, the user part cannot hold `/` or `:` and the password part
  cannot hold `/`, so neither reaches past the next `://`.
- key/value pairs: the identifier run around a secret-name fragment is measured once; the
  search for the next fragment resumes after that run (or after the value), so a 9 KB line of
  `authorizationauthorization...` is one run, read once.  An unclosed quote is read to the end
  of its line once: a later pair on that line cannot open a quote inside the stretch already
  read without closing it.
- `curl -u user:pw`: flags are looked for from a `curl` to the end of its command (`;`, `&`,
  `|`, newline), and the next `curl` is looked for after that end.
- PEM private keys: BEGIN and END lines are each found by one pass and paired in order; a cut
  block runs to the end; an END without a BEGIN takes the key material just before it, read
  backwards no further than the previous block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from diagnose.model.lazyre import lazy_compile


@dataclass(frozen=True, slots=True)
class Hit:
    """One match of a rule: the whole match, the secret inside it, and (when known) the
    secret's key name and the user name that goes with a password."""

    start: int
    end: int
    vstart: int
    vend: int
    key: str = ""
    user: str = ""


def regex_hits(rx: re.Pattern[str], s: str) -> list[Hit]:
    """The hits of a rule written as one regex: group `v` (or `v2`, `v3`) is the secret,
    `k` its key, `u` a user name."""
    out = []
    for m in rx.finditer(s):
        d = m.groupdict()
        g = next((n for n in ("v", "v2", "v3") if d.get(n) is not None), None)
        if g is None:
            continue
        a, b = m.span(g)
        out.append(Hit(m.start(), m.end(), a, b, d.get("k") or "", d.get("u") or ""))
    return out


# -- URL passwords ------------------------------------------------------------------------------
_URL_USERINFO = lazy_compile(r"(?P<u>[^\s/?#@:\"'<>]*+):(?P<v>[^\s/?#\"'<>]+)@")


def url_hits(s: str, low: str) -> list[Hit]:
    """`scheme://user:PASSWORD@host` (the password may hold `@`: the last one ends it)."""
    out = []
    i = s.find("://")
    while i >= 0:
        nxt = i + 3
        if i > 0 and s[i - 1].isascii() and s[i - 1].isalnum():
            m = _URL_USERINFO.match(s, i + 3)
            if m:
                out.append(Hit(i, m.end(), m.start("v"), m.end("v"), user=m.group("u")))
                nxt = m.end()
        i = s.find("://", nxt)
    return out


# -- key/value pairs ----------------------------------------------------------------------------
KV_FRAGMENTS = ("pass", "pwd", "secret", "token", "key", "auth", "credential", "private", "dsn",
                "salt", "cookie", "session", "signature", "creds", "jwt", "hmac")
KV_FRAGMENT_RE = lazy_compile("|".join(KV_FRAGMENTS))
_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_IDENT_RUN = lazy_compile(r"[A-Za-z0-9_.-]*+")
#: After the key: separator, then a double-quoted, single-quoted or bare value.  `\s` runs are
#: bounded; quoted values end at their first closing quote (possessive: no backtracking).
_KV_TAIL = lazy_compile(
    r"[\"']?\s{0,16}(?:=|:(?!//))\s{0,16}"
    r"(?![\"']?(?i:basic|bearer|digest|negotiate|token)\s)"  # `Authorization: Bearer x`
    r"(?:\"(?P<v>[^\"\\\s](?:[^\"\\\n]|\\.)*+)\"|'(?P<v2>[^'\s][^'\n]*+)'"
    r"|(?P<v3>[^\s\"'&,;<>\[\]{}()]++))")


def key_value_hits(s: str, low: str) -> list[Hit]:
    """`NAME=value`, `name: value`, `"name": "value"` where NAME holds a secret-name fragment
    (the caller decides whether the name really is secret).  `low` is `s` lower-cased with
    the same length."""
    out: list[Hit] = []
    pos = 0
    while True:
        frag = KV_FRAGMENT_RE.search(low, pos)
        if frag is None:
            return out
        a = frag.start()
        while a > pos and s[a - 1] in _IDENT:
            a -= 1
        run = _IDENT_RUN.match(s, frag.end())
        b = run.end() if run else frag.end()
        if a >= 2 and s[a - 2:a] == "${":
            # Shell parameter expansion: `${DB_PASSWORD:-default}` holds a default value (a
            # secret), `${DB_PASSWORD:?message}` a message (none).
            x = _EXPANSION.match(s, b)
            if x is not None and "?" not in x.group("op") and x.group("v"):
                out.append(Hit(a, x.end(), x.start("v"), x.end("v"), key=s[a:b]))
            pos = x.end() if x is not None else b
            continue
        m = _KV_TAIL.match(s, b)
        if m is None:
            pos = b
            continue
        g = "v" if m.group("v") is not None else "v2" if m.group("v2") is not None else "v3"
        if g == "v3" and _SHELL_ERROR.match(s, m.start(g)):
            pos = m.end()  # `sh: DB_PASSWORD: parameter not set`: the shell, not a value
            continue
        if _SHELL_REF.fullmatch(s, m.start(g), m.end(g)) and (
                m.end(g) > m.start(g) + 1 or s.startswith("{", m.end(g))):
            # `DB_PASSWORD=$DB_PASSWORD`, `=${DB_PASSWORD:-default}`: a reference, not a value
            # (a default inside it is found next, as an expansion).
            pos = m.start(g) + 1
            continue
        out.append(Hit(a, m.end(), m.start(g), m.end(g), key=s[a:b]))
        pos = m.end()


#: What follows `${NAME` in a shell parameter expansion: the operator, then the word.
_EXPANSION = lazy_compile(r"(?P<op>:?[-=?+])(?P<v>[^}\n]{0,256}+)\}")
#: A shell variable reference where a value would stand: `$NAME` (upper case, as environment
#: variables are: a password may start with `$`) or the `$` of `${NAME...`.
_SHELL_REF = lazy_compile(r"\$(?:[A-Z_][A-Z0-9_]*+)?")
#: The shell's own messages about a variable (`NAME: parameter not set`, bash `set -u`).
_SHELL_ERROR = lazy_compile(r"(?:parameter (?:null or )?not set(?: or null)?|unbound variable"
                            r"|readonly variable|bad substitution)\b")


# -- curl -u user:password ----------------------------------------------------------------------
_CMD_END = lazy_compile(r"[;&|\n]")
_CURL_USER = lazy_compile(
    r"(?<!\S)(?:-[A-Za-z]{0,16}[uU]|--user|--proxy-user)(?:=|[ \t]{1,16})?[\"']?"
    r"(?P<u>[^\s:\"']*+):(?P<v>[^\s\"']++)")
_WORDISH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def curl_user_hits(s: str, low: str) -> list[Hit]:
    """The password of `curl -u user:PASSWORD` (also `--user`, `--proxy-user`, `-U`, glued
    `-uuser:pw` and `--user=user:pw`) in a command written out as text (a log line, a shell
    command string).  `-u` means credentials for curl only (`docker run -u 1000:1000`)."""
    out = []
    i = low.find("curl")
    while i >= 0:
        nxt = i + 4
        before = s[i - 1] if i else " "
        after = s[i + 4] if i + 4 < len(s) else " "
        if before not in _WORDISH and after not in _WORDISH:
            end_m = _CMD_END.search(s, nxt)
            end = end_m.start() if end_m else len(s)
            for m in _CURL_USER.finditer(s, nxt, end):
                out.append(Hit(m.start(), m.end(), m.start("v"), m.end("v"),
                               user=m.group("u")))
            nxt = max(end, nxt)
        i = low.find("curl", nxt)
    return out


# -- tokens with no prefix: each found from the literal in its middle -----------------------------
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_DIGITS = frozenset("0123456789")
_TELEGRAM_TAIL = lazy_compile(r":A[A-Za-z0-9_-]{34}(?![A-Za-z0-9_-])")
_DISCORD_TAIL = lazy_compile(r"\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,38}(?![A-Za-z0-9_-])")
_TWILIO = (lazy_compile(r"AC[0-9a-f]{32}(?![A-Za-z0-9])"),
           lazy_compile(r"SK[0-9a-f]{32}(?![A-Za-z0-9])"))
#: A string none of these can match in has no such token (one cheap search); none is shorter
#: than NO_PREFIX_MIN.
NO_PREFIX_MIN = 34
NO_PREFIX_GATE = lazy_compile(r":A[A-Za-z0-9_-]{34}|\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}"
                              r"|AC[0-9a-f]{32}|SK[0-9a-f]{32}")


def _run_before(s: str, end: int, chars: frozenset[str], most: int) -> int:
    """Length of the run of `chars` that ends at `end` (reading back at most `most` + 1)."""
    a = end
    while a > 0 and end - a <= most and s[a - 1] in chars:
        a -= 1
    return end - a


def telegram_hits(s: str, low: str) -> list[Hit]:
    """Telegram bot tokens: 8-10 digits, `:A`, 34 more characters."""
    out = []
    for m in _TELEGRAM_TAIL.finditer(s):
        n = _run_before(s, m.start(), _DIGITS, 10)
        if 8 <= n <= 10:
            out.append(Hit(m.start() - n, m.end(), m.start() - n, m.end()))
    return out


def discord_hits(s: str, low: str) -> list[Hit]:
    """Discord bot tokens: `[MNO]` and 23-25 characters, `.`, 6, `.`, 27-38."""
    out = []
    for m in _DISCORD_TAIL.finditer(s):
        n = _run_before(s, m.start(), _TOKEN_CHARS, 26)
        if 24 <= n <= 26 and s[m.start() - n] in "MNO":
            out.append(Hit(m.start() - n, m.end(), m.start() - n, m.end()))
    return out


def twilio_hits(s: str, low: str) -> list[Hit]:
    """Twilio account and API key SIDs: `AC` or `SK` and 32 hex digits."""
    out: list[Hit] = []
    for rx in _TWILIO:
        for m in rx.finditer(s):
            a = m.start()
            if a == 0 or not (s[a - 1].isascii() and s[a - 1].isalnum()):
                out.append(Hit(a, m.end(), a, m.end()))
    out.sort(key=lambda h: h.start)
    return out


# -- PEM private keys ---------------------------------------------------------------------------
_ARMOUR = r"(?:[A-Z0-9]++ ){0,8}PRIVATE KEY(?: BLOCK)?-----"
PEM_BEGIN = lazy_compile(r"-----BEGIN " + _ARMOUR)
PEM_END = lazy_compile(r"-----END " + _ARMOUR)
_B64_LINE = lazy_compile(r"[A-Za-z0-9+/=]{8,}+")
_MATERIAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\\ \t\r\n")
ORPHAN_MIN = 16  # material before an END without BEGIN, to count as key material


def pem_spans(s: str) -> list[tuple[int, int]]:
    """The key material of every PEM private key in `s`: whole blocks (BEGIN to the next END),
    a block cut at the end of `s` (BEGIN with no END: to the end), and the tail of a block
    whose BEGIN was cut off (END with no BEGIN: the base64, whitespace and `\\n` escapes just
    before it).  In order, not overlapping."""
    begins = [m.span() for m in PEM_BEGIN.finditer(s)]
    ends = [m.span() for m in PEM_END.finditer(s)]
    out: list[tuple[int, int]] = []
    last = 0  # end of the previous block: nothing before it is read again
    j = 0
    for b_start, b_end in begins:
        if b_start < last:
            continue  # a BEGIN inside the previous block's material
        while j < len(ends) and ends[j][0] < b_end:
            _orphan(s, ends[j][0], last, out)
            last = max(last, ends[j][1])
            j += 1
        if j == len(ends):
            out.append((b_end, len(s)))
            return out
        out.append((b_end, ends[j][0]))
        last = ends[j][1]
        j += 1
    for e_start, e_end in ends[j:]:
        _orphan(s, e_start, last, out)
        last = e_end
    return out


def _orphan(s: str, end: int, floor: int, out: list[tuple[int, int]]) -> None:
    a = end
    while a > floor and s[a - 1] in _MATERIAL:
        a -= 1
    while a < end and s[a] in " \t\r\n":
        a += 1
    if end - a >= ORPHAN_MIN:
        out.append((a, end))


def pem_body_line(rest: str) -> bool:
    """Is this line key material inside a PEM block (base64, or a legacy encryption header)?"""
    t = rest.strip()
    return bool(_B64_LINE.fullmatch(t)) or t.startswith(("Proc-Type:", "DEK-Info:"))
