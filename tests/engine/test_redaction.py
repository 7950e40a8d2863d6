"""Redaction on the real engine: secrets of every kind planted in a real container and image
are found nowhere in the bundle (any member) or on stdout (any format), harmless values stay
readable, evidence stays exact; `--no-redact`, `diagnose redact`, and the post-write rescan."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from tests.support.engine import RUN_ID, docker, docker_bytes, wait_for
from tests.support.runs import read_members, run_diagnose

PEM_LINES = [
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
    "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
    "LBcBmzQHx9jmXkzBJfR3rI0HUA8n3xTzVq7yMEPyE1p3wF9xkqTvA2bI3nsQHz2q",
]
PEM = "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *PEM_LINES, "-----END RSA PRIVATE KEY-----"])
LABEL_PEM_LINE = "MHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oiv5Zgkz1cZeoAoGCCqGSM49"

SECRETS = {
    # environment (Config.Env)
    "DB_PASSWORD": "Db-Pw-7Qx2-secret",
    "AWS_ACCESS_KEY_ID": "AKIAZ7Q2X4EXAMPLE9KQ",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCY7QEXAMPLE",
    "GITHUB_TOKEN": "ghp_R3dact10nT3stT0k3nAbCdEfGhIjKlMnOp",
    "DATABASE_URL": "Url-Pw-Pg-51",  # the password part of postgres://app:...@db
    "REDIS_URL": "Redis-Pw-62",
    "AMQP_URL": "Amqp-Pw-73",
    "SESSION_JWT": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJlbnYifQ.EnvJwtSig0123456789",
    # labels
    "label api-token": "Lbl-Tok-84x",
    "label db-url": "Lbl-Url-Pw-95",
    # command line and a child process's command line
    "cmd --password": "Cmd-Flag-Pw-16",
    "child --api-key": "Child-Key-27",
    # logs
    "log bearer": "Bearer-Tok-38abcdef",
    "log jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.LogJwtSig9876543210",
    "log gitlab": "glpat-GlPat5xAbCdEfGhIjKlMn",
    "log slack": "xoxb-5161-AbCdEfGhIjKl",
    "log stripe": "sk_live_StripeKey72AbCdEfGhIj",
    "log password=": "Log-Pw-83kv",
    "log secret=": "Log-Sec-94kv",
    "log token=": "Log-Tok-05kv",
    "log url": "Log-Url-Pw-16",
    "log basic": "dXNlcjpMb2dCYXNpY1B3MTc=",
    # DB_USER:DB_PASSWORD in base64 (HTTP basic auth), logged with no `Basic` before it
    "log user:password pair": base64.b64encode(b"app-service:Db-Pw-7Qx2-secret").decode(),
    "user --redact pattern": "Custom-424242",
    "config file pattern": "Cfg-Secret-777",
    # image: build argument used in RUN (history) and ENV baked into the image
    "build arg": "Build-Tok-27q",
    "image ENV": "Img-Env-Key-38",
}
SECRET_VALUES = [*SECRETS.values(), *PEM_LINES, LABEL_PEM_LINE]

SCRIPT = r"""
echo "listening on port 8080"
echo "connecting with $DB_PASSWORD"
echo "GET /api Authorization: Bearer Bearer-Tok-38abcdef"
echo "proxy Authorization: Basic dXNlcjpMb2dCYXNpY1B3MTc="
echo "session eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3ZWIifQ.LogJwtSig9876543210"
echo "push with glpat-GlPat5xAbCdEfGhIjKlMn and xoxb-5161-AbCdEfGhIjKl"
echo "charge via sk_live_StripeKey72AbCdEfGhIj key $AWS_ACCESS_KEY_ID"
echo "db url postgres://u:Log-Url-Pw-16@db/x"
echo "ticket Custom-424242 and Cfg-Secret-777"
echo "login password=Log-Pw-83kv secret=Log-Sec-94kv token=Log-Tok-05kv" >&2
echo "loading key:" >&2
echo "$TLS_PRIVATE_KEY" >&2
sh -c 'while :; do sleep 1; done' child --api-key Child-Key-27 &
echo ready
while :; do sleep 1; done
"""
# After the secrets above are defined: the pair's base64 as an upstream proxy might log it.
SCRIPT = SCRIPT.replace("echo ready\n", "echo \"upstream credentials "
                        + SECRETS["log user:password pair"] + "\"\necho ready\n", 1)

HARMLESS_LOG = "listening on port 8080"


@pytest.fixture(scope="module")
def secret_container(engine):
    """A running container built and configured with secrets of every kind."""
    tag = f"diagnose-test/{RUN_ID}-redact:latest"
    dockerfile = (
        "FROM diagnose-test/busybox:latest\n"
        "ARG BUILD_TOKEN\n"
        'RUN echo "build step uses token" && test -n "$BUILD_TOKEN"\n'
        f"ENV IMAGE_API_KEY={SECRETS['image ENV']} APP_MODE=production\n"
    )
    ctx = io.BytesIO()
    with tarfile.open(fileobj=ctx, mode="w") as tf:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tf.addfile(info, io.BytesIO(dockerfile.encode()))
    docker("build", "-q", "--force-rm", "--label", engine.label, "--build-arg",
           f"BUILD_TOKEN={SECRETS['build arg']}", "-t", tag, "-", input=ctx.getvalue())
    env = {
        "DB_USER": "app-service",
        "DB_PASSWORD": SECRETS["DB_PASSWORD"],
        "AWS_ACCESS_KEY_ID": SECRETS["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": SECRETS["AWS_SECRET_ACCESS_KEY"],
        "GITHUB_TOKEN": SECRETS["GITHUB_TOKEN"],
        "DATABASE_URL": f"postgres://app:{SECRETS['DATABASE_URL']}@db:5432/app",
        "REDIS_URL": f"redis://:{SECRETS['REDIS_URL']}@cache:6379/0",
        "AMQP_URL": f"amqp://mq:{SECRETS['AMQP_URL']}@rabbit:5672/",
        "SESSION_JWT": SECRETS["SESSION_JWT"],
        "TLS_PRIVATE_KEY": PEM,
        "LOG_LEVEL": "debug",
    }
    args = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
    args += ["--label", "app=web",
             "--label", f"com.example.api-token={SECRETS['label api-token']}",
             "--label", f"com.example.db-url=postgres://lbl:{SECRETS['label db-url']}@db/x",
             "--label", "com.example.note=-----BEGIN EC PRIVATE KEY-----\n"
                        f"{LABEL_PEM_LINE}\n-----END EC PRIVATE KEY-----"]
    c = engine.run("secrets", *args, image=tag,
                   cmd=("sh", "-c", SCRIPT, "app", "--password", SECRETS["cmd --password"]))
    wait_for(lambda: "ready" in docker("logs", c).stdout, what=f"{c} to log everything")
    wait_for(lambda: "Child-Key" in docker("top", c).stdout, what="the child process")
    return c


def _config(tmp_path: Path) -> dict[str, str]:
    cfg = tmp_path / "xdg" / "diagnose"
    cfg.mkdir(parents=True)
    (cfg / "config.toml").write_text('redact = ["Cfg-Secret-[0-9]+"]\n')
    return {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}


def _assert_clean(where: str, data: bytes | str) -> None:
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    for secret in SECRET_VALUES:
        assert secret not in text, f"{where} leaks {secret!r}"
        escaped = json.dumps(secret)[1:-1]
        assert escaped not in text, f"{where} leaks {secret!r} (JSON-escaped)"


def test_no_secret_anywhere_in_bundle_or_stdout(secret_container, diagnose, tmp_path):
    c = secret_container
    env = _config(tmp_path)
    # One directory per run: bundle names have one-second resolution, and runs this quick
    # would otherwise write (and replace) the same name.
    runs = {}
    for fmt in ("text", "json", "markdown", "html"):
        out = tmp_path / fmt
        out.mkdir()
        runs[fmt] = run_diagnose(c, "--format", fmt, "--redact", r"Custom-\d+", "--exit-zero",
                                 "--output", str(out), cwd=out, env=env)
    for fmt, r in runs.items():
        assert r.code == 0, r.stderr
        assert r.bundle is not None and "UNREDACTED" not in r.bundle.name
        _assert_clean(f"stdout ({fmt})", r.stdout)
        _assert_clean(f"stderr ({fmt})", r.stderr)
        members = r.members()
        for name, data in members.items():
            _assert_clean(name, name)
            _assert_clean(name, data)
        for fmt2 in ("text", "json", "markdown", "html"):
            off = diagnose("analyze", str(r.bundle), "--format", fmt2, "--exit-zero")
            assert off.code == 0, off.stderr
            _assert_clean(f"analyze --format {fmt2}", off.stdout)

    members = runs["json"].members()
    base = f"containers/{c}"
    inspect = json.loads(members[f"{base}/inspect.json"])
    real = json.loads(docker("inspect", c).stdout)[0]
    # Harmless values stay readable.
    env_list = inspect["Config"]["Env"]
    path_env = next(e for e in real["Config"]["Env"] if e.startswith("PATH="))
    assert path_env in env_list and "LOG_LEVEL=debug" in env_list
    assert inspect["Config"]["Hostname"] == real["Config"]["Hostname"]
    assert inspect["Config"]["Labels"]["app"] == "web"
    assert HARMLESS_LOG.encode() in members[f"{base}/logs/stdout.log"]
    image = json.loads(members[f"{base}/image/inspect.json"])
    assert "APP_MODE=production" in image["Config"]["Env"]
    assert "build step uses token" in members[f"{base}/image/history.json"].decode()
    assert "listening on port 8080" in runs["text"].stdout or \
        HARMLESS_LOG in members[f"{base}/logs/stdout.log"].decode()
    # Secret keys stay visible, with one placeholder per secret across files.
    db = next(e for e in env_list if e.startswith("DB_PASSWORD="))
    placeholder = db.split("=", 1)[1]
    assert placeholder.startswith("[redacted-")
    assert f"connecting with {placeholder}".encode() in members[f"{base}/logs/stdout.log"]
    assert any(e.startswith("DATABASE_URL=postgres://app:[redacted-") for e in env_list)
    assert inspect["Config"]["Labels"]["com.example.api-token"].startswith("[redacted-")
    # Evidence that checks rely on is exact.
    assert inspect["State"] == real["State"] and inspect["Id"] == real["Id"]
    assert inspect["RestartCount"] == real["RestartCount"]
    for stream, flag in (("stdout", "--stdout"), ("stderr", "--stderr")):
        ours = members[f"{base}/logs/{stream}.log"].split(b"\n")
        raw = _docker_logs(c, stream).split(b"\n")
        assert len(ours) == len(raw), f"{stream}: line numbering changed ({flag})"
        for mine, theirs in zip(ours, raw, strict=True):
            assert mine[:31] == theirs[:31]  # the timestamp of every line
            if not any(s.encode() in theirs for s in SECRET_VALUES) and b"DB_PASSWORD" not \
                    in theirs and b"Db-Pw" not in theirs:
                assert mine == theirs
    # The redaction report: rules and files, never values; the same in every document.
    manifest = json.loads(members["manifest.json"])
    counts = manifest["redaction"]["counts"]
    rules = {x["rule"] for x in counts}
    assert {"secret-env", "secret-label", "secret-flag", "url-password", "authorization-header",
            "jwt", "aws-access-key-id", "gitlab-token", "slack-token", "stripe-key",
            "pem-private-key", "key-value-pair", "user-pattern", "known-secret"} <= rules
    files = {x["file"] for x in counts}
    assert {f"{base}/inspect.json", f"{base}/logs/stdout.log", f"{base}/logs/stderr.log",
            f"{base}/image/history.json", f"{base}/image/inspect.json", f"{base}/top.json",
            f"{base}/processes.json", f"{base}/events.json"} <= files
    assert all(set(x) == {"rule", "file", "count"} and x["count"] > 0 for x in counts)
    assert json.loads(members["findings.json"])["redaction"]["counts"] == counts
    assert runs["json"].json()["redaction"]["counts"] == counts
    assert "| secret-env |" in members["summary.md"].decode()
    assert "--redact" in manifest["command"]


def _docker_logs(c: str, stream: str) -> bytes:
    proc = docker_bytes("logs", "--timestamps", c)
    return proc.stdout if stream == "stdout" else proc.stderr


def test_a_secret_on_diagnoses_own_command_line_is_counted_alike_everywhere(
        secret_container, diagnose):
    """The command line (here a --filter naming a secret label's value) is redacted for the
    manifest, and what that finds is counted in the report and findings.json as in the
    manifest (the manifest is written after them)."""
    token = SECRETS["label api-token"]
    r = diagnose("--filter", f"label=com.example.api-token={token}", "--format", "json",
                 "--exit-zero")
    assert r.code == 0, r.stderr
    members = r.members()
    manifest = json.loads(members["manifest.json"])
    assert token not in " ".join(manifest["command"])
    counted = manifest["redaction"]["counts"]
    assert any(x["file"] == "manifest.json" for x in counted), counted
    assert json.loads(members["findings.json"])["redaction"]["counts"] == counted
    assert r.json()["redaction"]["counts"] == counted
    for name, data in members.items():
        assert token.encode() not in data, name


def test_no_redact_then_redact_command(secret_container, diagnose, tmp_path):
    c = secret_container
    raw = diagnose(c, "--no-redact", "--format", "json", "--exit-zero")
    assert raw.code == 0, raw.stderr
    assert raw.bundle is not None and raw.bundle.name.endswith("-UNREDACTED.tar.gz")
    assert "WARNING: --no-redact" in raw.stderr
    before = read_members(raw.bundle)
    assert SECRETS["DB_PASSWORD"].encode() in before[f"containers/{c}/inspect.json"]
    assert json.loads(before["manifest.json"])["redaction"]["enabled"] is False
    src_sha = hashlib.sha256(raw.bundle.read_bytes()).hexdigest()

    user = ("--redact", r"Custom-\d+", "--redact", r"Cfg-Secret-\d+")
    r = run_diagnose("redact", str(raw.bundle), *user, cwd=tmp_path)
    assert r.code == 0, r.stderr
    out = Path(r.stdout.strip())
    assert out.name == raw.bundle.name.replace("-UNREDACTED", "") and out.exists()
    assert hashlib.sha256(raw.bundle.read_bytes()).hexdigest() == src_sha  # input untouched
    after = read_members(out)
    for name, data in after.items():
        _assert_clean(f"redacted {name}", name)
        _assert_clean(f"redacted {name}", data)
    # Same layout, in the same order; a fresh manifest whose sha256s match.
    assert list(after) == list(before)
    manifest = json.loads(after["manifest.json"])
    for f in manifest["files"]:
        assert hashlib.sha256(after[f["path"]]).hexdigest() == f["sha256"], f["path"]
    assert manifest["redaction"]["enabled"] is True and manifest["redaction"]["counts"]
    assert manifest["redaction"]["redacted_from"]["sha256"] == src_sha
    # Findings are regenerated from the redacted evidence, and `analyze` agrees with them.
    old_ids = sorted(f["id"] for t in json.loads(before["findings.json"])["targets"]
                     for f in t["findings"])
    new_doc = json.loads(after["findings.json"])
    assert sorted(f["id"] for t in new_doc["targets"] for f in t["findings"]) == old_ids
    offline = run_diagnose("analyze", str(out), "--format", "json", "--exit-zero", cwd=tmp_path)
    assert offline.code == 0, offline.stderr
    assert [t["verdict"] for t in offline.json()["targets"]] == \
        [t["verdict"] for t in new_doc["targets"]]
    # analyze of the UNREDACTED bundle keeps stdout clean unless asked not to.
    shown = run_diagnose("analyze", str(raw.bundle), "--format", "json", "--exit-zero", *user,
                         cwd=tmp_path)
    _assert_clean("analyze of the -UNREDACTED bundle", shown.stdout)
    raw_shown = run_diagnose("analyze", str(raw.bundle), "--format", "json", "--exit-zero",
                             "--no-redact", cwd=tmp_path)
    assert SECRETS["cmd --password"] in raw_shown.stdout  # the decision path quotes Cmd
    # Never overwrite: a second run refuses, -o DIR works.
    again = run_diagnose("redact", str(raw.bundle), cwd=tmp_path)
    assert again.code == 2 and "already exists" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    other = tmp_path / "elsewhere"
    other.mkdir()
    third = run_diagnose("redact", str(raw.bundle), "-o", str(other), *user, cwd=tmp_path)
    assert third.code == 0, third.stderr
    assert (other / out.name).exists()
    self_overwrite = run_diagnose("redact", str(out), "-o", str(out), cwd=tmp_path)
    assert self_overwrite.code == 2 and "refusing to overwrite" in self_overwrite.stderr


@pytest.fixture(scope="module")
def leak_image(engine):
    """Files that print one secret two ways: plainly, and as `password=` (which the rules
    know).  The secret is in neither container's config, only in their output."""
    return engine.build("leak", "FROM diagnose-test/busybox:latest\nCOPY plain kv /\n",
                        {"plain": "shipping Xfer-Secret-9Q7z to the mirror\n",
                         "kv": "retrying with password=Xfer-Secret-9Q7z\n"})


def test_rescan_deletes_a_bundle_when_a_secret_survives(engine, leak_image, diagnose, tmp_path):
    """The genuine gap the rescan exists for: a secret is only learned from container B's
    log, after container A's files were already written.  `--jobs 1` makes the order
    deterministic (A is collected, redacted and streamed out before B is looked at)."""
    a = engine.run("leak-a", image=leak_image, cmd=("sh", "-c", "cat /plain; sleep 100000"))
    b = engine.run("leak-b", image=leak_image, cmd=("sh", "-c", "cat /kv; sleep 100000"))
    try:
        _rescan_cases(a, b, diagnose, tmp_path)
    finally:
        # Removed at once, not at the end of the session: a later `diagnose --all` over the
        # shared engine would otherwise meet this pair in A-then-B order and fail by design.
        docker("rm", "-f", a, b, check=False)


def _rescan_cases(a: str, b: str, diagnose, tmp_path: Path) -> None:
    for c in (a, b):
        wait_for(lambda c=c: "Xfer" in docker("logs", c).stdout, what=f"{c} output")
    r = diagnose(a, b, "--jobs", "1", "--format", "json")
    assert r.code == 70, r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert "a secret survived redaction" in line and f"containers/{a}/logs/stdout.log" in line
    assert "Xfer-Secret" not in r.stderr and r.stdout == ""
    assert r.bundle is None and list(tmp_path.glob("*diagnose-*")) == []  # no temp left
    assert list(tmp_path.glob(".diagnose-*")) == []
    # B first: the secret is known before A is written, and the run succeeds.
    ok = diagnose(b, a, "--jobs", "1", "--format", "json", "--exit-zero")
    assert ok.code == 0, ok.stderr
    for name, data in ok.members().items():
        assert b"Xfer-Secret-9Q7z" not in data, name
    # `diagnose redact` learns from the whole bundle first, so it has no such gap.
    raw = diagnose(a, b, "--jobs", "1", "--no-redact", "--exit-zero")
    fixed = run_diagnose("redact", str(raw.bundle), cwd=tmp_path)
    assert fixed.code == 0, fixed.stderr
    for name, data in read_members(Path(fixed.stdout.strip())).items():
        assert b"Xfer-Secret-9Q7z" not in data, name
