"""What looks secret: names, text patterns, PEM blocks, and the spans redaction never rewrites.

Pure data and pure functions; :mod:`diagnose.redact` applies them.  Every rule names the part
of a match that is the secret (group `v`, or `v2`/`v3` for alternative spellings) so the
placeholder can replace exactly that and leave the key visible: `DB_PASSWORD=[redacted-1]`,
`postgres://app:[redacted-2]@db`, `Authorization: Bearer [redacted-3]`.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import html
import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from diagnose.lazyre import lazy_compile

PLACEHOLDER_RE = lazy_compile(r"\[redacted-\d+\]")

#: Name fragments that mark a variable, label, flag or field as secret (case-insensitive).
_SECRET_SUBSTRINGS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE",
                      "APIKEY", "API_KEY", "ACCESSKEY", "ACCESS_KEY", "PASSPHRASE",
                      "REQUIREPASS", "MASTERAUTH", "AUTHORIZATION", "OAUTH", "PRIVKEY")
#: Whole words of a name (split on `_`, `-`, `.` and camelCase) that mark it secret.
_SECRET_PARTS = {"KEY", "KEYS", "PASS", "PWD", "AUTH", "DSN", "SALT", "COOKIE", "SESSION",
                 "SIGNATURE", "CREDS", "JWT", "OTP", "PIN", "CERTKEY", "AUTHKEY", "HMAC"}
#: Normalised (upper case, letters and digits only) names that look secret but are not,
#: among them engine fields such as NetworkSettings.SandboxKey.
_NOT_SECRET_NAMES = {"KEYBOARD", "PASSTHROUGH", "AUTHTYPE", "AUTHOR", "AUTHORS", "TOKENTYPE",
                     "SANDBOXKEY", "CERTISSUERPUBLICKEY", "AUTHORITY", "KEYSPACE", "PINNED",
                     "SESSIONS"}
#: A secret-looking name with one of these last words holds a reference to a secret (a
#: file, a path, an id, a URL whose password the URL rule handles), not the secret itself.
#: Redacting those would spread harmless values such as `/run/secrets` over the evidence.
_REFERENCE_SUFFIXES = ("FILE", "PATH", "DIR", "FILENAME", "LOCATION", "ID", "IDS", "NAME",
                       "TYPE", "URL", "URI", "ENDPOINT", "HOST", "PORT", "ENABLED", "ENABLE",
                       "DISABLED", "TTL", "TIMEOUT", "LENGTH", "SIZE", "ALGORITHM", "ALG",
                       "EXPIRY", "EXPIRES", "VERSION", "MODE", "METHOD", "PROVIDER", "ISSUER",
                       "PUBLIC", "PUB", "FINGERPRINT",
                       # ...or names a condition, not a value: Python's `KeyError: 'APP_CONFIG'`,
                       # `TokenExpiredError`, `AuthenticationFailure`.
                       "ERROR", "ERRORS", "EXCEPTION", "FAILURE", "FAILED", "WARNING")
_PUBLIC_ENDINGS = ("PUBLICKEY", "PUBKEY", "KEYID")


@functools.lru_cache(maxsize=4096)
def secret_name(name: str, extra: tuple[str, ...] = ()) -> bool:
    """Does a variable/label/flag/field name look like it holds a secret?

    `extra` are user-configured name fragments (config file `redact_names`), matched as
    case-insensitive substrings.
    """
    upper = name.upper().lstrip("-")
    flat = re.sub(r"[^A-Z0-9]", "", upper)
    if not flat:
        return False
    if any(e and e.upper() in upper for e in extra):
        return True
    if flat in _NOT_SECRET_NAMES or flat.endswith(_PUBLIC_ENDINGS):
        return False
    words = [w for w in re.split(r"[^A-Z0-9]+",
                                 re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).upper()) if w]
    if len(words) > 1 and words[-1] in _REFERENCE_SUFFIXES:
        return False
    if any(s in upper for s in _SECRET_SUBSTRINGS):
        return True
    return bool(set(words) & _SECRET_PARTS)


@dataclass(frozen=True)
class Rule:
    """One text pattern: its report name, regex, and how much its matches are trusted.

    `gate`: the match's group `k` must look like a secret name.  `learn`: "always" spreads
    the value to every other place it occurs (and the rescan looks for it); "strong" only
    when the value looks like a real secret rather than a word (free-text key: value pairs
    such as `auth: failed` in a log must not make "failed" vanish everywhere).
    """

    name: str
    regex: re.Pattern[str]
    triggers: tuple[str, ...]  # lower-case literals: a string with none of them cannot match
    gate: bool = False
    learn: str = "always"


KV_FRAGMENTS = ("pass", "pwd", "secret", "token", "key", "auth", "credential", "private", "dsn",
                "salt", "cookie", "session", "signature", "creds", "jwt", "hmac")
KV_FRAGMENT_RE = lazy_compile("|".join(KV_FRAGMENTS))
_KV_NAME = r"[A-Za-z0-9_.-]*(?:" + "|".join(KV_FRAGMENTS) + r")[A-Za-z0-9_.-]*"

_AWS_KEY_PREFIXES = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA",
                     "ACCA")
_GITLAB_PREFIXES = ("glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "glcbt-", "glimt-", "glft-",
                    "gloas-", "glagent-")
_KV_SEPARATOR_AND_VALUE = (
    r"[\"']?\s*(?:=|:(?!//))\s*"
    r"(?![\"']?(?:basic|bearer|digest|negotiate|token)\s)"  # `Authorization: Bearer x`
    r"(?:\"(?P<v>[^\"\\\s](?:[^\"\\\n]|\\.)*)\"|'(?P<v2>[^'\s][^'\n]*)'"
    r"|(?P<v3>[^\s\"'&,;<>\[\]{}()]+))")
#: The key-value rule anchored at the start of a key (see :func:`key_value_matches`).
KV_AT = lazy_compile(r"(?i)(?P<k>" + _KV_NAME + ")" + _KV_SEPARATOR_AND_VALUE)

TEXT_RULES: tuple[Rule, ...] = (
    Rule("url-password", lazy_compile(
        r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/?#@:\"'<>]*:(?P<v>[^\s/?#\"'<>]+)@"), ("://",)),
    Rule("authorization-header", lazy_compile(
        r"(?i)\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?"
        r"(?:(?:basic|bearer|token|digest|negotiate|aws4-hmac-sha256)\s+)?"
        r"(?!(?:basic|bearer|token|digest|negotiate)\b)(?P<v>[^\s\"',;\[\]]{6,})"),
        ("authorization",)),
    Rule("bearer-token", lazy_compile(r"(?i)\bbearer\s+(?P<v>[A-Za-z0-9._~+/-]{8,}=*)"),
         ("bearer",)),
    Rule("jwt", lazy_compile(
        r"\b(?P<v>eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*)"), ("eyj",)),
    Rule("aws-access-key-id", lazy_compile(
        r"\b(?P<v>(?:" + "|".join(_AWS_KEY_PREFIXES) + r")[A-Z0-9]{16})\b"),
        tuple(p.lower() for p in _AWS_KEY_PREFIXES)),
    Rule("aws-secret-key", lazy_compile(
        r"(?i)aws[A-Za-z0-9_.-]{0,30}(?:secret|key)[A-Za-z0-9_.-]{0,30}[\"']?\s*[:=]\s*[\"']?"
        r"(?P<v>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"), ("aws",)),
    Rule("github-token", lazy_compile(
        r"\b(?P<v>gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})"),
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")),
    Rule("gitlab-token", lazy_compile(
        r"\b(?P<v>(?:" + "|".join(_GITLAB_PREFIXES) + r")[A-Za-z0-9_-]{20,}"
        r"|GR1348941[A-Za-z0-9_-]{20,})"), (*_GITLAB_PREFIXES, "gr1348941")),
    Rule("slack-token", lazy_compile(
        r"\b(?P<v>xox[abposre]-[A-Za-z0-9-]{10,})"
        r"|hooks\.slack\.com/services/(?P<v2>[A-Za-z0-9/]{20,})"), ("xox", "hooks.slack.com")),
    Rule("stripe-key", lazy_compile(
        r"\b(?P<v>(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9]{20,})"),
        ("_live_", "_test_", "whsec_")),
    Rule("saas-token", lazy_compile(
        r"\b(?P<v>AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|SG\.[A-Za-z0-9_-]{16,}\."
        r"[A-Za-z0-9_-]{16,}|dop_v1_[a-f0-9]{64}|hf_[A-Za-z0-9]{34,})"),
        ("aiza", "npm_", "sg.", "dop_v1_", "hf_")),
    Rule("key-value-pair", lazy_compile(
        r"(?i)(?<![A-Za-z0-9])(?P<k>" + _KV_NAME + ")" + _KV_SEPARATOR_AND_VALUE),
        KV_FRAGMENTS, gate=True, learn="strong"),
)
#: Every trigger literal: a line containing none of them (nor "-----") needs no rule at all.
ALL_TRIGGERS = tuple(sorted({t for r in TEXT_RULES for t in r.triggers}, key=lambda t: -len(t)))
#: One pass over a lower-cased string finds the triggers present (longest first)...
TRIGGER_RE = lazy_compile("|".join(re.escape(t) for t in ALL_TRIGGERS))
#: ...and each one found stands for every rule whose trigger it contains ("authorization"
#: also means "auth"), as indices into TEXT_RULES, so rules still run in their order.
RULES_FOR = {lit: frozenset(i for i, r in enumerate(TEXT_RULES)
                            if any(t in lit for t in r.triggers)) for lit in ALL_TRIGGERS}
_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def key_value_matches(s: str, low: str) -> list[re.Match[str]]:
    """Matches of the key-value rule, found from the secret-name fragments outward.

    Same result as the rule's regex, several times faster: the regex alone tries its
    unanchored key pattern at every position of every line.
    """
    if len(low) != len(s):  # case folding changed the length: positions would not line up
        return list(TEXT_RULES[-1].regex.finditer(s))
    out: list[re.Match[str]] = []
    last = -1
    for frag in KV_FRAGMENT_RE.finditer(low):
        a = frag.start()
        while a > 0 and s[a - 1] in _IDENT:
            a -= 1
        if a < last or (a > 0 and s[a - 1].isascii() and s[a - 1].isalnum()):
            continue
        m = KV_AT.match(s, a)
        if m:
            out.append(m)
            last = m.end()
    return out


# -- PEM private keys ---------------------------------------------------------------------------
_ARMOUR = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
PEM_BEGIN = lazy_compile(r"-----BEGIN " + _ARMOUR)
PEM_END = lazy_compile(r"-----END " + _ARMOUR)
PEM_FULL = lazy_compile(r"(-----BEGIN " + _ARMOUR + r")(?P<v>.*?)(?=-----END " + _ARMOUR + ")",
                        re.S)
PEM_OPEN = lazy_compile(r"(-----BEGIN " + _ARMOUR + r")(?P<v>(?:(?!-----END ).)+)\Z", re.S)
PEM_ORPHAN_END = lazy_compile(r"(?P<v>(?:[A-Za-z0-9+/=]|\\[rn]|\s){16,})(?=-----END " + _ARMOUR
                              + ")")
#: A line of key material inside a PEM block (base64, or the legacy encryption headers).
PEM_BODY_LINE = lazy_compile(r"^\s*(?:[A-Za-z0-9+/=]{8,}|Proc-Type:.*|DEK-Info:.*|)\s*$")

# -- spans that are never rewritten -------------------------------------------------------------
#: Docker's `--timestamps` prefix of a log line.
LOG_STAMP = lazy_compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ")
_PROTECTED = lazy_compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"  # RFC 3339 times
    r"|(?<![0-9A-Za-z])(?:sha256:)?[0-9a-f]{12,}(?![0-9A-Za-z])"  # IDs and digests
    r"|\[redacted-\d+\]"  # our own placeholders
)

#: Values too common to be spread as secrets (they are still replaced where found by name).
STOP_VALUES = frozenset({
    "true", "false", "null", "none", "nil", "yes", "no", "on", "off", "enabled", "disabled",
    "created", "running", "paused", "restarting", "removing", "exited", "dead", "healthy",
    "unhealthy", "starting", "default", "bridge", "host", "local", "json-file", "redacted",
})
MIN_PROPAGATE = 4  # shorter values are redacted where found, not searched for everywhere
MIN_LINE = 8  # lines of a multi-line secret that are searched for on their own


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Timestamps, engine IDs/digests and placeholders in `text`: never rewritten inside."""
    return [m.span() for m in _PROTECTED.finditer(text)]


