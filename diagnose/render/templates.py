"""The one place templates are found and configured (StrictUndefined; autoescape for HTML,
escape-by-default for Markdown).

Templates ship inside the package as `diagnose.templates` (the repository keeps them in
templates/), so lookup goes through importlib.resources and works from a wheel and from an
editable install alike.  What keeps odd content (log lines quoted as evidence, any field of a
crafted bundle) from breaking a format or becoming markup: autoescape for HTML; for Markdown
:func:`finalize` escapes every `{{ }}` that a filter (`md`, `code`, `strong`, `fenced`) did
not already make Markdown; `table` (tabulate) and `wrap` for text.  Control and bidi
characters are made visible before any template sees the document (render/view.py), and JSON
escapes them (render/escape.py).
"""

from __future__ import annotations

import functools
import importlib.resources
import re
import textwrap
from typing import Any

import jinja2
import markupsafe
from tabulate import tabulate

from diagnose.model.escape import json_text
from diagnose.model.text import human_bytes
from diagnose.render import bccache

#: What `x.name` means on a dict when `name` is one of the dict's own attributes (`items`).
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """Templates read the report document, nested dicts, as `t.name`: jinja2 tries the
    attribute first and the key after its AttributeError, for every field of every target
    (most of a large report's rendering time).  Here a dict's key comes first, unless `name`
    is one of the dict's own attributes (`t.items()` keeps its meaning): the same result."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)


@functools.cache
def environment() -> jinja2.Environment:
    """The jinja2 environment for every template."""
    root = importlib.resources.files("diagnose.templates")
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2", "xml.j2"),
                                            default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=bccache.open_cache(),  # only a private directory: see bccache
    )
    env.filters.update(
        md=md,
        code=code,
        strong=strong,
        fence=fence,
        fenced=fenced,
        human_bytes=human_bytes,
        table=table,
        wrap=wrap,
        repaint=repaint,
        basename=basename,
        head_lines=head_lines,
        json=to_json,
        excerpt=excerpt,
        one_line=one_line,
    )
    return env


def render(name: str, **context: Any) -> str:
    """Render template `name`; the report document is passed as `r` by convention."""
    return environment().get_template(name).render(**context)


def render_within(name: str, budget: int, **context: Any) -> str | None:
    """Template `name` rendered, or None as soon as its text reaches `budget` characters:
    what does not fit is not rendered to the end (the Markdown report tries shorter
    renderings until one fits, and a long report's first renderings are long)."""
    parts: list[str] = []
    size = 0
    for part in environment().get_template(name).generate(**context):
        size += len(part)
        if size >= budget:
            return None
        parts.append(part)
    return "".join(parts)


# -- Markdown ----------------------------------------------------------------------------------


class Md(str):
    """Text that is Markdown on purpose (what the Markdown filters return): :func:`finalize`
    lets it through; any other value is escaped."""

    __slots__ = ()


@jinja2.pass_context
def finalize(context: Any, value: Any) -> Any:
    """What every `{{ }}` of a template outputs: in the Markdown template, anything a filter
    did not make Markdown (or, inside raw HTML, HTML-escape) is inline text, so a field
    rendered without a filter still cannot become markup.  Other templates: as is."""
    if not str(context.name).endswith(".md.j2") or isinstance(value, Md | markupsafe.Markup):
        return value
    return md(value)


# Everything CommonMark/GFM could read as markup inline: emphasis, code spans, links and
# images, raw HTML and entities, table cell separators, strikethrough.  A backslash before any
# ASCII punctuation is a literal in CommonMark (GitHub and GitLab alike).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>|~&])")
# Block constructs only matter at the start of a line: headings, list items, setext underlines
# and thematic breaks (`>`, `*` and `_` were escaped already).  `1.5 s` is not a list item.
_MD_LEAD = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|[-+](?=[\s-]|$)|=+(?=\s*$)|\d{1,9}(?=[.)](?:\s|$)))")
# What GitHub and GitLab link in plain text after rendering (so a backslash cannot stop it):
# @mentions and e-mail addresses, #123 and owner/repo#123, GH-123, GitLab's !123, and bare
# URLs (`scheme://`, `//host`, `www.`).  A zero-width space inside the trigger (after `@`,
# `#`, `!` or `GH-` before a name or number, between two slashes, after `www`) breaks each
# of them and shows nothing; as the entity `&#8203;` it stays visible in the Markdown source.
# Code spans and fences are never linked, so they keep the text exactly.
_MD_LIVE = re.compile(r"(?<=@)(?=\w)|(?<=[#!])(?=\d)|(?<=\bGH-)(?=\d)|(?<=/)(?=/)"
                      r"|(?<=\bwww)(?=\.)", re.IGNORECASE)
_ZWSP = "&#8203;"

_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def one_line(value: Any) -> str:
    """Collapse line breaks (a table row or a list item must stay one line)."""
    text = "" if value is None else str(value)
    if "\n" not in text and "\r" not in text:
        return text.strip()
    return _LINE_BREAKS.sub(" ", text).strip()


def md(value: Any) -> Md:
    """Markdown-escape untrusted text for inline use (paragraphs, list items, table cells):
    one line, no markup, nothing GitHub or GitLab would turn into a mention, a reference or
    a link."""
    text = _MD_INLINE.sub(r"\\\1", one_line(value))
    # `1. x` must become `1\. x`, `- x` becomes `\- x` (a `>` was escaped above already).
    text = _MD_LEAD.sub(_lead, text, count=1)
    return Md(_MD_LIVE.sub(_ZWSP, text))


