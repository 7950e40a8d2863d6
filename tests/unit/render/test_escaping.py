"""Odd content cannot break a format or inject markup.

Everything a container controls (log lines, names, image references, labels quoted in facts)
reaches the reports, and `diagnose analyze` reads bundles that may come from anywhere.  This
report is built by hand so that every field holds the nastiest text we know of; the renderings
are then read the way their consumers read them.
"""

from __future__ import annotations

import json
import re

import pytest

from diagnose.model.findings import (
    CheckOutcome,
    Evidence,
    Finding,
    PathStep,
    Remediation,
    Severity,
    Status,
)
from diagnose.model.report import Report, TargetReport
from diagnose.render import Format, render
from tests.support.reports import (
    Page,
    assert_valid,
    external_references,
    markdown_to_html,
    table_rows,
)

NASTY = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    "a | b || c \\| d",
    "```` a fence breaker ``` `",
    "`code` and ``double`` and a lone `",
    "</details></summary></code><h1>injected</h1>",
    "<!-- an unterminated comment",
    "**bold** _em_ [link](https://example.invalid/) ![img](https://example.invalid/x.png)",
    "# heading",
    "- list item",
    "1. ordered",
    "> quote",
    "---",
    "&lt;entity&gt; &amp; &#60;",
    "\x1b]0;retitled\x07\x1b[31mred\x1b[0m and a carriage\rreturn",
    "bidi \u202etxet desrever\u202c end",
    "{{ jinja }} {% raw %}",
]
LINE = " ".join(NASTY[:3])
EXCERPT = "\n".join(NASTY)


def _nasty_report() -> Report:
    key = "web<b>|x"
    finding = Finding(
        title=f"title {LINE}",
        facts=(("fact | <i>name</i>", LINE), ("second", "`tick` | pipe")),
        evidence=(Evidence(f"containers/{key}/logs/stderr.log", lines=(1, len(NASTY)),
                           excerpt=EXCERPT),
                  Evidence(f"containers/{key}/inspect.json", pointer="/Config/Labels/a~1b",
                           excerpt="<b>label</b>")),
        remediation=Remediation(f"fix it {LINE}",
                                ("docker logs 'web' | grep '```'", "echo '<script>'")),
        severity=Severity.ERROR, id="app-crashed", code="D401", target=key, stage="logs",
    )
    hygiene = Finding(title="runs as root", severity=Severity.CRITICAL, id="runs-as-root",
                      code="D701", target=key, stage="hygiene")
    outcomes = (
        CheckOutcome("D401", "app-crashed", key, Status.FAILED, "", (finding,)),
        CheckOutcome("D701", "runs-as-root", key, Status.FAILED, "", (hygiene,)),
        CheckOutcome("D001", "created-not-started", key, Status.SKIPPED, f"needs {LINE}"),
    )
    path = (PathStep("logs", "What do its logs say?", f"last line: {NASTY[5]} {NASTY[14]}",
                     (f"containers/{key}/logs/stderr.log",)),)
    target = TargetReport(key=key, name=key, id="0" * 64, image="img:<latest>|x",
                          status="exited", exit_code=1, summary=f"exited 1 {NASTY[2]}",
                          outcomes=outcomes, path=path)
    meta = {
        "tool_version": "0.0.0", "mode": "offline", "generated_at": "2026-01-01T00:00:00Z",
        "bundle": "bundle `x` | <y>.tar.gz",
        "engine": {"endpoint": "unix:///x", "source": "default", "local": True,
                   "version": "<b>1</b>", "api_version": "1.41",
                   "negotiated_api_version": "1.41", "os": "os | x", "arch": "x86_64",
                   "kernel": "k", "storage_driver": "overlay2", "cgroup_version": "2",
                   "data_root": "/var/lib/docker"},
        "host": {},
        "redaction": {"enabled": True, "counts": []},
        "collectors_failed": [{"owner": key, "name": "logs", "reason": NASTY[0]}],
        "problems": [{"source": "plugin <x>", "message": NASTY[1]}],
        "files": [{"path": f"containers/{key}/logs/stderr.log", "size": 10,
                   "sha256": "0" * 64}],
    }
    return Report((target,), (), meta)


@pytest.fixture(scope="module")
def report() -> Report:
    return _nasty_report()


