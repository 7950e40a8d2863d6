"""Redaction that never breaks or stalls a run, on the real engine.

- Containers whose password is an ordinary word (`MYSQL_ROOT_PASSWORD=root`,
  `POSTGRES_PASSWORD=postgres`) get a normal report and bundle: check ids intact, the value
  redacted where it is the secret, log lines that say the same word kept, and the security
  finding weak-default-password naming the variable (also offline, and through
  `--no-redact` then `diagnose redact`).
- A container logging lines crafted against every rule is diagnosed in about the time of a
  container logging as many plain bytes.
- Secrets of formats the rules had missed (`curl -u` in a healthcheck and in logs, an OpenAI
  key under an innocent name, a JWT split over two log lines, the base64 of a learned secret)
  appear in no file of the bundle and on no output.
"""

from __future__ import annotations

import base64
import json
import resource
from pathlib import Path

import pytest

from tests.support.engine import docker, wait_for
from tests.support.runs import finding, finding_ids, read_members, run_diagnose

FAIL_LIKE_POSTGRES = "echo 'FATAL:  password authentication failed for user postgres'; exit 1"


def _no_value(text: str, value: str) -> bool:
    """`value` does not occur in `text` as a word of its own (JSON string, =value...)."""
    return not any(f"{a}{value}{b}" in text for a in ('"', "=", " ", ":")
                   for b in ('"', "\n", " ", "@", ","))


@pytest.fixture(scope="module")
def word_secrets(engine):
    """Exited containers whose passwords are default words."""
    mysql = engine.run("mysql-root", "-e", "MYSQL_ROOT_PASSWORD=root", "-e", "MYSQL_USER=app",
                       cmd=("sh", "-c", "echo 'mysqld: ready for connections'; exit 1"))
    pg = engine.run("pg-default", "-e", "POSTGRES_PASSWORD=postgres",
                    cmd=("sh", "-c", FAIL_LIKE_POSTGRES))
    for c in (mysql, pg):
        engine.wait_status(c, "exited")
    return mysql, pg


def test_default_word_passwords_give_a_normal_report(word_secrets, diagnose):
    mysql, pg = word_secrets
    r = diagnose(mysql, pg, "--format", "json")
    assert r.code == 1, r.stderr  # app-exit-error: an error finding, never 70
    assert r.bundle is not None and "secret survived" not in r.stderr
    members = r.members()
    for c, var, word in ((mysql, "MYSQL_ROOT_PASSWORD", "root"),
                         (pg, "POSTGRES_PASSWORD", "postgres")):
        ids = finding_ids(r, c)
        assert {"app-exit-error", "runs-as-root", "weak-default-password"} <= ids, ids
        inspect = json.loads(members[f"containers/{c}/inspect.json"])
        env = [e for e in inspect["Config"]["Env"] if e.startswith(f"{var}=")]
        assert len(env) == 1 and env[0].startswith(f"{var}=[redacted-"), env
        weak = finding(r, "weak-default-password", c)
        assert var in weak["title"] and weak["severity"] == "info"
        assert _no_value(json.dumps(weak), word)
        record = members[f"containers/{c}/redaction.json"].decode()
        assert var in record and _no_value(record, word)
    # The word is left where it is not the secret: check ids, the log, the report.
    stdout_log = members[f"containers/{pg}/logs/stdout.log"].decode()
    assert stdout_log.rstrip("\n").endswith("password authentication failed for user postgres")
    crash = finding(r, "app-exit-error", pg)
    assert "for user postgres" in crash["title"]
    findings_json = members["findings.json"].decode()
    assert '"runs-as-root"' in findings_json and "D705 `runs-as-root`" in \
        members["summary.md"].decode()
    manifest = json.loads(members["manifest.json"])
    assert manifest["redaction"]["weak"] == 2
    assert "redacted in place only: 2 weak value(s)" in \
        diagnose(mysql, pg, "--exit-zero").stdout
    # Offline, from the bundle alone, the same findings.
    offline = run_diagnose("analyze", str(r.bundle), "--format", "json", cwd=r.bundle.parent)
    assert offline.code == 1, offline.stderr
    assert finding_ids(offline, pg) == finding_ids(r, pg)
    assert offline.json()["redaction"]["weak"] == 2


def test_weak_password_through_no_redact_then_redact(word_secrets, diagnose, tmp_path):
    _, pg = word_secrets
    raw = diagnose(pg, "--no-redact", "--format", "json")
    assert raw.code == 1, raw.stderr
    assert "weak-default-password" in finding_ids(raw, pg)  # redaction off: still found
    assert "POSTGRES_PASSWORD=postgres" in raw.members()[f"containers/{pg}/inspect.json"].decode()
    fixed = run_diagnose("redact", str(raw.bundle), cwd=tmp_path)
    assert fixed.code == 0, fixed.stderr
    members = read_members(Path(fixed.stdout.strip()))
    assert "POSTGRES_PASSWORD=[redacted-" in members[f"containers/{pg}/inspect.json"].decode()
    assert "POSTGRES_PASSWORD" in members[f"containers/{pg}/redaction.json"].decode()
    doc = json.loads(members["findings.json"])
    ids = {f["id"] for t in doc["targets"] for f in t["findings"]}
    assert {"weak-default-password", "runs-as-root", "app-exit-error"} <= ids
    assert json.loads(members["manifest.json"])["redaction"]["weak"] == 1


# -- crafted log lines --------------------------------------------------------------------------
def _awk_line(fragment: str, times: int) -> str:
    return f"awk 'BEGIN{{for(i=0;i<{times};i++) printf \"{fragment}\"; print \"\"}}'"


