"""Redaction of ordinary words, token formats and credentials options (canned text; the
real-engine proof is tests/engine/test_redaction_words.py).

Learned values are replaced as whole tokens; weak values (common words, default passwords)
only where they stand as the secret, and recorded; free-text `key: value` needs a strongly
secret key or a secret-looking value; well-known token formats go under any name."""

from __future__ import annotations

import base64
import json

import pytest

from diagnose.model.errors import UsageError
from diagnose.pipeline.publish import redacted_argv
from diagnose.redact.redactor import PLACEHOLDER_RE, Redactor
from diagnose.redact.values import weak_reason

STAMP = "2026-11-27T20:57:14.123456789Z"


# -- whole tokens -------------------------------------------------------------------------------
def test_learned_values_are_replaced_as_whole_tokens_only():
    r = Redactor()
    r.assignment("DB_PASSWORD=Sup3r-Secret", "f")
    assert r.text("pw=Sup3r-Secret; \"Sup3r-Secret\" (Sup3r-Secret)", "g") == \
        'pw=[redacted-1]; "[redacted-1]" ([redacted-1])'
    for glued in ("xSup3r-Secret", "Sup3r-Secret_2", "Sup3r-Secret9", "_Sup3r-Secret"):
        assert r.text(glued, "g") == glued
        assert r.leaks(glued) == 0
    assert r.leaks("k=Sup3r-Secret.") == 1
    # a value that starts and ends with punctuation has no identifier side to guard
    r.assignment("API_TOKEN=-Tok3n!", "f")
    assert r.text("a-Tok3n!b", "g") == "a[redacted-2]b"


# -- weak values --------------------------------------------------------------------------------
@pytest.mark.parametrize("value,why", [
    ("root", "a common or default password"), ("Postgres", "a common or default password"),
    ("changeme", "a common or default password"), ("123456", "a common or default password"),
    ("hunter", "a single word (letters only)"), ("banana", "a single word (letters only)"),
    ("error", "a single word (letters only)"), ("90210", "digits only"),
    ("a1", "shorter than 4 characters"),
])
def test_weak_values(value, why):
    assert weak_reason(value) == why


@pytest.mark.parametrize("value", ["Tr0ub4dor&3", "correcthorsebatterystaple",
                                   "12345678901", "Sup3r-Secret", "true", "running", ""])
def test_not_weak(value):
    assert weak_reason(value) == ""


def test_weak_values_are_redacted_in_place_and_never_spread():
    r = Redactor()
    ins = {"Config": {"Env": ["MYSQL_ROOT_PASSWORD=root", "POSTGRES_PASSWORD=postgres",
                              "APP_SECRET=error", "PATH=/usr/bin"],
                      "Image": "diagnose-samples/sample:1"}}
    out = json.loads(r.file("containers/db/inspect.json", json.dumps(ins).encode()))
    assert out["Config"]["Env"][:3] == ["MYSQL_ROOT_PASSWORD=[redacted-1]",
                                        "POSTGRES_PASSWORD=[redacted-2]",
                                        "APP_SECRET=[redacted-3]"]
    assert r.secrets() == []  # the rescan looks for none of them
    for own_words in ("runs-as-root", "app-exit-error", "D705 runs-as-root: runs as root",
                      "password authentication failed for user postgres",
                      '{"root": true, "error": "sample"}', "diagnose-samples/sample:1"):
        assert r.text(own_words, "summary.md") == own_words
        assert r.leaks(own_words) == 0
    assert r.weak_count() == 3
    assert r.summary()["weak"] == 3 and "root" not in json.dumps(r.summary())
    assert r.weak_found("containers/db/inspect.json") == [
        {"kind": "env", "name": "APP_SECRET", "field": "Env",
         "why": "a single word (letters only)"},
        {"kind": "env", "name": "MYSQL_ROOT_PASSWORD", "field": "Env",
         "why": "a common or default password"},
        {"kind": "env", "name": "POSTGRES_PASSWORD", "field": "Env",
         "why": "a common or default password"}]


def test_weak_values_are_recorded_where_they_stood():
    r = Redactor()
    ins = {"Config": {
        "Env": ["DATABASE_URL=postgres://app:postgres@db/app",
                "JAVA_OPTS=-Dspring.datasource.password=admin -Xmx1g"],
        "Cmd": ["app", "--password", "changeme"],
        "Labels": {"com.example.db-password": "1234"},
        "Healthcheck": {"Test": ["CMD-SHELL", "curl -fsu admin:admin http://localhost/"]}}}
    r.file("c/inspect.json", json.dumps(ins).encode())
    found = {(w["kind"], w["name"], w["field"]) for w in r.weak_found("c/inspect.json")}
    assert found == {("url", "DATABASE_URL", "Env"),
                     ("setting", "-Dspring.datasource.password", "Env"),
                     ("flag", "--password", "Cmd"), ("label", "com.example.db-password", "Labels"),
                     ("flag", "curl -u", "Test")}
    off = Redactor(enabled=False)  # --no-redact: the record does not depend on redaction
    assert off.weak_record("c/inspect.json", json.dumps(ins).encode()) == \
        r.weak_found("c/inspect.json")