def strictly_inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """Is `span` part of (and shorter than) one of `spans`?

    A learned secret `2024` inside a timestamp or `beef` inside a container ID is a
    coincidence, not a leak; a secret that *is* a whole 40-hex token is still replaced.
    """
    a, b = span
    return any(s <= a and b <= e and (e - s) > (b - a) for s, e in spans)


def strong(value: str) -> bool:
    """Does a value found in free text look like a real secret rather than a word (or a
    stretch of shell script between two quotes)?"""
    if len(value) < 8 or any(c.isspace() for c in value):
        return False
    classes = (any(c.islower() for c in value) + any(c.isupper() for c in value)
               + any(c.isdigit() for c in value) + any(not c.isalnum() for c in value))
    return classes >= 2


def propagates(value: str) -> bool:
    """Is `value` searched for everywhere once learned (and by the post-write rescan)?"""
    return (len(value) >= MIN_PROPAGATE and value.lower() not in STOP_VALUES
            and not PLACEHOLDER_RE.fullmatch(value))


def variants(value: str) -> set[str]:
    """How a secret may be spelled in other files: JSON- and HTML-escaped, percent-encoded,
    Markdown-table-escaped, and each long line of a multi-line value on its own."""
    out = {
        json.dumps(value, ensure_ascii=False)[1:-1],
        json.dumps(value)[1:-1],
        html.escape(value),
        urllib.parse.quote(value, safe=""),
        value.replace("|", "\\|"),
    }
    if "\n" in value:
        for line in value.splitlines():
            line = line.strip()
            if len(line) >= MIN_LINE and not PEM_BEGIN.search(line) and not PEM_END.search(line):
                out.add(line)
    out.discard(value)
    return {v for v in out if propagates(v)}