def test_json_keeps_every_byte(report):
    doc = json.loads(render(report, Format.JSON))
    f = doc["targets"][0]["findings"]
    assert [x["id"] for x in f] == ["app-crashed", "runs-as-root"]  # a cause before hygiene
    assert f[0]["evidence"][0]["excerpt"] == EXCERPT
    assert doc["verdict"]["id"] == "app-crashed"
    assert_valid(doc)


def test_markdown_tables_hold_and_nothing_is_markup(report):
    md = render(report, Format.MARKDOWN)
    # Every row of every table has as many cells as its header.
    widths = [len(r) for r in table_rows(md)]
    tables = re.split(r"\n\n+", md)
    for block in tables:
        rows = table_rows(block)
        if rows:
            assert len({len(r) for r in rows}) == 1, block
    assert widths
    html = markdown_to_html(md)
    page = Page(html)
    # Only what the template itself writes: no injected heading, link, image, script, comment.
    allowed = {"h2", "h4", "p", "strong", "table", "thead", "tbody", "tr", "th", "td", "code",
               "pre", "details", "summary", "sub", "ol", "ul", "li", "h3"}
    assert page.names <= allowed, page.names - allowed
    assert not page.comments
    assert not external_references(page)
    text = page.body_text
    # The odd text arrives intact, as text: in table cells, list items and code blocks.
    assert f"title {LINE}" in text
    assert "a | b || c \\| d" in text
    assert "</details></summary></code><h1>injected</h1>" in text
    assert "**bold** _em_ [link](https://example.invalid/)" in text
    # The excerpt is one code block holding exactly the (visible) excerpt.
    pre = re.findall(r"<pre><code[^>]*>(.*?)</code></pre>", html, re.S)
    import html as html_lib

    blocks = [html_lib.unescape(b) for b in pre]
    assert any("```` a fence breaker ``` `" in b and "<script>window.__pwned = 1</script>" in b
               and "\\x1b]0;retitled\\x07" in b for b in blocks), blocks
    assert any("docker logs 'web' | grep '```'" in b for b in blocks)
    # <details> blocks stay balanced whatever the path says.
    assert html.count("<details>") == html.count("</details>") >= 1
    assert "\x1b" not in md and "\u202e" not in md and "\r" not in md


def test_html_is_inert_and_self_contained(report):
    html = render(report, Format.HTML)
    page = Page(html)
    assert "script" not in page.names and "img" not in page.names and "h1" in page.names
    assert [t for t, _ in page.tags].count("h1") == 1  # ours; the injected one is text
    assert not external_references(page)
    assert not page.comments
    text = page.body_text
    assert "<script>window.__pwned = 1</script>" in text
    assert '<img src=x onerror="window.__pwned = 2">' in text
    assert "</details></summary></code><h1>injected</h1>" in text
    assert "\x1b" not in html and "\u202e" not in html
    assert "\\x1b]0;retitled\\x07" in text and "\\u202e" in text
    # Findings by severity: the critical hygiene finding first, then the error.
    sections = [a for t, a in page.tags if t == "section"]
    assert [s["data-severity"] for s in sections] == ["critical", "error"]


def test_text_shows_control_characters_instead_of_obeying_them(report):
    plain = render(report, Format.TEXT)
    assert "\x1b" not in plain and "\r" not in plain and "\u202e" not in plain
    assert "\\x1b]0;retitled\\x07\\x1b[31mred" in plain
    assert "    | <script>window.__pwned = 1</script>" in plain
    coloured = render(report, Format.TEXT, color=True)
    # The only escape sequences are our own SGR colour codes.
    assert "\x1b" not in re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_junit_is_well_formed_and_keeps_the_text(report):
    import xml.etree.ElementTree as ET  # noqa: PLC0415  (only this test reads XML)

    xml = render(report, Format.JUNIT)
    root = ET.fromstring(xml)  # a control character or a stray `<` would not parse
    failure = next(root.iter("failure"))
    assert failure.get("message") == f"title {LINE}"
    text = failure.text or ""
    assert "<script>window.__pwned = 1</script>" in text  # escaped in XML, intact when read
    assert "\x1b" not in xml and "\\x1b]0;retitled" in text
    assert "{{ jinja }}" in text
    assert next(root.iter("testsuite")).get("name") == "web<b>|x"
