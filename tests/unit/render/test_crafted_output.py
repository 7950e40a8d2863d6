"""Hostile text in every field of a bundle, read back by the real CLI: nothing reaches a reader
as markup, a link, a mention or a terminal command.

`diagnose analyze` reads bundles that may come from anywhere, so the manifest's own fields
(file sizes, engine entries, collector reasons...), not only what containers printed, are
crafted here (tests/support/crafted.py rewrites a committed sample bundle).  Markdown is read like
GitHub reads it (tests/support/reports.py: GFM-like, bare URLs linked); stderr and JSON are read as
bytes.
"""

from __future__ import annotations

import json
import re

import pytest

from diagnose.bundle.manifest import dump
from diagnose.model.escape import json_text, one_line, visible
from diagnose.render.templates import code, fenced, md
from tests.support.crafted import craft
from tests.support.reports import (
    Page,
    external_references,
    live_in_prose,
    markdown_to_html,
    prose,
    table_rows,
)
from tests.support.runs import run_diagnose

#: Would be markup, a link, a mention, a reference or a heading if pasted raw into an issue.
MARKUP = ("<img src=x onerror=alert(1)> [link](https://evil.example) "
          "![i](https://evil.example/i.png) @someone #12 GH-7 !3 mail@evil.example "
          "www.evil.example //evil.example/x <b>bold</b> **strong**")
HEADING = "# fake heading"
#: Terminal commands (OSC 52 clipboard write, title, screen clear) and bidi overrides.
TERMINAL = "osc\x1b]52;c;ZXZpbA==\x07 title\x1b]0;pwned\x07 clear\x1b[2J nul\x00 nel\x85"
BIDI = "bidi \u202eevil\u202c \u2066iso\u2069 \u200e\u200f\u061c end"
#: Characters that must never be written raw to stdout, stderr or a JSON file.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                 "\u202a-\u202e\u2066-\u2069]")
ALLOWED_TAGS = {"h2", "h3", "h4", "p", "strong", "table", "thead", "tbody", "tr", "th", "td",
                "code", "pre", "details", "summary", "sub", "ol", "ul", "li"}


def _hostile_manifest(doc: dict) -> None:
    """Every text field of the manifest a report shows set to hostile text.  (Numbers such
    as `files[].size` and `engines[].targets` that hold text make the bundle malformed:
    refused with exit 2, see tests/unit/bundle/test_bounds.py.)"""
    value = f"{MARKUP}\n{HEADING}\n{TERMINAL} {BIDI}"
    first = doc["engines"][0]
    doc["engines"].append({**first, "label": "second", "prefix": "engines/second/",
                           "endpoint": value, "status": "failed", "reason": value,
                           "version": value})
    doc["engine"]["os"] = value
    for c in doc["collectors"][:3]:
        c["status"], c["reason"] = "failed", value
    doc["redaction"]["counts"] = [{"rule": value, "file": value, "count": 2}]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    path = tmp_path_factory.mktemp("crafted") / "hostile.tar.gz"
    return craft(path, "app-crash", manifest=_hostile_manifest)


def _analyze(bundle, fmt: str):
    r = run_diagnose("analyze", str(bundle), "--format", fmt, "--exit-zero", cwd=bundle.parent)
    assert r.code == 0, r.stderr
    assert "Traceback" not in r.stderr
    return r


def test_crafted_manifest_markdown_is_inert(hostile):
    md_text = _analyze(hostile, "markdown").stdout
    assert "fake heading" in md_text and "onerror" in md_text  # the crafted fields are shown
    for block in re.split(r"\n\n+", md_text):  # every table row keeps its cells
        assert len({len(row) for row in table_rows(block)}) <= 1, block
    html = markdown_to_html(md_text)
    page = Page(html)
    assert page.names <= ALLOWED_TAGS, page.names - ALLOWED_TAGS
    assert not external_references(page) and not page.comments
    headings = re.findall(r"<h\d>(.*?)</h\d>", html)
    assert not [h for h in headings if "fake" in h or "evil" in h], headings
    assert live_in_prose(md_text) == []
    # Readable: the crafted text arrives as text (zero-width spaces aside), controls visible.
    shown = "".join(prose(md_text)).replace("\u200b", "")
    assert "<img src=x onerror=alert(1)> [link](https://evil.example)" in shown
    assert "@someone #12" in shown and "\\x1b]52;c;ZXZpbA==\\x07" in shown
    assert "\\u202eevil\\u202c" in shown
    assert not RAW.search(md_text)


