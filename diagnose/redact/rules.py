"""What looks secret: names, the table of text rules, and the spans redaction never rewrites.

Pure data and pure functions; :mod:`diagnose.redact.text` applies them.  Every rule names the part
of a match that is the secret (a :class:`~diagnose.redact.scan.Hit`'s value span) so the
placeholder replaces exactly that and leaves the key visible: `DB_PASSWORD=[redacted-1]`,
`postgres://app:[redacted-2]@db`, `Authorization: Bearer [redacted-3]`.

Every rule runs in time linear in its input (redaction reads every log line a container
printed, so one crafted line must not stall a run).  A rule is anchored on a literal that one
left-to-right search finds (`eyJ`, `ghp_`, `://`, a secret-name fragment...); every repetition
after it is bounded or possessive, and a regex rule starts only where a token starts (a
lookbehind), so no stretch of text is read again from each position inside it.  The scanners
that are not one regex live in :mod:`diagnose.redact.scan`.  tests/unit/redact/test_linear.py
feeds every rule adversarial inputs of growing length and checks the growth.

Well-known token formats.  The rules cover the formats of detect-secrets 1.5.0 (Yelp) and the
common gitleaks ones: AWS (AWSKeyDetector: key IDs and, through the key/value rule, secret
keys), Azure storage (AzureStorageKeyDetector), basic auth in URLs (BasicAuthDetector),
Discord (DiscordBotTokenDetector), GitHub (GitHubTokenDetector), GitLab (GitLabTokenDetector),
JWTs (JwtTokenDetector), Mailchimp (MailchimpDetector), npm (NpmDetector), OpenAI
(OpenAIDetector, and the newer `sk-proj-`/`sk-svcacct-`/`sk-admin-` keys), PEM private keys
(PrivateKeyDetector), PyPI (PypiTokenDetector), SendGrid (SendGridDetector), Slack
(SlackDetector), Square (SquareOAuthDetector), Stripe (StripeDetector), Telegram
(TelegramBotTokenDetector), Twilio (TwilioKeyDetector), Artifactory (ArtifactoryDetector),
secret-looking names (KeywordDetector, narrowed: see below); plus Anthropic, Google API keys,
Hugging Face, DigitalOcean and Shopify.  Not covered: the entropy detectors (they would
redact every hash and ID), Cloudant, IBM Cloud, SoftLayer and public IP addresses.
We do not run detect-secrets' own patterns: measured on 1.5.0, RE2 rejects 13 of its 46
denylist patterns and all 10 of its keyword patterns (lookaround, backreferences), and under
Python's engine several are super-linear (its JWT pattern takes 2, 7, 27 ms on 2, 4, 8 KB of
`eyJeyJ...`; its OpenAI pattern 5, 22, 90 ms on `sk-sk-sk-...`), which a log line can trigger.
Its keyword detector redacts `key: value` for any key word, which turns `auth: ok` or
`tests pass: 10` into placeholders; the key/value rule here asks for a strongly secret name
(:func:`name_strength`) or a value that looks like a secret.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from diagnose.model.lazyre import lazy_compile
from diagnose.redact.scan import (
    KV_FRAGMENTS,
    Hit,
    curl_user_hits,
    discord_hits,
    key_value_hits,
    regex_hits,
    telegram_hits,
    twilio_hits,
    url_hits,
)

# -- names --------------------------------------------------------------------------------------
#: Name fragments that mark a variable, label, flag or field as secret (case-insensitive).
_SECRET_SUBSTRINGS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL", "PRIVATE",
                      "APIKEY", "API_KEY", "ACCESSKEY", "ACCESS_KEY", "PASSPHRASE",
                      "REQUIREPASS", "MASTERAUTH", "AUTHORIZATION", "OAUTH", "PRIVKEY")
#: Whole words of a name (split on `_`, `-`, `.` and camelCase) that mark it secret, strongly...
_STRONG_PARTS = {"PWD", "CREDS", "AUTHKEY", "CERTKEY"}
#: ...or weakly: in free text (`tests pass: 10`, `auth: ok`, `session: started`) these words
#: name something secret only when the value looks like a secret too.
_WEAK_PARTS = {"KEY", "KEYS", "PASS", "AUTH", "DSN", "SALT", "COOKIE", "SESSION", "SIGNATURE",
               "JWT", "OTP", "PIN", "HMAC"}
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
_NOT_NAME_CHARS = re.compile(r"[^A-Z0-9]")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_WORD_SPLIT = re.compile(r"[^A-Z0-9]+")


@functools.lru_cache(maxsize=4096)
def name_strength(name: str, extra: tuple[str, ...] = ()) -> int:
    """How surely a variable/label/flag/field name holds a secret: 0 not at all, 1 by a word
    that often means something else (`KEY`, `PASS`, `AUTH`, `SESSION`...), 2 surely
    (`PASSWORD`, `SECRET`, `TOKEN`, `API_KEY`, `CREDENTIAL`, `PRIVATE`... or one of the
    user's `extra` fragments, matched as case-insensitive substrings)."""
    upper = name.upper().lstrip("-")
    flat = _NOT_NAME_CHARS.sub("", upper)
    if not flat:
        return 0
    if any(e and e.upper() in upper for e in extra):
        return 2
    if flat in _NOT_SECRET_NAMES or flat.endswith(_PUBLIC_ENDINGS):
        return 0
    words = [w for w in _WORD_SPLIT.split(_CAMEL.sub(r"\1_\2", name).upper()) if w]
    if len(words) > 1 and words[-1] in _REFERENCE_SUFFIXES:
        return 0
    if any(s in upper for s in _SECRET_SUBSTRINGS) or set(words) & _STRONG_PARTS:
        return 2
    return 1 if set(words) & _WEAK_PARTS else 0


def secret_name(name: str, extra: tuple[str, ...] = ()) -> bool:
    """Does a variable/label/flag/field name look like it holds a secret?"""
    return name_strength(name, extra) > 0


# -- the rule table -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One text rule: its report name, how its hits are found, and how they are trusted.

    `triggers`: lower-case literals; a string with none of them cannot match.  A rule with
    no literal to look for (`triggers=()`) has a cheap, bounded regex that is its own
    trigger.  `gate`: the hit's key must look like a secret name.  `learn`: "always" spreads
    the value to every other place it occurs (and the rescan looks for it); "strong" only
    when the value looks like a real secret rather than a word (free-text key: value pairs
    such as `auth: failed` in a log must not make "failed" vanish everywhere).
    """

    name: str
    triggers: tuple[str, ...]
    regex: re.Pattern[str] | None = None
    scan: Callable[[str, str], list[Hit]] | None = None
    gate: bool = False
    learn: str = "always"

    def hits(self, s: str, low: str) -> list[Hit]:
        """The rule's hits in `s` (`low`: `s` lower-cased, same length)."""
        if self.scan is not None:
            return self.scan(s, low)
        assert self.regex is not None
        return regex_hits(self.regex, s)


_AWS_KEY_PREFIXES = ("AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA",
                     "ACCA", "A3T[A-Z0-9]")
_GITLAB_PREFIXES = ("glpat-", "gldt-", "glrt-", "glptt-", "glsoat-", "glcbt-", "glimt-", "glft-",
                    "gloas-", "glagent-")
_T = r"(?<![A-Za-z0-9_-])"  # a token starts here (not inside another token)
_E = r"(?![A-Za-z0-9_-])"  # and ends here
_SAAS = (  # (pattern of the whole token, trigger literals)
    (r"AIza[0-9A-Za-z_-]{35}", ("aiza",)),  # Google API key
    (r"npm_[A-Za-z0-9]{36}", ("npm_",)),
    (r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}+|pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9_-]{50,}+",
     ("pypi-age",)),
    (r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}", ("sg.",)),  # SendGrid
    (r"do[opr]_v1_[a-f0-9]{64}", ("dop_v1_", "doo_v1_", "dor_v1_")),  # DigitalOcean
    (r"hf_[A-Za-z0-9]{34,}+", ("hf_",)),  # Hugging Face
    (r"sq0(?:csp|atp)-[0-9A-Za-z_-]{22,43}", ("sq0csp-", "sq0atp-")),  # Square
    (r"[0-9a-f]{32}-us[0-9]{1,2}", ("-us",)),  # Mailchimp
    (r"AKCp[A-Za-z0-9]{69}", ("akcp",)),  # Artifactory
    (r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}", ("shpat_", "shpca_", "shppa_", "shpss_")),  # Shopify
)

