"""`diagnose diff A B` on the real engine: the done-when cases of issue 15.

Containers are made once per module (the comparisons only read them): a service that needs
DATABASE_URL with it and without it, one that holds 48 MB with and without a 32 MiB limit,
and one tag rebuilt with a layer added between two containers.  Each diff runs the real tool.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.support import browser
from tests.support.runs import Result, run_diagnose

SERVICE = ('test -n "$DATABASE_URL" || { echo "error: environment variable DATABASE_URL is '
           'not set" >&2; exit 1; }; echo "listening on :8080"; sleep 3600')
#: Holds ~48 MB in the shell: fine without a limit, OOM-killed under 32 MiB.
HOG = "x=$(head -c 48000000 /dev/zero | tr '\\0' a); echo holding; sleep 3600"
#: Planted secrets: none may appear in any output of diff.
SECRETS = ("Diff-Pg-Secret-4711", "Diff-Token-Secret-0815", "Diff-Token-Other-2323")


@pytest.fixture(scope="module")
def made(engine) -> dict[str, str]:
    env_ok = ("-e", f"DATABASE_URL=postgres://app:{SECRETS[0]}@db:5432/app",
              "-e", f"API_TOKEN={SECRETS[1]}")
    out = {
        "ok": engine.run("diff-ok", *env_ok, cmd=("sh", "-c", SERVICE)),
        "noenv": engine.run("diff-noenv", "-e", f"API_TOKEN={SECRETS[2]}",
                            cmd=("sh", "-c", SERVICE)),
        "roomy": engine.run("diff-roomy", cmd=("sh", "-c", HOG)),
        "oom": engine.run("diff-oom", "--memory", "32m", "--memory-swap", "32m",
                          cmd=("sh", "-c", HOG)),
    }
    base = "FROM diagnose-test/busybox:latest\nRUN echo one > /one\n"
    tag = engine.build("diff-rebuilt", base)
    out["old"] = engine.run("diff-old", image=tag, cmd=("sleep", "3600"))
    engine.build("diff-rebuilt", base + "RUN echo two > /two\n")
    out["new"] = engine.run("diff-new", image=tag, cmd=("sleep", "3600"))
    engine.wait_status(out["noenv"], "exited")
    engine.wait_status(out["oom"], "exited")
    for name in ("ok", "roomy", "old", "new"):
        engine.wait_status(out[name], "running")
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("diff")


@pytest.fixture(scope="module")
def env_case(made, workdir) -> dict[str, Result]:
    """`diff ok noenv` in every format, run once for the tests that read it."""
    return {fmt: diff(workdir, made["ok"], made["noenv"], "--format", fmt)
            for fmt in ("text", "json", "markdown", "html")}


def diff(workdir: Path, *args: str) -> Result:
    return run_diagnose("diff", *args, "--quiet", cwd=workdir)


def doc(r: Result) -> dict[str, Any]:
    assert r.code in (0, 1), r.stderr
    d = json.loads(r.stdout)
    schema = json.loads(resources.files("diagnose.schema").joinpath("diff-v1.json").read_text())
    jsonschema.validate(d, schema)
    return d


def no_secret(text: str) -> None:
    for s in SECRETS:
        assert s not in text


def test_missing_env_var_env_difference_first_and_its_finding_on_one_side(made, workdir,
                                                                         env_case):
    r = env_case["json"]
    d = doc(r)
    assert r.code == 1
    first = d["differences"][0]
    assert (first["category"], first["field"], first["change"]) == ("env", "DATABASE_URL",
                                                                    "removed")
    assert "missing-env-var" in first["explains"] and first["link"] == "named"
    one_side = {(x["field"], x["change"]) for x in d["differences"]
                if x["category"] == "findings"}
    assert ("missing-env-var", "added") in one_side
    assert d["b"]["failing"] and d["b"]["verdict"]["id"] == "missing-env-var"
    assert not d["a"]["failing"]
    logs = [x for x in d["differences"] if x["category"] == "logs"]
    assert logs and "DATABASE_URL is not set" in logs[0]["b"]
    # the token differs in value: compared, never printed
    (token,) = [x for x in d["differences"] if x["field"] == "API_TOKEN"]
    assert token["secret"] and token["a"] == token["b"] == "(redacted)"
    # env is where the cause lives, but the finding names DATABASE_URL: the token differs
    # too and is listed, not offered as an explanation
    assert token["link"] == "none" and not token["explains"]
    # no bundle is left behind unless asked for
    assert not list(workdir.glob("diagnose-*.tar.gz"))
    for out in env_case.values():
        assert out.code == 1, out.stderr
        no_secret(out.stdout + out.stderr)
    text = env_case["text"].stdout
    assert text.splitlines()[0].startswith(f"B ({made['noenv']}) failed (D407 missing-env-var)")


def test_oom_killed_under_a_limit_the_limit_difference_first(made, workdir):
    d = doc(diff(workdir, made["roomy"], made["oom"], "--format", "json"))
    first = d["differences"][0]
    assert (first["category"], first["field"]) == ("limits", "memory"), d["differences"][:3]
    assert first["a"] == "none" and first["b"] == "32 MiB"
    assert "oom-killed" in first["explains"]
    assert d["b"]["verdict"]["id"] == "oom-killed"


def test_same_tag_rebuilt_shows_the_image_and_the_added_layer(made, workdir):
    d = doc(diff(workdir, made["old"], made["new"], "--format", "json"))
    image = {x["field"]: x for x in d["differences"] if x["category"] == "image"}
    assert "image ID" in image and "points to a different image" in image["image ID"]["reason"]
    added = [x for f, x in image.items() if f.startswith("layer ") and x["change"] == "added"]
    assert len(added) == 1 and "echo two > /two" in added[0]["b"]
    assert "image" not in image  # the tag itself is the same on both sides


def test_bundles_and_a_live_container_against_a_bundle(made, workdir, tmp_path):
    runs = {}
    for key, names in (("both", (made["ok"], made["noenv"])), ("ok", (made["ok"],)),
                       ("bad", (made["noenv"],))):
        (tmp_path / key).mkdir()
        runs[key] = run_diagnose(*names, "--quiet", cwd=tmp_path / key)
        assert runs[key].bundle is not None, runs[key].stderr
    both, ok_only, bad_only = runs["both"], runs["ok"], runs["bad"]
    (tmp_path / "plain").mkdir()
    unredacted = run_diagnose(made["ok"], "--quiet", "--no-redact", cwd=tmp_path / "plain")
    assert unredacted.bundle is not None and SECRETS[0].encode() in b"".join(
        unredacted.members().values())
    cases = {
        "two bundles": (str(ok_only.bundle), str(bad_only.bundle)),
        "one bundle, two containers": (f"{both.bundle}:{made['ok']}",
                                       f"{both.bundle}:{made['noenv']}"),
        "live against a bundle": (made["ok"], str(bad_only.bundle)),
        "an -UNREDACTED bundle against a live container": (str(unredacted.bundle),
                                                           made["noenv"]),
    }
    for case, (a, b) in cases.items():
        r = diff(workdir, a, b, "--format", "json")
        d = doc(r)
        assert r.code == 1, case
        first = d["differences"][0]
        assert (first["category"], first["field"]) == ("env", "DATABASE_URL"), case
        no_secret(r.stdout + r.stderr)
    # A bundle with two containers needs BUNDLE:NAME; an unknown name is a usage error.
    r = diff(workdir, str(both.bundle), made["ok"])
    assert r.code == 2 and ":NAME" in r.stderr, r.stderr
    r = diff(workdir, f"{both.bundle}:nope", made["ok"])
    assert r.code == 2 and "nope" in r.stderr and len(r.stderr.splitlines()) == 1


def test_a_container_against_itself_is_empty_and_exit_0(made, workdir):
    r = diff(workdir, made["noenv"], made["noenv"], "--format", "json")
    d = doc(r)
    assert r.code == 0 and d["differences"] == [] and d["exit_code"] == 0
    # -o keeps the live run's bundle (one, for both sides) and says where it is
    keep = workdir / "kept"
    keep.mkdir()
    d = doc(diff(workdir, made["old"], made["old"], "-o", str(keep), "--format", "json"))
    (bundle,) = keep.glob("diagnose-*.tar.gz")
    assert d["a"]["bundle"] == d["b"]["bundle"] == str(bundle) and d["differences"] == []
    # --all-fields adds what always differs (that it never sets the exit code: unit tests)
    r = diff(workdir, made["roomy"], made["ok"], "--all-fields", "--format", "json")
    other = {x["field"] for x in doc(r)["differences"] if x["category"] == "other"}
    assert {"ID", "name", "hostname"} <= other


def test_sides_on_engines_named_apart_are_collected_apart(made, workdir):
    # --host-b names the same engine another way: two live runs, so two redactions.  The
    # differences are the same; a secret whose placeholders two runs chose cannot be compared,
    # and is listed as not compared instead of guessed.
    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    d = doc(diff(workdir, made["ok"], made["noenv"], "--host-b", host, "--format", "json"))
    assert (d["differences"][0]["field"], d["differences"][0]["change"]) == ("DATABASE_URL",
                                                                            "removed")
    assert {"category": "env", "field": "API_TOKEN"}.items() <= next(
        u for u in d["not_compared"] if u["field"] == "API_TOKEN").items()
    assert d["b"]["engine"]["endpoint"] == host
    assert not [x for x in d["differences"] if x["category"] == "engine"]  # one engine


def test_exit_codes_for_bad_input_and_no_engine(made, workdir):
    r = diff(workdir, made["ok"], "no-such-container-diff")
    assert r.code == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    r = diff(workdir, made["ok"], "./missing.tar.gz")
    assert r.code == 2 and "no such bundle" in r.stderr
    r = diff(workdir, made["ok"], made["noenv"], "--host-b", "unix:///nonexistent/docker.sock")
    assert r.code == 3 and len(r.stderr.splitlines()) == 1, r.stderr


DIFF_PROBE = r"""JSON.stringify({
  verdict: document.getElementById("verdict").innerText,
  rows: [...document.querySelectorAll("#differences tr")].slice(1).map(tr => tr.innerText),
  scripts: document.scripts.length,
  images: document.images.length,
  width: document.getElementById("differences").getBoundingClientRect().width,
})"""


def test_the_html_diff_renders_in_chromium_and_fetches_nothing(made, workdir, env_case):
    r = env_case["html"]
    assert r.code == 1, r.stderr
    page = workdir / "diff.html"
    page.write_text(r.stdout, encoding="utf-8")
    url = page.resolve().as_uri()
    loaded = browser.load(url, DIFF_PROBE)
    browser.save_artifact("diff-html-chromium.png", loaded.screenshot)
    probe = json.loads(loaded.probe)
    assert loaded.requests == [url], loaded.requests
    assert probe["verdict"].startswith(f"B ({made['noenv']}) failed (D407 missing-env-var)")
    assert "DATABASE_URL" in probe["rows"][0] and probe["width"] > 0
    assert probe["scripts"] == 0 and probe["images"] == 0
    no_secret(probe["verdict"] + "".join(probe["rows"]))