# -- over-redaction -----------------------------------------------------------------------------
def test_an_assignment_on_a_command_line_takes_one_word():
    r = Redactor()
    line = "PGPASSWORD=Pg-Pass-1 psql -h db && redis-server --port 6379"
    expected = "PGPASSWORD=[redacted-1] psql -h db && redis-server --port 6379"
    assert r.argv(["sh", "-c", line], "f") == ["sh", "-c", expected]
    assert r.command_line(line, "f") == expected
    assert r.text(line, "f") == expected
    assert r.assignment(f"CMD_LINE={line}", "f") == f"CMD_LINE={expected}"
    # an option's argument that has spaces is still the secret as a whole
    assert r.argv(["app", "--password", "pass phrase two"], "f") == \
        ["app", "--password", "[redacted-2]"]


@pytest.mark.parametrize("text", [
    "tests pass: 10", "session: started", "auth: ok", "cache key=batch-12345",
    "key: user:42", "cookie: accepted", "auth module loaded", "session=abc",
])
def test_free_text_key_value_needs_a_secret_key_or_a_secret_value(text):
    assert Redactor().text(text, "f") == text


@pytest.mark.parametrize("text,secret", [
    ("password: hunter2", "hunter2"), ("api_key=AbC123xyz789", "AbC123xyz789"),
    ("token: expired", "expired"), ("key=AbC123xyz789Q", "AbC123xyz789Q"),
    ("session=9f86d081884c7d659a2feaa0c55ad015", "9f86d081884c7d659a2feaa0c55ad015"),
    ("client_secret = 'abc'", "abc"),
])
def test_free_text_secrets_still_go(text, secret):
    out = Redactor().text(text, "f")
    assert secret not in out and PLACEHOLDER_RE.search(out)


# -- token formats under names that do not look secret ------------------------------------------
TOKENS = {
    "openai-key": ["sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcDEF",
                   "sk-svcacct-AbCdEfGhIjKlMnOpQrStUvWxYz0123",
                   "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"],
    "anthropic-key": ["sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"],
    "github-token": ["ghp_0123456789abcdefghijABCDEFGHIJ012345",
                     "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz"],
    "gitlab-token": ["glpat-AbCdEfGhIjKlMnOpQrSt1"],
    "slack-token": ["xoxb-123456789012-abcdefABCDEF", "xapp-1-A0123456789-abcdefabcdef"],
    "stripe-key": ["sk_live_4eC39HqLyjWDarjtT1zdp7dc", "whsec_AbCdEfGhIjKlMnOpQrStUv"],
    "aws-access-key-id": ["AKIAIOSFODNN7EXAMPLE", "A3TXIOSFODNN7EXAMPLE"],
    "saas-token": ["AIzaSyA1234567890abcdefghijklmnopqrstuv",
                   "npm_" + "a1B2" * 9, "pypi-AgEIcHlwaS5vcmc" + "Ab1_" * 15,
                   "SG." + "a" * 22 + "." + "b" * 43, "dop_v1_" + "0a" * 32,
                   "hf_" + "AbCd" * 9, "sq0csp-" + "A" * 43, "sq0atp-" + "B" * 22,
                   "0123456789abcdef0123456789abcdef-us12", "AKCp" + "x1" * 34 + "y",
                   "shpat_" + "0a" * 16],
    "telegram-bot-token": ["123456789:AAH" + "x" * 32],
    "discord-token": ["MTA" + "b" * 21 + "." + "c" * 6 + "." + "d" * 27],
    "twilio-key": ["SK" + "0123456789abcdef" * 2, "AC" + "fedcba9876543210" * 2],
    "jwt": ["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9"],
}


@pytest.mark.parametrize("rule,token", [(k, t) for k, ts in TOKENS.items() for t in ts])
def test_token_formats_go_whatever_their_name(rule, token):
    r = Redactor()
    for text in (f"MODEL_NAME={token}", f"note: using {token} today", f'{{"v": "{token}"}}'):
        out = r.text(text, "f")
        assert token not in out, (rule, text)
    assert rule in {c["rule"] for c in r.report()}


def test_azure_storage_account_key():
    key = "A" * 40 + "b" * 46 + "=="
    out = Redactor().text(f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};"
                          "EndpointSuffix=core.windows.net", "f")
    assert key not in out and "AccountKey=[redacted-1];EndpointSuffix" in out


@pytest.mark.parametrize("text", [
    "Mounting /var/lib/docker with options rw.relatime.seclabel", "task-queue disk-full",
    "ACK 123 SKIP", "curl -s http://localhost/health", "docker run -u 1000:1000 app",
    "ps -u root", "mysql -u root", "http: 200 OK",
])
def test_token_rules_leave_ordinary_text(text):
    assert Redactor().text(text, "f") == text