# -- what is printed ----------------------------------------------------------------------------
_CONTROL = lazy_compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(s: str) -> str:
    """Control characters (terminal escapes, NUL...) shown as `\\xNN`; tab and newline kept."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s) if _CONTROL.search(s) else s


def walk_strings(obj: Any, fix: Any) -> Any:
    """Apply `fix` to every string value in dataclasses, dicts, lists and tuples."""
    kind = type(obj)
    if kind is str:  # the most common value first
        return fix(obj)
    if obj is None or kind is int or kind is float or kind is bool or isinstance(obj, enum.Enum):
        return obj
    if isinstance(obj, str):
        return fix(obj)
    if isinstance(obj, dict):
        return {k: walk_strings(v, fix) for k, v in obj.items()}
    if kind is tuple:  # immutable: kept when no element changed (as dataclasses are)
        new = tuple(walk_strings(x, fix) for x in obj)
        return obj if all(a is b for a, b in zip(new, obj, strict=True)) else new
    if isinstance(obj, list | tuple):
        return type(obj)(walk_strings(x, fix) for x in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {}
        for name in _init_fields(type(obj)):
            value = getattr(obj, name)
            fixed = walk_strings(value, fix)
            if fixed is not value and fixed != value:
                changes[name] = fixed
        # Nothing changed (the usual case: reports are built from redacted evidence): the
        # same frozen object, without rebuilding it.
        return dataclasses.replace(obj, **changes) if changes else obj
    return obj


@functools.cache
def _init_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)