TEXT_RULES: tuple[Rule, ...] = (
    Rule("url-password", ("://",), scan=url_hits),
    Rule("authorization-header", ("authorization",), lazy_compile(
        r"(?i)\b(?:proxy-)?authorization[\"']?\s{0,16}[:=]\s{0,16}[\"']?"
        r"(?:(?:basic|bearer|token|digest|negotiate|aws4-hmac-sha256)\s{1,16})?"
        r"(?!(?:basic|bearer|token|digest|negotiate)\b)(?P<v>[^\s\"',;\[\]]{6,}+)")),
    Rule("bearer-token", ("bearer",), lazy_compile(
        r"(?i)\bbearer\s{1,16}(?P<v>[A-Za-z0-9._~+/-]{8,}+=*+)")),
    Rule("jwt", ("eyj",), lazy_compile(
        _T + r"(?P<v>eyJ[A-Za-z0-9_-]{5,}+\.eyJ[A-Za-z0-9_-]{5,}+\.[A-Za-z0-9_-]*+)")),
    Rule("aws-access-key-id", tuple(p[:4].lower().rstrip("[") for p in _AWS_KEY_PREFIXES),
         lazy_compile(
        r"(?<![A-Za-z0-9])(?P<v>(?:" + "|".join(_AWS_KEY_PREFIXES) + r")[A-Z0-9]{16})"
        r"(?![A-Za-z0-9])")),
    Rule("github-token", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"), lazy_compile(
        r"(?<![A-Za-z0-9_])(?P<v>gh[pousr]_[A-Za-z0-9]{30,}+|github_pat_[A-Za-z0-9_]{30,}+)")),
    Rule("gitlab-token", (*_GITLAB_PREFIXES, "gr1348941"), lazy_compile(
        _T + r"(?P<v>(?:" + "|".join(_GITLAB_PREFIXES) + r")[A-Za-z0-9_-]{20,}+"
        r"|GR1348941[A-Za-z0-9_-]{20,}+)")),
    Rule("slack-token", ("xox", "xapp-", "hooks.slack.com"), lazy_compile(
        _T + r"(?P<v>xox[abposre]-[A-Za-z0-9-]{10,}+|xapp-[0-9]-[A-Za-z0-9-]{10,}+)"
        r"|hooks\.slack\.com/services/(?P<v2>[A-Za-z0-9/_]{20,}+)")),
    Rule("stripe-key", ("_live_", "_test_", "whsec_"), lazy_compile(
        r"(?<![A-Za-z0-9])(?P<v>(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}+"
        r"|whsec_[A-Za-z0-9]{20,}+)")),
    Rule("anthropic-key", ("sk-ant-",), lazy_compile(
        _T + r"(?P<v>sk-ant-[a-z0-9]{2,12}+-[A-Za-z0-9_-]{20,}+)")),
    Rule("openai-key", ("sk-",), lazy_compile(
        _T + r"(?P<v>sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}+"
        r"|sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})" + _E)),
    Rule("saas-token", tuple(t for _, ts in _SAAS for t in ts), lazy_compile(
        _T + r"(?P<v>" + "|".join(p for p, _ in _SAAS) + ")" + _E)),
    Rule("azure-storage-key", ("accountkey=",), lazy_compile(
        r"(?i)accountkey=(?P<v>[A-Za-z0-9+/]{86}==)")),
    Rule("telegram-bot-token", (), scan=telegram_hits),
    Rule("discord-token", (), scan=discord_hits),
    Rule("twilio-key", (), scan=twilio_hits),
    Rule("curl-user", ("curl",), scan=curl_user_hits),
    Rule("key-value-pair", KV_FRAGMENTS, scan=key_value_hits, gate=True, learn="strong"),
)

