"""Renderers: the report as text (tabulate), JSON (schema diagnose/v1), Markdown and HTML
(jinja2 templates from templates/).  A renderer is a pure function from the report to a string;
the CLI does the I/O.
"""

from __future__ import annotations

import enum
from typing import assert_never

from diagnose.analyse import Report


class Format(enum.StrEnum):
    """Output formats of `--format`."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"


def render(report: Report, fmt: Format, color: bool = False) -> str:
    """Render `report` in `fmt`."""
    from diagnose.render import document, templates, text

    if fmt is Format.TEXT:
        return text.render(report, color=color)
    if fmt is Format.JSON:
        return document.dumps(document.build(report))
    if fmt is Format.MARKDOWN:
        return templates.render("summary.md.j2", document.build(report))
    if fmt is Format.HTML:
        return templates.render("summary.html.j2", document.build(report))
    assert_never(fmt)
