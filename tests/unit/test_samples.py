"""samples/: the committed renderings are what the code renders now, and they are sound.

Each samples/NAME.tar.gz is a real bundle of a really broken container (scripts/make_samples.py
made it); NAME.txt/.json/.md/.html are what `diagnose analyze` prints for it.  When checks or
renderers change, these tests say so and name the one command that regenerates them.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from tests.support.reports import ROOT, SAMPLES, Page, assert_valid, external_references


def _make_samples():
    spec = importlib.util.spec_from_file_location("make_samples", ROOT / "scripts" /
                                                  "make_samples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_samples", module)
    spec.loader.exec_module(module)
    return module


MS = _make_samples()
BUNDLES = MS.bundles()
EXPECTED = {"oom-killed", "created-not-started", "app-crash", "restart-loop", "several-targets",
            "crashing-service", "web-pair"}


def test_the_samples_are_there():
    assert {b.name.removesuffix(".tar.gz") for b in BUNDLES} == EXPECTED
    for bundle in BUNDLES:
        assert bundle.stat().st_size < 200_000, f"{bundle} should stay small"
    # No rendering without its bundle (a diff's are made from the bundle it names).
    stems = {b.name.removesuffix(".tar.gz") for b in BUNDLES} | set(MS.DIFFS)
    assert {bundle for bundle, _, _ in MS.DIFFS.values()} <= stems
    for path in SAMPLES.iterdir():
        if path.suffix in (".txt", ".json", ".md", ".html"):
            assert path.stem in stems, f"{path} has no bundle"


@pytest.fixture(scope="module")
def rendered_now():
    """Every rendering as the real CLI prints it now (in parallel: one process each)."""
    import concurrent.futures as cf

    jobs = [(b, f) for b in BUNDLES for f in MS.FORMATS]
    with cf.ThreadPoolExecutor(4) as pool:
        return dict(zip(jobs, pool.map(lambda job: MS.render_one(*job), jobs), strict=True))


@pytest.mark.parametrize("fmt", list(MS.FORMATS))
@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda b: b.name)
def test_committed_renderings_match_what_the_code_renders(bundle, fmt, rendered_now):
    committed_path = MS.rendering_path(bundle, fmt)
    now = rendered_now[(bundle, fmt)]
    rel = committed_path.relative_to(ROOT)
    assert committed_path.exists(), f"{rel} is missing; run `{MS.RENDER_COMMAND}`"
    committed = committed_path.read_text(encoding="utf-8")
    assert now == committed, (
        f"{rel} is not what `diagnose analyze {bundle.relative_to(ROOT)} --format {fmt}` "
        f"renders now (checks or renderers changed).  Regenerate the samples with "
        f"`{MS.RENDER_COMMAND}` and commit them.")


@pytest.mark.parametrize("fmt", list(MS.FORMATS))
@pytest.mark.parametrize("name", list(MS.DIFFS))
def test_committed_diff_renderings_match_what_the_code_renders(name, fmt):
    path = MS.diff_path(name, fmt)
    rel = path.relative_to(ROOT)
    assert path.exists(), f"{rel} is missing; run `{MS.RENDER_COMMAND}`"
    assert MS.render_diff(name, fmt) == path.read_text(encoding="utf-8"), (
        f"{rel} is not what `diagnose diff` renders now.  Regenerate the samples with "
        f"`{MS.RENDER_COMMAND}` and commit them.")


def test_the_diff_sample_names_the_missing_variable_first_and_shows_no_secret():
    doc = json.loads(MS.diff_path("diff-web", "json").read_text(encoding="utf-8"))
    first = doc["differences"][0]
    assert (first["field"], first["change"], first["link"]) == ("DATABASE_URL", "removed",
                                                                "named")
    assert doc["b"]["verdict"]["id"] == "missing-env-var" and not doc["a"]["failing"]
    for fmt in MS.FORMATS:
        assert "Sample-Db-Pw" not in MS.diff_path("diff-web", fmt).read_text(encoding="utf-8")
    page = Page(MS.diff_path("diff-web", "html").read_text(encoding="utf-8"))
    assert not external_references(page) and "script" not in page.names


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda b: b.name)
def test_sample_json_validates_and_html_is_self_contained(bundle):
    doc = json.loads(MS.rendering_path(bundle, "json").read_text(encoding="utf-8"))
    assert_valid(doc)
    assert doc["mode"] == "offline" and doc["bundle"] == str(bundle.relative_to(ROOT))
    page = Page(MS.rendering_path(bundle, "html").read_text(encoding="utf-8"))
    assert not external_references(page)
    assert "script" not in page.names


def _doc(name):
    return json.loads((SAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def test_samples_show_what_broke():
    oom = _doc("oom-killed")
    assert oom["verdict"]["id"] == "oom-killed" and oom["verdict"]["severity"] == "critical"
    assert oom["targets"][0]["state"]["exit_code"] == 137
    created = _doc("created-not-started")
    assert created["targets"][0]["state"]["status"] == "created"
    assert created["verdict"]["id"] == "created-not-started"
    crash = _doc("app-crash")
    assert crash["targets"][0]["state"]["exit_code"] == 1
    loop = _doc("restart-loop")
    assert loop["targets"][0]["state"]["status"] in ("restarting", "running", "exited")
    assert "restart" in loop["targets"][0]["state"]["summary"]
    several = _doc("several-targets")
    assert len(several["targets"]) == 5
    healthy = next(t for t in several["targets"] if t["name"] == "sample-healthy")
    assert healthy["state"]["status"] == "running"
    assert all(f["severity"] == "info" for f in healthy["findings"])


@pytest.mark.parametrize("bundle", BUNDLES, ids=lambda b: b.name)
def test_markdown_fits_a_github_issue_and_names_no_local_directory(bundle):
    md = MS.rendering_path(bundle, "markdown").read_text(encoding="utf-8")
    html = MS.rendering_path(bundle, "html").read_text(encoding="utf-8")
    assert len(md) < 65_536, f"{bundle.name}: {len(md)} characters"
    for text in (md, html):
        assert bundle.name in text and f"/{bundle.name}" not in text