#: Every trigger literal: a line containing none of them (nor "-----", nor a match of a rule
#: without a literal, see :func:`self_triggered_spans`) needs no rule at all.
ALL_TRIGGERS = tuple(sorted({t for r in TEXT_RULES for t in r.triggers}, key=lambda t: -len(t)))
#: One pass over a lower-cased string finds the triggers present (longest first)...
TRIGGER_RE = lazy_compile("|".join(re.escape(t) for t in ALL_TRIGGERS))


@functools.cache
def _trigger_re() -> re.Pattern[str]:
    return re.compile(TRIGGER_RE.pattern)


def triggers_in(low: str) -> set[str]:
    """The trigger literals in `low` (a lower-cased string); called for every string
    redacted, so the compiled pattern is held directly rather than through its lazy proxy."""
    return set(_trigger_re().findall(low))
#: ...and each one found stands for every rule whose trigger it contains ("authorization"
#: also means "auth"), as indices into TEXT_RULES, so rules still run in their order.
RULES_FOR = {lit: frozenset(i for i, r in enumerate(TEXT_RULES)
                            if any(t in lit for t in r.triggers)) for lit in ALL_TRIGGERS}
#: The rules without a literal prefix (NO_PREFIX_GATE tells whether any can match).
SELF_RULES = frozenset(i for i, r in enumerate(TEXT_RULES) if not r.triggers)


