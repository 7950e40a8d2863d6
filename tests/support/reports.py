"""Shared helpers for the report tests: the schema, sample reports, and readers of each format.

The readers parse a rendering the way its consumer would (a CommonMark/GFM parser for
Markdown, an HTML parser for the page) so the tests check what a person would see.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
SCHEMA_PATH = ROOT / "diagnose" / "schema" / "report-v1.json"


#: Log lines made to break reports (HTML, pipes, backticks, a closing </details>, an ANSI
#: escape), and a container command that prints them and fails.
PWN_IMG = '<img src=x onerror="window.__diagnose_pwned=2"> | `id` | **bold** [l](https://x.invalid/)'
PWN_SCRIPT = "ValueError: <script>window.__diagnose_pwned=1</script> | a || b ``` </details>"
CRASH = (
    "printf 'worker starting\\n'; "
    f"printf '%s\\n' '{PWN_IMG}' >&2; "
    "printf '\\033[31mred\\033[0m </summary><h1>injected</h1>\\n' >&2; "
    f"printf '%s\\n' '{PWN_SCRIPT}' >&2; "
    "exit 1"
)


@functools.cache
def validator() -> jsonschema.Draft202012Validator:
    """A strict validator for diagnose/v1 documents (formats checked too)."""
    from diagnose.render.document import schema as packaged

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert packaged() == schema, "the package must ship the schema of the repository"
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def assert_valid(doc: Any) -> None:
    """Fail with every schema violation listed (not just the first)."""
    errors = sorted(validator().iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{e.json_path}: {e.message[:300]}" for e in errors[:20])


def sample_report(name: str) -> Any:
    """The report `diagnose analyze samples/NAME.tar.gz` builds (no plugins)."""
    from diagnose.runs.analyze import run_analyze

    return run_analyze(SAMPLES / f"{name}.tar.gz", plugins=False).report


# -- Markdown --------------------------------------------------------------------------------


def markdown_parser() -> Any:
    """A CommonMark parser set up like GitHub: GFM tables and strikethrough, raw HTML allowed,
    and bare URLs and e-mail addresses linked (linkify, when linkify-it-py is installed: the
    test extra has it).

    GitHub links `scheme://...`, `www.` and e-mail addresses but not a bare `docker.io`;
    linkify-it's fuzzy links cover both or neither, so they are off here and `www.` is looked
    for in the rendered text instead (:func:`live_in_prose`).
    """
    from markdown_it import MarkdownIt

    try:
        import linkify_it  # noqa: F401
    except ImportError:
        return MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    parser = MarkdownIt("gfm-like", {"html": True})
    assert parser.linkify is not None
    parser.linkify.set({"fuzzy_link": False})
    return parser


def markdown_to_html(text: str) -> str:
    """Render Markdown like GitHub/GitLab would (see :func:`markdown_parser`)."""
    return str(markdown_parser().render(text))


#: What GitHub and GitLab turn into a mention, an issue reference or a link when it stands in
#: rendered text outside code (after Markdown; backslash escapes do not stop it).
LIVE_TEXT = re.compile(r"@\w|(?<![\w&])[#!]\d|\bGH-\d|//|\bwww\.", re.IGNORECASE)


def prose(text: str) -> list[str]:
    """The rendered text of Markdown `text` outside code spans, code blocks and raw HTML: where
    GitHub looks for @mentions, #references and bare URLs."""
    out: list[str] = []
    for token in markdown_parser().parse(text):
        for child in token.children or ():
            if child.type == "text":
                out.append(child.content)
    return out


def live_in_prose(text: str) -> list[str]:
    """Every would-be mention, reference or bare URL in the prose of Markdown `text`."""
    return [m.group() for t in prose(text) for m in LIVE_TEXT.finditer(t)]


def table_rows(md: str) -> list[list[str]]:
    """Every GFM table row of `md` split on its unescaped pipes (a broken row shows here)."""
    rows = []
    for line in md.splitlines():
        if line.startswith("|"):
            cells = re.split(r"(?<!\\)\|", line)
            rows.append(cells[1:-1])
    return rows


# -- HTML ------------------------------------------------------------------------------------


class Page(HTMLParser):
    """Tags, attributes, comments and text of an HTML document."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []
        self.text: list[str] = []
        self.style = ""
        self._in: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "br", "hr", "img", "link", "input"):
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            while self._in and self._in.pop() != tag:
                pass

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "style":
            self.style += data
        else:
            self.text.append(data)

    @property
    def names(self) -> set[str]:
        """Every tag name used."""
        return {t for t, _ in self.tags}

    @property
    def body_text(self) -> str:
        """All text, joined."""
        return "".join(self.text)


def external_references(page: Page) -> list[str]:
    """Anything in a page that would make a browser fetch: src/href/... attributes that are not
    in-page anchors, CSS url() and @import, and the tags that load things."""
    found = []
    loaders = {"script", "link", "iframe", "frame", "object", "embed", "img", "video", "audio",
               "source", "track", "image", "base", "form", "portal"}
    for tag, attrs in page.tags:
        if tag in loaders:
            found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name in ("src", "srcset", "href", "action", "formaction", "poster", "data",
                        "background", "xlink:href", "ping") and not (
                    name == "href" and (value or "").startswith("#")):
                found.append(f"{tag} {name}={value!r}")
            if name.startswith("on"):
                found.append(f"{tag} {name} (event handler)")
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            found.append("meta refresh")
    if re.search(r"url\s*\(|@import", page.style, re.I):
        found.append("CSS url()/@import")
    return found


# -- terminals -------------------------------------------------------------------------------


def run_on_terminal(args: list[str], *, stdout_tty: bool, stderr_tty: bool, cwd: Path,
                    env: dict[str, str] | None = None, columns: int = 120,
                    timeout: float = 180, on_terminal: Callable[[bytes], None] | None = None,
                    ) -> tuple[int, bytes, bytes, bytes]:
    """Run a command with stdout and/or stderr on a pseudo-terminal (the rest on pipes);
    `on_terminal` is shown what the terminal holds so far each time the command writes to it.

    Returns (exit code, stdout pipe bytes, stderr pipe bytes, terminal bytes).
    """
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import termios
    import threading

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    full_env = {**os.environ, "TERM": "xterm-256color", **(env or {})}
    for var in ("NO_COLOR", "FORCE_COLOR"):
        if env is None or var not in env:
            full_env.pop(var, None)
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                            stdout=slave if stdout_tty else subprocess.PIPE,
                            stderr=slave if stderr_tty else subprocess.PIPE,
                            cwd=cwd, env=full_env)
    os.close(slave)
    chunks: list[bytes] = []

    def drain_terminal() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                return
            if not data:
                return
            chunks.append(data)
            if on_terminal is not None:
                on_terminal(b"".join(chunks))

    reader = threading.Thread(target=drain_terminal, daemon=True)
    reader.start()
    out, err = proc.communicate(timeout=timeout)
    reader.join(10)
    os.close(master)
    return proc.returncode, out or b"", err or b"", b"".join(chunks)