def test_crafted_manifest_other_formats(hostile):
    text = _analyze(hostile, "text").stdout
    assert not RAW.search(text)
    assert "\\x1b]52;c;ZXZpbA==\\x07" in text and "\\u202eevil" in text
    page = Page(_analyze(hostile, "html").stdout)
    assert "img" not in page.names and not external_references(page)
    assert "<img src=x onerror=alert(1)>" in page.body_text
    out = _analyze(hostile, "json").stdout
    assert not RAW.search(out)
    doc = json.loads(out)
    assert doc["engines"][1]["label"] == "second"


def test_markdown_neutralises_mentions_references_and_bare_urls():
    for value in ("@someone", "@org/team", "#1", "owner/repo#123", "GH-26", "!42",
                  "https://evil.example/a?b=1", "http://x.example", "ftp://x.example",
                  "www.evil.example", "WWW.EVIL.EXAMPLE", "mail@evil.example",
                  "//evil.example/x", "unix:///var/run/docker.sock"):
        rendered = md(f"see {value} now")
        assert live_in_prose(rendered) == [], (value, rendered)
        html = markdown_to_html(rendered)
        assert "<a " not in html, (value, html)
        # Nothing shows but the text itself.
        assert "".join(prose(rendered)).replace("\u200b", "") == f"see {value} now"
    # Ordinary text is left alone: C#, #hashtag, a@ at the end, 1.5 s, version 2!
    for value in ("C# and #hashtag", "trailing @", "1.5 s", "version 2!", "a/b/c"):
        assert md(value) == value


def test_code_and_fences_keep_text_exact():
    evidence = "@someone #1 https://evil.example www.evil.example\n```\n~~~\n# not a heading"
    block = fenced(evidence, "text")
    html = markdown_to_html(block)
    import html as html_lib

    assert html_lib.unescape(re.search(r"<code[^>]*>(.*?)</code>", html, re.S).group(1)) \
        == evidence + "\n"
    span = code("@someone https://evil.example #1")
    assert span == "`@someone https://evil.example #1`"
    assert "<a " not in markdown_to_html(span)


def test_json_escapes_controls_and_bidi_and_parses_back():
    value = {"k\u202e": [f"{TERMINAL} {BIDI} \u2028\u2029 caf\u00e9 \u2713"]}
    for text in (json_text(value), dump(value).decode("utf-8")):
        assert not RAW.search(text), text
        assert "\\u202e" in text and "\\u001b" in text and "\\u0085" in text
        assert "caf\u00e9 \u2713" in text  # UTF-8 kept as is
        assert json.loads(text) == value


def test_stderr_lines_show_controls_instead_of_obeying_them(tmp_path):
    name = f"x{TERMINAL}{BIDI}"
    bundle = craft(tmp_path / "missing.tar.gz", "app-crash", manifest=lambda d: d["files"].append(
        {"path": f"containers/{name}", "size": 1, "sha256": "0" * 64}))
    r = run_diagnose("analyze", str(bundle), cwd=tmp_path)
    assert r.code == 2, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("diagnose: error: "), r.stderr
    assert not RAW.search(r.stderr), r.stderr
    assert "\\x1b]52;c;ZXZpbA==\\x07" in lines[0] and "\\u202eevil" in lines[0]
    assert one_line("a\nb\x1b[2J\tc\u202e") == "a b\\x1b[2J c\\u202e"
    assert visible("keep\ttab\nand newline\r") == "keep\ttab\nand newline\\r"


def test_progress_warnings_are_inert():
    import io

    from diagnose.cli.progress import TerminalProgress

    stream = io.StringIO()
    progress = TerminalProgress(stream, color=False, delay=3600)
    try:
        progress(f"warning: engine {TERMINAL} {BIDI}: stopped answering")
    finally:
        progress.close()
    assert "warning: engine" in stream.getvalue()
    assert not RAW.search(stream.getvalue()), stream.getvalue()