def self_triggered_spans(text: str) -> list[tuple[int, int]]:
    """Where the rules without a literal prefix match in `text` (to select log lines)."""
    return [(h.start, h.end) for i in sorted(SELF_RULES) for h in TEXT_RULES[i].hits(text, text)]


_AWS_SECRET = lazy_compile(r"[A-Za-z0-9/+]{40}")


def key_value_rule(key: str, value: str) -> str:
    """The report name of a key/value hit: an AWS secret key has its own."""
    if "aws" in key.lower() and _AWS_SECRET.fullmatch(value):
        return "aws-secret-key"
    return "key-value-pair"


# -- spans that are never rewritten -------------------------------------------------------------
#: Docker's `--timestamps` prefix of a log line.
LOG_STAMP = lazy_compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ")
_PROTECTED = lazy_compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d++)?(?:Z|[+-]\d\d:\d\d)"  # RFC 3339 times
    r"|(?<![0-9A-Za-z])(?:sha256:)?[0-9a-f]{12,}+(?![0-9A-Za-z])"  # IDs and digests
    r"|\[redacted-\d++\]"  # our own placeholders
)


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Timestamps, engine IDs/digests and placeholders in `text`: never rewritten inside."""
    return [m.span() for m in _PROTECTED.finditer(text)]


def strictly_inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """Is `span` part of (and shorter than) one of `spans` (as :func:`protected_spans` gives
    them: in order, not overlapping)?

    A learned secret `2024` inside a timestamp or `beef` inside a container ID is a
    coincidence, not a leak; a secret that *is* a whole 40-hex token is still replaced.
    """
    a, b = span
    i = bisect.bisect_right(spans, (a, len(spans) and spans[-1][1] + 1)) - 1
    if i < 0:
        return False
    s, e = spans[i]
    return s <= a and b <= e and (e - s) > (b - a)
