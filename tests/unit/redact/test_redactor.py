"""The redactor on canned text and documents (the real-engine proof is tests/engine/
test_redaction.py): every rule, keys kept visible, stable placeholders, evidence intact."""

from __future__ import annotations

import json

import pytest

from diagnose.redact.redactor import PLACEHOLDER_RE, Redactor, secret_name

STAMP = "2026-11-27T20:57:14.123456789Z"


@pytest.mark.parametrize("name", [
    "DB_PASSWORD", "db_passwd", "MYSQL_ROOT_PASSWORD", "SECRET_KEY_BASE", "API_TOKEN",
    "GITHUB_TOKEN", "aws_secret_access_key", "API_KEY", "apiKey", "KEY", "SSH_PRIVATE_KEY",
    "GOOGLE_CREDENTIALS", "OAUTH_CLIENT_SECRET", "AUTH", "SENTRY_DSN", "REDIS_AUTH",
    "requirepass", "--password", "SecretAccessKey", "Authorization", "session_cookie",
])
def test_secret_names(name):
    assert secret_name(name)


@pytest.mark.parametrize("name", [
    "PATH", "HOSTNAME", "HOME", "LANG", "SandboxKey", "AUTHOR", "KEYBOARD", "MONKEY",
    "POSTGRES_PASSWORD_FILE", "SSH_PUBLIC_KEY", "AWS_ACCESS_KEY_ID", "AUTH_URL", "TOKEN_TYPE",
    "SessionID", "app", "com.docker.compose.project", "Status", "ExitCode",
])
def test_not_secret_names(name):
    assert not secret_name(name)


def test_extra_names_from_config():
    r = Redactor(extra_names=("LICENSE",))
    assert r.assignment("ACME_LICENSE=abc-123-xyz", "f") == "ACME_LICENSE=[redacted-1]"


