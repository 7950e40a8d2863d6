"""summary.html from a real bundle, opened in a real headless Chromium (Debian's package).

How (see tests/support/browser.py for why): Chromium is driven over the DevTools protocol on a pipe.
The page is opened from disk (file://) as a ticket attachment would be, with its own
Content-Security-Policy bypassed so the CSP cannot mask a reference to the outside.  Then:

- every request the page made is listed (`Network.requestWillBeSent` of that page only): the
  file itself must be the only one;
- a script run in the page after load measures the findings (boxes with a size, displayed,
  not hidden, not transparent), reads the verdict, and checks that the log lines holding
  `<script>` and `<img onerror>` stayed text (no script element, no handler ran);
- a full-page screenshot is written to test-artifacts/summary-html-chromium.png, and a strip of
  the first finding is decoded to check that its severity colour was really painted.

A control test feeds the same harness a page that does fetch from outside and does run a
handler, and checks that both are caught: the harness can fail.
"""

from __future__ import annotations

import json

import pytest

from tests.support import browser
from tests.support.reports import CRASH, PWN_SCRIPT
from tests.support.runs import run_diagnose

PROBE = r"""JSON.stringify((() => {
  const shown = el => {
    if (!el) return false;
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.display !== "none" && s.visibility !== "hidden"
      && parseFloat(s.opacity) > 0;
  };
  const box = el => { const r = el.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, width: r.width, height: r.height}; };
  const verdict = document.getElementById("verdict");
  return {
    title: document.title,
    verdict: verdict ? verdict.innerText : null,
    verdictShown: shown(verdict),
    findings: [...document.querySelectorAll("section.finding")].map(el => ({
      id: el.dataset.id, severity: el.dataset.severity, shown: shown(el),
      text: el.innerText, box: box(el),
      color: getComputedStyle(el).borderLeftColor})),
    scripts: document.scripts.length,
    images: document.images.length,
    pwned: window.__diagnose_pwned === undefined ? null : window.__diagnose_pwned,
    everything: document.body.textContent,
    files: [...document.querySelectorAll("#files + table td:first-child")].map(td => td.innerText),
  };
})())"""

CRITICAL_RGB = (0x8B, 0x00, 0x00)  # --critical in templates/summary.html.j2 (light scheme)


def _strip(probe):
    """The left edge of the first finding: its 8px severity border and a little inside."""
    parsed = json.loads(probe)
    first = parsed["findings"][0]["box"] if parsed["findings"] else None
    if not first:
        return []
    return [{"x": first["x"], "y": first["y"], "width": 24,
             "height": min(first["height"], 400)}]


@pytest.fixture(scope="module")
def page_file(engine, tmp_path_factory):
    """summary.html of a real bundle of a really OOM-killed container and a crashed one."""
    oom = engine.run("h-oom", "--memory", "32m",
                     cmd=("sh", "-c", "echo loading; x=a; while true; do x=$x$x; done"))
    crash = engine.run("h-crash", cmd=("sh", "-c", CRASH))
    engine.wait_status(oom, "exited")
    engine.wait_status(crash, "exited")
    out = tmp_path_factory.mktemp("html")
    r = run_diagnose(oom, crash, "--quiet", "--output", str(out), cwd=out)
    assert r.code == 1, r.stderr
    page = out / "summary.html"
    page.write_bytes(r.members()["summary.html"])
    return page, oom, crash


def test_summary_html_renders_in_chromium_with_findings_visible_and_nothing_fetched(page_file):
    page, oom, crash = page_file
    url = page.resolve().as_uri()
    loaded = browser.load(url, PROBE, width=1280, height=1000, clips=_strip)
    shot = browser.save_artifact("summary-html-chromium.png", loaded.screenshot)
    probe = json.loads(loaded.probe)

    # Nothing but the file itself was requested.
    assert loaded.requests == [url], loaded.requests

    # The page rendered, verdict first, and every finding is on screen.
    assert probe["title"].startswith("diagnose: CRITICAL oom-killed on ")
    assert probe["verdictShown"] and "D201 oom-killed" in probe["verdict"]
    assert oom in probe["verdict"]
    ids = [f["id"] for f in probe["findings"]]
    assert "oom-killed" in ids
    for f in probe["findings"]:
        assert f["shown"], f
        assert f["box"]["width"] > 600 and f["box"]["height"] > 80, f
    first = probe["findings"][0]
    assert first["id"] == "oom-killed" and first["severity"] == "critical"
    assert "Evidence" in first["text"] and "Fix:" in first["text"]
    assert "docker update --memory" in first["text"]

    # The crash's log lines are text: no script element, no handler ran.
    assert probe["scripts"] == 0 and probe["images"] == 0 and probe["pwned"] is None
    assert PWN_SCRIPT in probe["everything"]
    assert any(f.startswith(f"containers/{oom}/") for f in probe["files"])
    assert any(f.startswith(f"containers/{crash}/") for f in probe["files"])

    # The screenshot exists and the severity colour was painted where the finding is.
    width, height, _ = browser.png_pixels(loaded.clips[0])
    assert shot.stat().st_size > 10_000 and loaded.screenshot[:8] == b"\x89PNG\r\n\x1a\n"
    _, _, pixels = browser.png_pixels(loaded.clips[0])
    painted = sum(1 for p in pixels if p == CRITICAL_RGB)
    assert painted > 0.2 * width * height, (painted, width * height, first["color"])


def test_the_harness_catches_outside_fetches_and_live_markup(tmp_path):
    evil = tmp_path / "evil.html"
    evil.write_text(
        '<!DOCTYPE html><html><head>'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        '<link rel="stylesheet" href="https://fonts.example.invalid/x.css">'
        '<style>body { background: url(http://images.example.invalid/bg.png) }</style>'
        '</head><body><p id="verdict">v</p>'
        '<section class="finding" data-id="x" data-severity="critical">finding</section>'
        '<img src="https://images.example.invalid/a.png" onerror="window.__diagnose_pwned = 2">'
        "</body></html>", encoding="utf-8")
    url = evil.resolve().as_uri()
    loaded = browser.load(url, PROBE)
    probe = json.loads(loaded.probe)
    assert url in loaded.requests
    assert "https://fonts.example.invalid/x.css" in loaded.requests
    assert "https://images.example.invalid/a.png" in loaded.requests
    assert probe["pwned"] == 2 and probe["images"] == 1
