"""The command line as a user types it (issue 13): global options on either side of the
command, `diagnose help`, usage errors in one line, `--format` in any case, `--since` as
docker takes it, close matches for checks."""

from __future__ import annotations

import pytest

from tests.support.runs import run_diagnose


@pytest.fixture(scope="module")
def created(engine):
    """One created (never started) container: cheap, and it has a warning."""
    return engine.create("cliusage", cmd=("true",))


def test_global_options_before_or_after_the_command(created, tmp_path):
    for command, args in (("engine", ("--debug", "engine", "--help")),
                          ("engine", ("engine", "--debug", "--help")),
                          ("run", ("-q", "--format", "json", "run", "--help"))):
        r = run_diagnose(*args, cwd=tmp_path)
        assert r.code == 0, (args, r.stderr)
        assert r.stdout.startswith(f"Usage: diagnose {command} "), (args, r.stdout)
    before = run_diagnose("-q", "--format", "JSON", "--exit-zero", "run", created,
                          "--output", str(tmp_path), cwd=tmp_path)
    after = run_diagnose("run", created, "--exit-zero", "-q", "-f", "json",
                         "--output", str(tmp_path), cwd=tmp_path)
    for r in (before, after):
        assert r.code == 0, r.stderr
        assert [t["name"] for t in r.json()["targets"]] == [created]
    bundle = str(before.bundle)
    r = run_diagnose("-q", "--format", "json", "analyze", bundle, cwd=tmp_path)
    assert r.code in (0, 1) and r.json()["targets"][0]["name"] == created, r.stderr


def test_help_is_help(tmp_path):
    top = run_diagnose("help", cwd=tmp_path)
    assert top.code == 0 and "Commands" in top.stdout and "help" in top.stdout
    one = run_diagnose("help", "analyze", cwd=tmp_path)
    assert one.code == 0 and one.stdout.startswith("Usage: diagnose analyze")
    bad = run_diagnose("help", "analyse", cwd=tmp_path)
    assert bad.code == 2 and bad.stderr.count("\n") == 1 and "analyze" in bad.stderr
    # Help shows the choices of options that have them.
    run = run_diagnose("run", "--help", cwd=tmp_path)
    assert "text|json|markdown|html" in run.stdout.replace(" ", "")


@pytest.mark.parametrize("args", [
    ("--format", "yaml"), ("--since", "2d"), ("--since", "yesterday"), ("--tail", "lots"),
    ("--fail-on", "bogus"), ("--max-log-bytes", "huge"), ("--bogus-option",),
    ("--output", "afile"),
])
def test_usage_errors_are_one_line(created, tmp_path, args):
    (tmp_path / "afile").write_text("not a directory")
    r = run_diagnose(created, *args, cwd=tmp_path)
    assert r.code == 2, (args, r.stderr)
    assert r.stderr.startswith("diagnose: error: ") and r.stderr.count("\n") == 1, r.stderr
    assert "Usage:" not in r.stderr and "scripts/" not in r.stderr and r.stdout == ""
    assert r.bundle is None


def test_since_as_docker_takes_it(created, tmp_path):
    for since in ("1h30m", "1.5h", "300ms", "2026-01-02", "2026-01-02T15:04",
                  "2026-01-02T15:04:05Z", "1136073600.5"):
        r = run_diagnose(created, "-q", "--since", since, "--exit-zero", "--output",
                         str(tmp_path), cwd=tmp_path)
        assert r.code == 0, (since, r.stderr)


def test_explain_suggests_ids_and_codes(tmp_path):
    for typo, meant in (("runs-as-rot", "runs-as-root"), ("oom-kiled", "oom-killed"),
                        ("d70", "D701")):
        r = run_diagnose("explain", typo, cwd=tmp_path)
        assert r.code == 2 and r.stderr.count("\n") == 1, r.stderr
        assert meant in r.stderr, r.stderr
    assert run_diagnose("explain", "d705", cwd=tmp_path).code == 0
