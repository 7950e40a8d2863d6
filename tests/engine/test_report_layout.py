"""The text report leads with what is wrong (issue 13): the verdict, the problems in full,
then the advisories one line per check; a healthy container fits in a screen."""

from __future__ import annotations

import json

import pytest

from tests.support.runs import run_diagnose


@pytest.fixture(scope="module")
def pair(engine):
    """A healthy running container and a created one (a warning), sharing advisories."""
    healthy = engine.run("layout-ok", cmd=("sleep", "3600"))
    engine.wait_status(healthy, "running")
    return healthy, engine.create("layout-created", cmd=("true",))


def test_a_healthy_container_fits_in_a_screen(pair, tmp_path):
    healthy, _ = pair
    r = run_diagnose(healthy, "--output", str(tmp_path), cwd=tmp_path,
                     env={"COLUMNS": "", "NO_COLOR": "1"})
    assert r.code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) <= 25, r.stdout
    assert max(len(ln) for ln in lines if not ln.startswith("bundle:")) <= 80, r.stdout
    n_info = json.loads(r.members()["findings.json"])["counts"]["info"]
    assert n_info > 1  # busybox as root on the default bridge: advisories
    # Advisories only: "no problem found; N advisories", never "no finding" then a list.
    assert lines[1].startswith(f"  verdict: no problem found; {n_info} advisories"), lines[1]
    assert "no finding" not in r.stdout.lower() and "Problems (" not in r.stdout
    assert any(ln.startswith("  D705 runs-as-root (info): ") for ln in lines), r.stdout
    # --verbose expands them (evidence and fix), and shows the decision path.
    v = run_diagnose(healthy, "-v", "--output", str(tmp_path), cwd=tmp_path)
    assert "[INFO] D705 runs-as-root" in v.stdout and "Decision path for" in v.stdout
    assert len(v.stdout.splitlines()) > len(lines)


def test_problems_first_then_advisories_grouped_by_check(pair, tmp_path):
    healthy, created = pair
    r = run_diagnose(healthy, created, "--output", str(tmp_path), cwd=tmp_path,
                     env={"COLUMNS": "200"})
    assert r.code == 0, r.stderr
    text = r.stdout
    lines = text.splitlines()
    assert lines[0].startswith("2 targets: 1 warning, 1 without a problem")
    assert lines[1].startswith(f"  verdict: WARNING D001 created-not-started on {created}")
    table = lines.index(next(ln for ln in lines if ln.startswith("target ")))
    assert lines[table + 2].startswith(created)  # the verdict's target first
    assert text.index("Problems (1)") < text.index("Advisories (")
    assert f"[WARNING] D001 created-not-started on {created}" in text
    root = next(ln for ln in lines if ln.startswith("  D705 runs-as-root (info): "))
    assert set(root.split(": ", 1)[1].split(", ")) == {healthy, created}
    assert "[INFO]" not in text
    # The same offline.
    offline = run_diagnose("analyze", str(r.bundle), cwd=tmp_path, env={"COLUMNS": "200"})
    assert offline.stdout.split("analysed bundle:")[0] == text.split("bundle:")[0]


def _skipped(doc, code):
    return [c["reason"] for t in doc["targets"] for c in t["checks"]
            if c["code"] == code and c["status"] == "skipped"]


def test_check_selection_live_and_offline(pair, tmp_path):
    healthy, created = pair
    r = run_diagnose(healthy, created, "--skip", "runs-as-root,D001", "--skip", "d706",
                     "-f", "json", "--output", str(tmp_path), cwd=tmp_path)
    assert r.code == 0, r.stderr
    doc = r.json()
    ids = {f["id"] for t in doc["targets"] for f in t["findings"]}
    assert not ids & {"runs-as-root", "created-not-started", "image-unpinned"}
    assert "image-not-official" in ids
    assert _skipped(doc, "D705") == ["deselected by --skip"] * 2
    # analyze applies its own selection to the same bundle (the bundle holds the evidence).
    offline = run_diagnose("analyze", str(r.bundle), "--only", "D001", "-f", "json",
                           cwd=tmp_path)
    assert offline.code == 0, offline.stderr
    found = [(f["target"], f["id"]) for t in offline.json()["targets"] for f in t["findings"]]
    assert found == [(created, "created-not-started")]
    assert _skipped(offline.json(), "D705") == ["deselected by --only"] * 2
    # An unknown check is a one-line usage error that suggests what was meant.
    for args in (("--skip", "runs-as-rot"), ("--only", "D70")):
        bad = run_diagnose(healthy, *args, "--output", str(tmp_path), cwd=tmp_path)
        assert bad.code == 2 and bad.stderr.count("\n") == 1, bad.stderr
        assert "did you mean" in bad.stderr and bad.bundle is None
    assert "runs-as-root" in run_diagnose("analyze", str(r.bundle), "--skip", "runs-as-rot",
                                          cwd=tmp_path).stderr


