"""A real container whose output is an attack on whoever reads the report: terminal escapes
(OSC 52 clipboard write, title change), bidi overrides, and text GitHub would turn into
mentions, issue references, links, images and headings.  Diagnosed in every format, nothing
of it may act: no raw control or bidi character on stdout, stderr or in the bundle's JSON,
and the Markdown (stdout and summary.md) holds no markup, link or live mention outside code.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from tests.support.engine import wait_for
from tests.support.reports import Page, external_references, live_in_prose, markdown_to_html, prose
from tests.support.runs import read_members

OSC52 = "\x1b]52;c;ZXZpbA==\x07"
TITLE = "\x1b]0;pwned\x07"
BIDI = "\u202eevil\u202c \u2066x\u2069"
SCRIPT = (
    "printf 'starting @someone #1 https://evil.example www.evil.example\\n'; "
    "printf '# heading\\n<img src=x onerror=alert(1)>\\n[link](https://evil.example)\\n' >&2; "
    "printf 'Error: osc \\033]52;c;ZXZpbA==\\007 title \\033]0;pwned\\007 "
    "bidi \\342\\200\\256evil\\342\\200\\254 \\342\\201\\246x\\342\\201\\251 "
    "@someone fixes #1 see https://evil.example\\n' >&2; exit 1"
)
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                 "\u202a-\u202e\u2066-\u2069]")
ALLOWED_TAGS = {"h2", "h3", "h4", "p", "strong", "table", "thead", "tbody", "tr", "th", "td",
                "code", "pre", "details", "summary", "sub", "ol", "ul", "li"}


def _assert_inert_markdown(md: str) -> None:
    html = markdown_to_html(md)
    page = Page(html)
    assert page.names <= ALLOWED_TAGS, page.names - ALLOWED_TAGS
    assert not external_references(page) and not page.comments
    assert not [h for h in re.findall(r"<h\d>(.*?)</h\d>", html) if "heading" in h]
    assert live_in_prose(md) == []
    shown = "".join(prose(md)).replace("\u200b", "")
    assert "@someone fixes #1 see https://evil.example" in shown  # readable, as text
    # The quoted evidence is exact (controls made visible) inside its code block.
    assert "\\x1b]52;c;ZXZpbA==\\x07 title \\x1b]0;pwned\\x07 bidi \\u202eevil\\u202c" in md


def test_hostile_container_output_is_inert_in_every_format(engine, tmp_path):
    c = engine.run("hostile", cmd=("sh", "-c", SCRIPT))
    engine.wait_status(c, "exited")
    wait_for(lambda: "fixes" in subprocess.run(["docker", "logs", c], capture_output=True,
                                               text=True, check=False).stderr,
             what="the container's output")
    for fmt in ("text", "json", "markdown", "html"):
        out = tmp_path / fmt
        out.mkdir()
        proc = subprocess.run([sys.executable, "-m", "diagnose", c, "--format", fmt,
                               "--output", str(out)], cwd=out, capture_output=True,
                              timeout=180, check=False)
        assert proc.returncode == 1, proc.stderr
        stdout, stderr = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
        assert not RAW.search(stdout), (fmt, RAW.findall(stdout))
        assert not RAW.search(stderr), (fmt, stderr)
        assert "evil" in stdout, fmt  # the output is reported, not dropped
        bundle = next(out.glob("diagnose-*.tar.gz"))
        members = read_members(bundle)
        for name in ("findings.json", "manifest.json", "summary.md", "summary.html"):
            text = members[name].decode("utf-8")
            assert not RAW.search(text), (name, RAW.findall(text))
        findings = json.loads(members["findings.json"])
        assert "\u202eevil\u202c" in json.dumps(findings, ensure_ascii=False)  # parses back
        _assert_inert_markdown(members["summary.md"].decode("utf-8"))
        if fmt == "markdown":
            assert stdout == members["summary.md"].decode("utf-8")
            _assert_inert_markdown(stdout)
        if fmt == "html":
            page = Page(stdout)
            assert "img" not in page.names and not external_references(page)
            assert "<img src=x onerror=alert(1)>" in page.body_text
        if fmt == "text":
            assert "\\x1b]52;c;ZXZpbA==\\x07" in stdout and "\\u202eevil" in stdout
    # The raw log itself is evidence and is kept byte for byte.
    log = members[f"containers/{c}/logs/stderr.log"]
    assert OSC52.encode() in log and "\u202eevil".encode() in log