# -- credentials options ------------------------------------------------------------------------
def test_curl_user_password_in_healthchecks_commands_and_logs():
    r = Redactor()
    hc = {"Healthcheck": {"Test": ["CMD", "curl", "-fu", "x", "-u", "admin:Hc-Pw-1x",
                                   "http://localhost/"]}}
    assert r.json(hc, "f")["Healthcheck"]["Test"][5] == "admin:[redacted-1]"
    shell = {"Healthcheck": {"Test": ["CMD-SHELL", "curl -f --user=admin:Hc-Pw-2x http://l/ "
                                      "|| exit 1"]}}
    assert r.json(shell, "f")["Healthcheck"]["Test"][1] == \
        "curl -f --user=admin:[redacted-2] http://l/ || exit 1"
    for line, secret in (("curl -u user:Log-Pw-3x http://x", "Log-Pw-3x"),
                         ("+ curl -sS -uuser:Log-Pw-4x https://api/", "Log-Pw-4x"),
                         ("curl --proxy-user 'p:Log-Pw-5x' -x proxy http://x", "Log-Pw-5x")):
        out = r.text(f"{STAMP} {line}", "log")
        assert secret not in out and "user" in line and PLACEHOLDER_RE.search(out)
    assert r.argv(["redis-cli", "-a", "Redis-Pw-6x", "ping"], "f")[2].startswith("[redacted-")
    assert r.argv(["http", "-a", "u:Httpie-7x", "GET", "x"], "f")[2] == "u:[redacted-7]"
    # -u means credentials for curl only
    assert r.argv(["docker", "run", "-u", "1000:1000", "app"], "f") == \
        ["docker", "run", "-u", "1000:1000", "app"]
    assert r.command_line("ps -u root:root && id -u", "f") == "ps -u root:root && id -u"


def test_base64_of_a_learned_secret_and_of_user_and_password():
    r = Redactor()
    r.assignment("DB_PASSWORD=Sup3r-Secret-9", "f")
    b64 = base64.b64encode(b"Sup3r-Secret-9").decode()
    assert r.text(f"echo {b64} | base64 -d", "g") == "echo [redacted-1] | base64 -d"
    assert r.leaks(f"x {b64}") == 1
    r.text("postgres://app:Url-Pw-9x@db/app", "g")
    basic = base64.b64encode(b"app:Url-Pw-9x").decode()
    assert basic not in r.text(f"sending {basic}", "g")
    r.text("curl -u admin:Curl-Pw-10 http://x", "g")
    assert base64.b64encode(b"admin:Curl-Pw-10").decode() not in r.text(
        "auth " + base64.b64encode(b"admin:Curl-Pw-10").decode(), "g")


def test_a_jwt_split_over_two_log_lines_goes_whole():
    head = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3ZWIiLCJuYW1lIjoiYSJ9."
    sig = "LogJwtSig9876543210abcdefABCDEF"
    mid = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3Z"
    rest = "WIiLCJuYW1lIjoiYSJ9.OtherSig0123456789"
    log = (f"{STAMP} token {head}\n{STAMP} {sig}\n{STAMP} next line\n"
           f"{STAMP} session={mid}\n{STAMP} {rest} trailing words\n{STAMP} done\n")
    r = Redactor()
    out = r.file("containers/a/logs/stdout.log", log.encode()).decode()
    for piece in (head, sig, mid, rest, "OtherSig0123456789"):
        assert piece not in out
    lines = out.split("\n")
    assert len(lines) == len(log.split("\n")) and lines[2] == f"{STAMP} next line"
    assert lines[4].endswith(" trailing words") and lines[5] == f"{STAMP} done"
    # a complete JWT at the end of a line does not take the next line's first word
    whole = f"{STAMP} jwt {head}{sig}\n{STAMP} Starting worker\n"
    assert r.file("x.log", whole.encode()).decode().endswith(f"{STAMP} Starting worker\n")


# -- user patterns and the manifest -------------------------------------------------------------
@pytest.mark.parametrize("pattern", ["(?<=user=)\\w+", "(a)\\1", "(unclosed"])
def test_user_patterns_need_re2_syntax(pattern):
    with pytest.raises(UsageError, match="RE2 syntax") as err:
        Redactor(extra_patterns=[pattern])
    assert "\n" not in str(err.value)


def test_user_patterns_on_text_that_is_not_utf8():
    r = Redactor(extra_patterns=[r"ACME-(\d+)"])
    raw = b"\xff\xfe ACME-123456 caf\xc3\xa9 \x80 ACME-77\n"
    out = r.file("containers/a/logs/stdout.log", raw)
    assert out == b"\xff\xfe ACME-[redacted-1] caf\xc3\xa9 \x80 ACME-[redacted-2]\n"


def test_manifest_command_line_loses_patterns_and_passwords():
    r = Redactor()
    argv = ["web", "--redact", "Literal-Secret-42", "--redact=Other-Secret-7", "-H",
            "tcp://ops:Host-Pw-9x@10.0.0.5:2376", "--no-redact"]
    out = redacted_argv(argv, r)
    assert out[:2] == ["web", "--redact"] and out[-1] == "--no-redact"
    text = json.dumps(out)
    for secret in ("Literal-Secret-42", "Other-Secret-7", "Host-Pw-9x"):
        assert secret not in text