def test_min_severity_hides_but_never_changes_the_exit_code(pair, tmp_path):
    healthy, created = pair
    r = run_diagnose(healthy, created, "--min-severity", "WARNING", "--fail-on", "warning",
                     "--output", str(tmp_path), cwd=tmp_path)
    assert r.code == 1, r.stderr
    assert "Advisories" not in r.stdout and "D705" not in r.stdout
    assert "below warning not shown (--min-severity)" in r.stdout
    offline = run_diagnose("analyze", str(r.bundle), "--min-severity", "error", cwd=tmp_path)
    assert offline.code == 0 and "Problems" not in offline.stdout
    # The bundle keeps everything.
    inside = json.loads(r.members()["findings.json"])
    assert inside["counts"]["info"] > 0 and inside["counts"]["warning"] == 1


def test_ignore_entries_silence_findings_live_and_offline(pair, tmp_path):
    healthy, created = pair
    config = tmp_path / "config.toml"
    config.write_text(f'''
[[ignore]]
check = "created-not-started"
target = "{created[:-3]}*"
reason = "created on purpose by the test"
expires = 2999-12-31

[[ignore]]
check = "D705"
target = "{healthy}"
reason = "busybox runs as root"

[[ignore]]
check = "image-unpinned"
reason = "long gone"
expires = 2001-01-01
''')
    r = run_diagnose(healthy, created, "--config", str(config), "--fail-on", "warning",
                     "-f", "json", "--output", str(tmp_path), cwd=tmp_path)
    assert r.code == 0, r.stderr  # the warning is suppressed: it never counts for --fail-on
    doc = r.json()
    by = {(f["target"], f["id"]): f for t in doc["targets"] for f in t["findings"]}
    assert by[(created, "created-not-started")]["suppressed"] == {
        "reason": "created on purpose by the test", "expires": "2999-12-31"}
    assert by[(healthy, "runs-as-root")]["suppressed"]["expires"] is None
    assert "suppressed" not in by[(created, "runs-as-root")]  # the target glob decides
    assert doc["verdict"] is None and doc["counts"]["warning"] == 0
    # The expired entry no longer applies, and the report says so.
    assert "suppressed" not in by[(healthy, "image-unpinned")]
    expired = [p for p in doc["problems"] if "expired on 2001-01-01" in p["message"]]
    assert expired and expired[0]["source"] == "config file config.toml: [[ignore]] #3"
    assert json.loads(r.members()["findings.json"]) == doc
    # Offline, with the same configuration: the same; the text lists them at the end.
    text = run_diagnose("analyze", str(r.bundle), "--config", str(config), "--fail-on",
                        "warning", cwd=tmp_path, env={"COLUMNS": "200"})
    assert text.code == 0, text.stderr
    assert "verdict: no problem found" in text.stdout
    assert (f"  D001 created-not-started (warning) on {created}: created on purpose by the "
            "test (until 2999-12-31)") in text.stdout
    assert "expired on 2001-01-01" in text.stdout
    # Without it, the warning is back.
    assert run_diagnose("analyze", str(r.bundle), "--fail-on", "warning", cwd=tmp_path,
                        env={"XDG_CONFIG_HOME": str(tmp_path / "none")}).code == 1


@pytest.mark.parametrize(("entry", "words"), [
    ('check = "runs-as-rot"\nreason = "x"', "no check 'runs-as-rot'; did you mean runs-as-root"),
    ('check = "D705"', "reason is required"),
    ('check = "D705"\nreason = "x"\nexpires = "next year"', "is not a date"),
    ('check = "D705"\nreason = "x"\nuntil = 2027-01-01', "unknown key 'until'"),
])
def test_a_bad_ignore_entry_is_a_one_line_config_error(pair, tmp_path, entry, words):
    healthy, _ = pair
    config = tmp_path / "config.toml"
    config.write_text(f"[[ignore]]\n{entry}\n")
    r = run_diagnose(healthy, "--config", str(config), "--output", str(tmp_path),
                     cwd=tmp_path)
    assert r.code == 2 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("diagnose: error: config file ") and words in r.stderr
    assert r.bundle is None