def _lead(m: re.Match[str]) -> str:
    lead, mark = m.group(1), m.group(2)
    return f"{lead}{mark}\\" if mark[0].isdigit() else f"{lead}\\{mark}"


def strong(value: Any) -> Md:
    """A bold label (a severity: `**ERROR**`)."""
    return Md(f"**{md(str(value).upper())}**")


def code(value: Any, cell: bool = False) -> Md:
    """An inline code span that holds any text: a backtick run longer than any inside.

    In a GFM table cell `|` must be escaped even inside code (`cell=True`); elsewhere a
    backslash in a code span would show.
    """
    text = one_line(value)
    if not text:
        return Md("(empty)")
    ticks = "`" * (_longest_run(text, "`") + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    if cell:
        text = text.replace("|", "\\|")
    return Md(f"{ticks}{pad}{text}{pad}{ticks}")


def fence(text: Any) -> Md:
    """A code fence longer than any backtick run inside `text` (so it cannot be closed)."""
    return Md("`" * max(3, _longest_run(str(text), "`") + 1))


def fenced(text: Any, info: str = "") -> Md:
    """A fenced code block holding `text` exactly (quoted evidence, commands): no line of it
    can close the fence, and nothing inside a fence is markup or a link."""
    body = str(text)
    mark = fence(body)
    return Md(f"{mark}{info}\n{body}\n{mark}")


def _longest_run(text: str, ch: str) -> int:
    if ch not in text:
        return 0
    return max(len(run) for run in re.findall(f"{re.escape(ch)}+", text))


def cut_markdown(text: str, budget: int) -> str:
    """Markdown that no trim made short enough (thousands of findings) cut to `budget`
    characters where a block starts (a finding's or section's heading, a <details> block),
    the <details> left open closed, a note saying what happened, and the footer kept."""
    footer = text[text.rfind("\n<sub>") + 1:] if "\n<sub>" in text else ""
    note = ("_The rest of this report was left out to stay under GitHub's 65,536-character "
            "limit: the bundle has everything (summary.html, findings.json)._\n\n")
    head = text[:max(0, budget - len(note) - len(footer) - 200)]
    cut = max(head.rfind("\n\n#### "), head.rfind("\n\n### "), head.rfind("\n\n<details>"))
    kept = head[:cut if cut > 0 else head.rfind("\n\n") + 1]
    still_open = kept.count("<details>") - kept.count("</details>")
    return kept + "\n\n" + "</details>\n\n" * max(0, still_open) + note + footer


# -- text --------------------------------------------------------------------------------------


def table(rows: list[list[Any]], headers: list[str] | None = None,
          maxcolwidths: list[int | None] | None = None, fmt: str = "simple") -> str:
    """A tabulate table (column widths capped by wrapping, so rows fit a terminal)."""
    if not rows:
        return ""
    # tabulate's `maxcolwidths` would reflow every cell; wrap only the columns asked for.
    if maxcolwidths:
        rows = [[_wrap_cell(v, w) for v, w in zip(row, maxcolwidths, strict=False)]
                + list(row[len(maxcolwidths):]) for row in rows]
    return tabulate(rows, headers=headers or (), tablefmt=fmt, disable_numparse=True)


def _wrap_cell(value: Any, width: int | None) -> Any:
    if width is None or not isinstance(value, str) or len(value) <= width:
        return value
    return "\n".join(textwrap.wrap(value, width, break_on_hyphens=False,
                                   break_long_words=True))


def wrap(value: Any, width: int = 100, indent: str = "", first: str | None = None) -> str:
    """Wrap a paragraph at `width` columns (never inside a hyphenated id like oom-killed)."""
    return textwrap.fill(
        one_line(value), width=width, initial_indent=indent if first is None else first,
        subsequent_indent=indent, break_on_hyphens=False, break_long_words=True,
    )


def basename(path: Any) -> str:
    """The file name of a path: reports name the bundle, never a local directory."""
    return str(path).replace("\\", "/").rsplit("/", 1)[-1]


def head_lines(text: Any, n: int) -> str:
    """The first `n` lines of `text`, and how many were left out."""
    lines = str(text).splitlines()
    if len(lines) <= n:
        return str(text)
    return "\n".join([*lines[:n], f"... {len(lines) - n} more line(s) in the bundle"])


def repaint(text: str, plain: str, painted: str) -> str:
    """`text` (wrapped without colour, so escape codes never count as columns) with the first
    `plain` in it painted; left as is when wrapping broke it across lines."""
    return text.replace(plain, painted, 1)


def excerpt(value: Any, max_lines: int = 12, max_width: int = 200) -> dict[str, Any]:
    """The first `max_lines` lines of an evidence excerpt, each cut at `max_width`."""
    lines = str(value or "").splitlines()
    shown = [ln if len(ln) <= max_width else ln[: max_width - 1] + "…" for ln in lines[:max_lines]]
    return {"lines": shown, "more": max(0, len(lines) - max_lines)}


# -- JSON and sizes ----------------------------------------------------------------------------


def to_json(value: Any) -> str:
    """Stable, indented JSON text (UTF-8 kept as is; control and bidi characters escaped)."""
    return json_text(value)
