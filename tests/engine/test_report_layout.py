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