ADVERSARIAL = [("pass", 1500), ("authorization", 700), ("eyJ-", 2000), ("a://", 2000),
               ("-----BEGIN RSA PRIVATE KEY-----", 200), ('password=\\"', 800),
               ("curl -u ", 1000), ("sk-", 2000), ("12345678:A", 800), (".aaaaaa.", 1000),
               ("key: ", 1500), ("AKIA", 2000), ("xoxb-", 1500), ("pass.", 1500)]


def _log_script(lines: list[tuple[str, int]]) -> str:
    return "; ".join([*(_awk_line(f, n) for f, n in lines), "echo ready", "sleep 100000"])


def test_crafted_log_lines_do_not_stall_a_diagnosis(engine, diagnose):
    crafted = engine.run("crafted-log", cmd=("sh", "-c", _log_script(ADVERSARIAL)))
    plain_lines = [("hello world ", len(f) * n // 12) for f, n in ADVERSARIAL]
    plain = engine.run("plain-log", cmd=("sh", "-c", _log_script(plain_lines)))
    for c in (crafted, plain):
        wait_for(lambda c=c: "ready" in docker("logs", c).stdout, what=f"{c} to log")

    def seconds(c: str) -> float:
        """CPU seconds the diagnose process spent (waiting on the engine or for a CPU the
        machine gives to others is not diagnose's work; a stalled redaction is)."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        r = diagnose(c, "--format", "json", "--exit-zero", timeout=600)
        assert r.code == 0, r.stderr
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)

    # Best of two each, taken in turns.
    times = {c: [] for c in (crafted, plain)}
    for _ in range(2):
        for c in (crafted, plain):
            times[c].append(seconds(c))
    ratio = min(times[crafted]) / min(times[plain])
    assert ratio < 3, f"crafted log took {ratio:.1f}x the time of a plain one ({times})"


# -- secrets of formats the rules had missed ----------------------------------------------------
STRONG = "Strong-Db-Pw-9Q"
TOKENS = {
    "healthcheck curl -u": "Hc-Curl-Secret-1x",
    "log curl -u": "Log-Curl-Secret-2x",
    "openai key": "sk-proj-R3dact10nT3stAbCdEfGhIjKlMnOpQrStUvWx_0123",
    "jwt head": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzcGxpdCIsIm4iOjF9.",
    "jwt tail": "SplitJwtSignature0123456789abcdef",
    "base64 of the password": base64.b64encode(STRONG.encode()).decode(),
    "the password": STRONG,
}

TOKEN_SCRIPT = (
    "echo 'probe: curl -fsS -u ops:Log-Curl-Secret-2x http://api.internal/health'; "
    "echo \"model config $MODEL_CONFIG\"; "
    "echo 'auth eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzcGxpdCIsIm4iOjF9.'; "
    "echo 'SplitJwtSignature0123456789abcdef'; "
    "echo \"db check $(echo -n $DB_PASSWORD | base64)\"; "
    "echo ready; sleep 100000"
)


@pytest.fixture(scope="module")
def token_container(engine):
    c = engine.run(
        "tokens", "-e", f"DB_PASSWORD={STRONG}", "-e", f"MODEL_CONFIG={TOKENS['openai key']}",
        "--health-cmd", "curl -u admin:Hc-Curl-Secret-1x http://localhost/ || exit 1",
        "--health-interval", "1s", "--health-retries", "1000",
        cmd=("sh", "-c", TOKEN_SCRIPT))
    wait_for(lambda: "ready" in docker("logs", c).stdout, what=f"{c} to log")
    # the healthcheck ran (its exec is in the events and the health log)
    wait_for(lambda: engine.inspect(c)["State"].get("Health", {}).get("Log"),
             what="a healthcheck run")
    return c


def _assert_clean(where: str, text: str) -> None:
    for what, secret in TOKENS.items():
        assert secret not in text, f"{where} leaks {what}"
        assert json.dumps(secret)[1:-1] not in text, f"{where} leaks {what} (JSON-escaped)"


def test_missed_formats_are_redacted_everywhere(token_container, diagnose):
    c = token_container
    for fmt in ("json", "text", "markdown", "html"):
        r = diagnose(c, "--format", fmt, "--exit-zero")
        assert r.code == 0, r.stderr
        _assert_clean(f"stdout ({fmt})", r.stdout)
        _assert_clean(f"stderr ({fmt})", r.stderr)
    members = r.members()
    for name, data in members.items():
        _assert_clean(name, data.decode("utf-8", "replace"))
    inspect = json.loads(members[f"containers/{c}/inspect.json"])
    test = inspect["Config"]["Healthcheck"]["Test"]
    assert test[0] == "CMD-SHELL" and "curl -u admin:[redacted-" in test[1]
    assert any(e.startswith("MODEL_CONFIG=[redacted-") for e in inspect["Config"]["Env"])
    log = members[f"containers/{c}/logs/stdout.log"].decode()
    assert "curl -fsS -u ops:[redacted-" in log and "db check [redacted-" in log
    lines = log.split("\n")
    jwt_at = next(i for i, line in enumerate(lines) if " auth [redacted-" in line)
    assert lines[jwt_at + 1].split(" ", 1)[1].startswith("[redacted-")  # the JWT's tail
    events = members[f"containers/{c}/events.json"].decode()
    assert "Hc-Curl" not in events
    rules = {x["rule"] for x in json.loads(members["manifest.json"])["redaction"]["counts"]}
    assert {"secret-flag", "curl-user", "openai-key", "jwt", "known-secret"} <= rules