@pytest.mark.parametrize("text,secret,kept", [
    ("postgres://app:Pg-pass-1@db:5432/app", "Pg-pass-1", "postgres://app:"),
    ("redis://:R3dis@pass@cache:6379/0", "R3dis@pass", "@cache:6379"),
    ("amqp://guest:Amqp-pass9@mq/", "Amqp-pass9", "amqp://guest:"),
    ("proxy https://u:Https-pw7@proxy:3128", "Https-pw7", "@proxy:3128"),
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA==", "Authorization: Basic"),
    ('{"authorization": "Bearer abc.def.ghi123"}', "abc.def.ghi123", "Bearer"),
    ("curl -H 'Authorization: Bearer tok_live_12345678'", "tok_live_12345678", "Bearer"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9",
     "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0", "jwt "),
    ("key id AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "key id"),
    ("aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key="),
    ("push with ghp_0123456789abcdefghijABCDEFGHIJ012345", "ghp_0123456789abcdef", "push with"),
    ("glpat-AbCdEfGhIjKlMnOpQrSt1", "glpat-AbCdEfGhIjKlMnOpQrSt1", ""),
    ("slack xoxb-123456789012-abcdefABCDEF", "xoxb-123456789012", "slack"),
    ("stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe"),
    ("login password=hunter2 ok", "hunter2", "password="),
    ("secret: 's3 cr3t phrase' end", "s3 cr3t phrase", "secret:"),
    ('{"token": "tok en"}', "tok en", '"token":'),
    ("jdbc:mysql://db/app?user=app&password=Jdbc-pw1&ssl=true", "Jdbc-pw1", "&ssl=true"),
])
def test_text_rules_remove_the_secret_and_keep_the_key(text, secret, kept):
    r = Redactor()
    out = r.text(text, "f")
    assert secret not in out
    assert kept in out
    assert PLACEHOLDER_RE.search(out)
    assert r.report() and all("value" not in c and secret not in json.dumps(c)
                              for c in r.report())


def test_harmless_text_is_untouched():
    r = Redactor()
    for s in ("listening on port 8080", "GET /health 200 1.2ms", "auth module loaded",
              "PATH=/usr/local/bin:/usr/bin", "keyboard: us",
              "https://example.com/path?q=1", STAMP + " started"):
        assert r.text(s, "f") == s
    assert r.text("token: expired", "f") == "token: [redacted-1]"
    # a word found in free text is redacted where found but not spread everywhere
    assert r.text("the session expired", "f") == "the session expired"


def test_placeholders_are_stable_and_spread():
    r = Redactor()
    a = r.assignment("DB_PASSWORD=Sup3r-Secret", "inspect.json")
    b = r.text("connecting with Sup3r-Secret to db", "stdout.log")
    c = r.text("postgres://app:Sup3r-Secret@db", "x")
    assert a == "DB_PASSWORD=[redacted-1]"
    assert b == "connecting with [redacted-1] to db"
    assert c == "postgres://app:[redacted-1]@db"
    assert {(c["rule"], c["file"]) for c in r.report()} >= {
        ("secret-env", "inspect.json"), ("known-secret", "stdout.log")}


def test_argv_and_command_lines():
    r = Redactor()
    assert r.argv(["app", "--password", "pw-one-1", "--token=tok-two-2", "-v"], "f") == [
        "app", "--password", "[redacted-1]", "--token=[redacted-2]", "-v"]
    assert r.argv(["mysql", "-uroot", "-pMy-Sql-pw", "db"], "f") == [
        "mysql", "-uroot", "-p[redacted-3]", "db"]
    hist = "|2 BUILD_TOKEN=bt-123456 VERSION=1.2 /bin/sh -c echo $VERSION > /v"
    out = r.command_line(hist, "history.json")
    assert out == "|2 BUILD_TOKEN=[redacted-4] VERSION=1.2 /bin/sh -c echo $VERSION > /v"
    ps = "python app.py --api-key Ak-999999 --port 8080"
    assert r.command_line(ps, "top.json") == "python app.py --api-key [redacted-5] --port 8080"


def _inspect():
    return {
        "Id": "3f2a1b9c0d4e" + "a" * 52,
        "Created": "2026-11-27T20:57:00.1Z",
        "Path": "sh",
        "Args": ["-c", "run --db-password Pw-Arg-77"],
        "State": {"Status": "exited", "Running": False, "ExitCode": 137, "OOMKilled": True,
                  "StartedAt": "2026-11-27T20:57:01.5Z", "FinishedAt": "2026-11-27T20:57:05.7Z",
                  "Pid": 0},
        "RestartCount": 2,
        "Name": "/web",
        "Config": {
            "Env": ["PATH=/usr/local/bin:/usr/bin", "HOSTNAME=web", "DB_PASSWORD=Db-Pass-42",
                    "DATABASE_URL=postgres://app:Url-Pass-9@db/app", "EMPTY_SECRET="],
            "Cmd": ["sh", "-c", "run --db-password Pw-Arg-77"],
            "Labels": {"app": "web", "com.example.api-token": "Lbl-Tok-5",
                       "note": "line1\nline2 \"quoted\" ünïcode"},
            "Image": "diagnose-test/busybox:latest",
        },
        "HostConfig": {"Memory": 33554432},
        "NetworkSettings": {"SandboxKey": "/var/run/docker/netns/abc123"},
    }


def test_json_walk_redacts_secrets_and_keeps_evidence():
    r = Redactor()
    ins = _inspect()
    r.learn_inspect(ins)
    data = r.file("containers/web/inspect.json", json.dumps(ins).encode())
    text = data.decode()
    for secret in ("Db-Pass-42", "Url-Pass-9", "Pw-Arg-77", "Lbl-Tok-5"):
        assert secret not in text
    out = json.loads(data)
    assert out["State"] == ins["State"]  # exit code, status, times untouched
    assert out["RestartCount"] == 2 and out["HostConfig"] == ins["HostConfig"]
    assert out["Id"] == ins["Id"] and out["Created"] == ins["Created"]
    env = out["Config"]["Env"]
    assert env[:2] == ["PATH=/usr/local/bin:/usr/bin", "HOSTNAME=web"]
    assert env[2].startswith("DB_PASSWORD=[redacted-") and env[4] == "EMPTY_SECRET="
    assert env[3].startswith("DATABASE_URL=postgres://app:[redacted-")
    assert out["Config"]["Labels"]["app"] == "web"
    assert out["Config"]["Labels"]["note"] == ins["Config"]["Labels"]["note"]
    assert PLACEHOLDER_RE.fullmatch(out["Config"]["Labels"]["com.example.api-token"])
    assert out["NetworkSettings"]["SandboxKey"] == "/var/run/docker/netns/abc123"
    files = {c["file"] for c in r.report()}
    assert files == {"containers/web/inspect.json"}  # the pre-scan is never counted


def test_top_history_image_and_engine_documents():
    r = Redactor()
    top = {"Titles": ["UID", "PID", "CMD"],
           "Processes": [["root", "4242", "app --password Top-Pw-1 --port 8080"]]}
    out = json.loads(r.file("top.json", json.dumps(top).encode()))
    assert out["Processes"][0][:2] == ["root", "4242"]
    assert "Top-Pw-1" not in out["Processes"][0][2] and "--port 8080" in out["Processes"][0][2]
    hist = [{"CreatedBy": "|1 NPM_TOKEN=npm-tok-99 /bin/sh -c npm ci", "Size": 10}]
    assert "npm-tok-99" not in r.file("history.json", json.dumps(hist).encode()).decode()
    image = {"Config": {"Env": ["PATH=/bin", "API_KEY=img-key-777"]}}
    assert "img-key-777" not in r.file("image/inspect.json", json.dumps(image).encode()).decode()
    info = {"HttpProxy": "http://proxyuser:Proxy-Pw-3@proxy:3128", "NoProxy": "localhost",
            "Containers": 4}
    out = json.loads(r.file("engine/info.json", json.dumps(info).encode()))
    assert out["HttpProxy"].startswith("http://proxyuser:[redacted-") and out["Containers"] == 4


def test_log_lines_numbering_and_timestamps_survive():
    r = Redactor()
    # a silly password that is also part of a timestamp
    assert r.assignment("DB_PASSWORD=11-27T20", "inspect.json") == "DB_PASSWORD=[redacted-1]"
    lines = [f"{STAMP} line {i}" for i in range(1, 6)]
    lines[2] = f"{STAMP} password=Log-Pw-123 and 11-27T20 again"
    raw = ("\n".join(lines) + "\n").encode()
    out = r.file("logs/stdout.log", raw).decode()
    assert out.count("\n") == raw.decode().count("\n")
    assert out.splitlines()[0] == lines[0]  # the timestamp's 11-27T20 is not a leak
    assert out.splitlines()[2] == f"{STAMP} password=[redacted-2] and [redacted-1] again"


def test_second_pass_catches_a_secret_learned_late_in_the_file():
    r = Redactor()
    raw = (f"{STAMP} hello Late-Secret-1\n" + f"{STAMP} filler\n" * 50
           + f"{STAMP} token=Late-Secret-1\n").encode()
    out = r.files({"logs/stdout.log": raw, "inspect.json": b'{"Cmd": ["Late-Secret-1"]}'},
                  "containers/a")
    assert all(b"Late-Secret-1" not in v for v in out.values())


def test_pem_blocks_multiline_single_line_cut_and_orphaned():
    r = Redactor()
    body = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
            "VJTUt9Us8cKjMzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDu"]
    log = "\n".join([f"{STAMP} loading key", f"{STAMP} -----BEGIN RSA PRIVATE KEY-----",
                     *(f"{STAMP} {b}" for b in body), f"{STAMP} -----END RSA PRIVATE KEY-----",
                     f"{STAMP} done", ""]).encode()
    out = r.file("logs/stderr.log", log).decode()
    assert all(b not in out for b in body)
    assert out.count("\n") == log.decode().count("\n")
    assert "-----BEGIN RSA PRIVATE KEY-----" in out and "-----END RSA PRIVATE KEY-----" in out
    assert out.splitlines()[2] == out.splitlines()[3]  # one placeholder for the block
    # the log cap kept only the end of the block: the orphaned key lines go too
    cut = "\n".join([f"{STAMP} {body[1]}", f"{STAMP} -----END PRIVATE KEY-----", ""]).encode()
    assert body[1] not in r.file("logs/stdout.log", cut).decode()
    # a key inside a JSON string (e.g. an env value or a JSON log line)
    one = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
           "-----END OPENSSH PRIVATE KEY-----\n")
    doc = json.loads(r.file("x.json", json.dumps({"Env": [f"SSH_KEY={one}"], "v": one})
                            .encode()))
    assert "b3BlbnNzaC1rZXktdjEAAAAA" not in json.dumps(doc)
    assert doc["v"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----[redacted-")
    escaped = r.text('{"k":"-----BEGIN PRIVATE KEY-----\\nAAAABBBBCCCCDDDD\\n-----END PRIVATE '
                     'KEY-----"}', "f")
    assert "AAAABBBBCCCCDDDD" not in escaped and "-----END PRIVATE KEY-----" in escaped
    cut_json = r.text("-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIIrrrrrrrrrrrr", "f")
    assert "MHcCAQEEII" not in cut_json


def test_binary_and_invalid_utf8_logs_stay_byte_exact():
    r = Redactor()
    raw = (f"{STAMP} ".encode() + b"\xff\xfe\x00\x01 caf\xc3\xa9 \xc3\x28 \x1b[31mred\x1b[0m\n"
           + f"{STAMP} ".encode() + b"\x80\x81 password=Bin-Pw-5 \xfe\n")
    out = r.file("containers/a/logs/stdout.log", raw)
    assert out.split(b"\n")[0] == raw.split(b"\n")[0]
    assert out.split(b"\n")[1].startswith(f"{STAMP} ".encode() + b"\x80\x81 password=[redacted-")
    assert out.endswith(b" \xfe\n") and b"Bin-Pw-5" not in out


def test_escaped_spellings_are_found_and_leaks_counted():
    r = Redactor()
    r.assignment('DB_PASSWORD=a"b<c>&d|e', "f")
    assert r.text('{"v": "a\\"b<c>&d|e"}', "g") == '{"v": "[redacted-1]"}'
    assert r.text("<td>a&quot;b&lt;c&gt;&amp;d|e</td>", "h") == "<td>[redacted-1]</td>"
    assert r.leaks('x a"b<c>&d|e y') == 1 and r.leaks("clean") == 0
    r2 = Redactor()
    r2.assignment("API_KEY=beef12", "f")
    cid = "0123beef12" + "a" * 54
    assert r2.text(f"container {cid}", "g") == f"container {cid}"
    assert r2.leaks(f"container {cid}") == 0 and r2.leaks("beef12") == 1
    # inside an identifier it is not the secret; standing as a value it is
    assert r2.leaks("xbeef12 beef12_x") == 0 and r2.leaks("k=beef12;") == 1
    # a secret standing in a timestamp is a coincidence, not a leak
    r2.assignment("API_KEY=11-27T20", "f")
    assert r2.leaks(STAMP) == 0 and r2.text(STAMP, "g") == STAMP


def test_common_words_and_states_never_spread():
    r = Redactor()
    r.assignment("SECRET=running", "f")
    r.assignment("PIN=123", "f")
    assert r.text("container running, pin 123", "g") == "container running, pin 123"
    assert r.secrets() == []


def test_user_patterns_and_disabled_redactor():
    r = Redactor(extra_patterns=[r"ACME-\d{6}", r"internal_id=(\w+)"])
    assert r.text("ticket ACME-123456 internal_id=abc99", "f") == \
        "ticket [redacted-1] internal_id=[redacted-2]"
    off = Redactor(enabled=False)
    assert off.text("password=x", "f") == "password=x"
    assert off.file("a.json", b'{"Env": ["A_TOKEN=x"]}') == b'{"Env": ["A_TOKEN=x"]}'


def test_scrub_walks_report_objects():
    from diagnose.model.findings import Evidence, Finding, Remediation

    r = Redactor()
    r.assignment("TOKEN=Scrub-Tok-1", "f")
    f = Finding(title="failed with Scrub-Tok-1",
                evidence=(Evidence("containers/a/logs/stdout.log", lines=(3, 4),
                                   excerpt="auth Scrub-Tok-1"),),
                remediation=Remediation("rotate", ("docker logs a",)))
    out = r.scrub({"findings": [f], "n": 3})
    assert "Scrub-Tok-1" not in repr(out)
    assert out["findings"][0].evidence[0].lines == (3, 4) and out["n"] == 3
    assert r.report() == [{"rule": "secret-env", "file": "f", "count": 1}]  # scrub uncounted


def test_reserve_placeholders_never_reuses_a_number():
    r = Redactor()
    r.assignment("A_TOKEN=first-value", "f")
    r.reserve_placeholders(7)
    assert r.text("first-value", "g") == "[redacted-8]"
    assert r.assignment("B_TOKEN=second-value", "g") == "B_TOKEN=[redacted-9]"


def test_scrub_shows_control_characters_even_without_redaction():
    for r in (Redactor(), Redactor(enabled=False)):
        out = r.scrub({"excerpt": "a\x1b[31mred\x00 \x9b x\r\ny\tz é"})
        assert out == {"excerpt": "a\\x1b[31mred\\x00 \\x9b x\\x0d\ny\tz é"}


def test_exception_names_are_not_secret_names():
    from diagnose.redact.rules import secret_name

    for name in ("KeyError", "TokenExpiredError", "AuthenticationFailure", "PasswordException"):
        assert not secret_name(name), name
    for name in ("API_KEY", "DB_PASSWORD", "authToken"):
        assert secret_name(name), name


def test_json_with_nothing_to_redact_is_kept_as_collected_unless_escaped():
    r = Redactor()
    plain = b'{\n  "Image": "busybox",\n  "Cmd": [\n    "sh"\n  ]\n}\n'
    assert r.file("containers/a/inspect.json", plain) is plain
    # Escapes are spelled out: a learned value must be findable in the written text.
    escaped = b'{"Path": "caf\\u00e9", "Url": "http:\\/\\/x"}'
    out = r.file("containers/a/inspect.json", escaped)
    assert "café".encode() in out and b"http://x" in out and json.loads(out) == json.loads(escaped)


def test_clean_strings_are_checked_again_once_a_secret_is_learned():
    r = Redactor()
    assert r.text("connect to hunter2-db", "f") == "connect to hunter2-db"  # clean, remembered
    r.learn_inspect({"Config": {"Env": ["DB_PASSWORD=hunter2-db"]}})
    assert "hunter2-db" not in r.text("connect to hunter2-db", "f")


def test_a_json_file_found_clean_is_not_walked_again_until_a_secret_is_learned():
    """A fleet's targets share documents (their image's, their network's inspect with every
    target in it): bytes found clean are kept as collected without a second walk while the
    learned values are the same, and redacted once a value in them is learned."""
    r = Redactor()
    shared = (b'{"bridge": {"Containers": {"a": {"Name": "web", "IPv4Address": "10.0.0.2"}, '
              b'"b": {"Name": "hunter2-db", "IPv4Address": "10.0.0.3"}}}}')
    walks: list[str] = []
    walk = r.json

    def counted(doc, where, key=""):
        if not key:
            walks.append(where)
        return walk(doc, where, key)

    r.json = counted  # type: ignore[method-assign]
    assert r.file("containers/a/networks.json", shared) is shared
    assert r.file("containers/b/networks.json", shared) is shared
    assert walks == ["containers/a/networks.json"]  # the second: the same bytes, not walked
    r.learn_inspect({"Config": {"Env": ["DB_PASSWORD=hunter2-db"]}})
    out = r.file("containers/c/networks.json", shared)
    assert b"hunter2-db" not in out and PLACEHOLDER_RE.search(out.decode())
    assert walks[-1] == "containers/c/networks.json"
    assert any(where == "containers/c/networks.json" for _, where in r.counts)  # counted


@pytest.mark.parametrize(("user_var", "password_var"), [
    ("DB_USER", "DB_PASSWORD"), ("POSTGRES_USER", "POSTGRES_PASSWORD"),
    ("smtp_username", "smtp_pass"), ("RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS"),
])
def test_a_user_and_password_pair_in_env_is_redacted_in_base64_anywhere(user_var, password_var):
    import base64

    r = Redactor(True)
    r.learn_inspect({"Config": {"Env": [f"{user_var}=svc-account", f"{password_var}=Pw-9xQ2-zz",
                                        "OTHER_USER=nobody"]}})
    pair = base64.b64encode(b"svc-account:Pw-9xQ2-zz").decode()
    for spelled in (pair, pair.rstrip("=")):
        out = r.text(f"upstream credentials {spelled} accepted", "logs/stdout.log")
        assert spelled not in out and PLACEHOLDER_RE.search(out)
    assert pair in r.secrets()  # the post-write rescan looks for it too
    # Another user's pair, or the password alone with no user, is not this spelling.
    other = base64.b64encode(b"nobody:Pw-9xQ2-zz").decode()
    assert r.text(other, "x") == other


def test_a_weak_password_pair_is_still_redacted_in_base64_but_not_spread_alone():
    import base64

    r = Redactor(True)
    r.learn_inspect({"Config": {"Env": ["POSTGRES_USER=postgres", "POSTGRES_PASSWORD=postgres"]}})
    pair = base64.b64encode(b"postgres:postgres").decode()
    assert pair not in r.text(f"auth {pair}", "x")
    assert r.text("database postgres is up", "x") == "database postgres is up"


@pytest.mark.parametrize(("line", "kept", "gone"), [
    # `${NAME:?message}`: a message, not a value; `${NAME:-default}`: the default is one.
    (': "${DB_PASSWORD:?}"', ': "${DB_PASSWORD:?}"', None),
    (': "${DB_PASSWORD:?must be set}"', ': "${DB_PASSWORD:?must be set}"', None),
    ('psql -W "${DB_PASSWORD:-Hunter2-default-pw}"', "${DB_PASSWORD:-", "Hunter2-default-pw"),
    ("x ${API_TOKEN=Tok-abc-12345} y", "${API_TOKEN=", "Tok-abc-12345"),
    # The shell's own messages name the variable; nothing in them is its value.
    ("sh: DB_PASSWORD: parameter not set or null", "DB_PASSWORD: parameter not set or null",
     None),
    ("bash: DB_PASSWORD: unbound variable", "DB_PASSWORD: unbound variable", None),
    # A reference to a variable is not its value; a value that starts with `$` still is one.
    ("export DB_PASSWORD=${DB_PASSWORD}", "export DB_PASSWORD=${DB_PASSWORD}", None),
    ("DB_PASSWORD=$DB_PASSWORD ./run", "DB_PASSWORD=$DB_PASSWORD ./run", None),
    ("password=$ecret-starts-with-dollar", "password=", "$ecret"),
    ("password=$2y$10$abcdefghijklmnopqrstuv", "password=", "$2y$10$"),
])
def test_shell_syntax_around_a_secret_name_is_read_as_shell(line, kept, gone):
    out = Redactor(True).text(line, "logs/stderr.log")
    assert kept in out
    if gone is None:
        assert out == line
    else:
        assert gone not in out and PLACEHOLDER_RE.search(out)
