"""Renderers: the report as text, JSON (schema diagnose/v1), Markdown, HTML and JUnit XML.

Every format is one jinja2 template in templates/ (tables in text are tabulate tables drawn by
a filter).  Adding a format is adding a member to :class:`Format` and its template to
:data:`TEMPLATES`; tests/unit/render/test_formats.py fails until both exist and render a real
report.
A renderer is a pure function from the report to a string; the CLI does the I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI imports Format at start-up: the analysis modules load later
    from diagnose.model.report import Report


class Format(enum.StrEnum):
    """Output formats of `--format`."""

    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"
    HTML = "html"
    JUNIT = "junit"


@dataclass(frozen=True)
class Display:
    """What a person asked to see on stdout (the bundle's files always hold everything).

    `verbose` expands the advisories (security and hygiene, info) and the decision paths;
    `min_severity` hides findings below it from the human formats (never from JSON, never
    from the exit code); `width` is the text report's width in columns.
    """

    verbose: bool = False
    min_severity: str = "info"
    width: int = 80


#: GitHub refuses an issue or comment body longer than this (characters).
MARKDOWN_BUDGET = 65_536

#: What the Markdown report leaves out, in this order (least used first), until it fits.
MARKDOWN_TRIMS: tuple[tuple[str, ...], ...] = (
    (), ("paths",), ("paths", "checks"), ("paths", "checks", "files"),
    ("paths", "checks", "files", "evidence"),
    ("paths", "checks", "files", "evidence", "advisories"),
)


#: The template of each format (in the `diagnose.templates` package).
TEMPLATES: dict[Format, str] = {
    Format.TEXT: "summary.txt.j2",
    Format.JSON: "summary.json.j2",
    Format.MARKDOWN: "summary.md.j2",
    Format.HTML: "summary.html.j2",
    Format.JUNIT: "summary.junit.xml.j2",
}


class Paint:
    """ANSI colour for the text templates (the report's and `diagnose diff`'s); a no-op
    unless colour was asked for."""

    _SEVERITY = {"critical": "1;31", "error": "31", "warning": "33", "info": "36"}

    def __init__(self, color: bool) -> None:
        self.color = color

    def _sgr(self, code: str, text: Any) -> str:
        return f"\033[{code}m{text}\033[0m" if self.color and code else str(text)

    def sev(self, severity: str | None, text: Any) -> str:
        """`text` in the colour of `severity`."""
        return self._sgr(self._SEVERITY.get(severity or "", ""), text)

    def bold(self, text: Any) -> str:
        """Bold `text`."""
        return self._sgr("1", text)

    def dim(self, text: Any) -> str:
        """Faint `text` (pointers into the bundle)."""
        return self._sgr("2", text)

    def ok(self, text: Any) -> str:
        """`text` in green."""
        return self._sgr("32", text)


def render(report: Report, fmt: Format, color: bool = False,
           display: Display | None = None, fail_on: str = "error") -> str:
    """Render `report` in `fmt` (`color`: ANSI colour, text only; `display`: what a person
    asked to see, default everything a file holds; `fail_on`: the severity label at which a
    JUnit test case fails, as `--fail-on`)."""
    from diagnose.render import templates  # startup: jinja2 loads when a report renders

    prepared = _prepared(report)
    if fmt is Format.JSON:
        # Machines get the document exactly as built (JSON escapes control characters).
        return templates.render(TEMPLATES[fmt], r=prepared.doc)
    if fmt is Format.JUNIT:
        from diagnose.render import junit  # startup: as templates above

        r = prepared.view(Display(verbose=True))["r"]
        suites = junit.suites(r, fail_on)
        return templates.render(TEMPLATES[fmt], suites=suites, totals=junit.totals(suites),
                                timestamp=str(r.get("generated_at") or "").removesuffix("Z"),
                                hostname=str((r.get("host") or {}).get("hostname") or ""))
    shown = display or Display(verbose=True)
    context = {"p": Paint(color and fmt is Format.TEXT), "W": max(40, shown.width),
               "short_evidence": 8, **prepared.view(shown)}
    if fmt is not Format.MARKDOWN:
        return templates.render(TEMPLATES[Format(fmt)], trim=(), **context)
    # Markdown is pasted into issues: leave out what is least used until it fits (a rendering
    # that does not fit stops at the budget).
    for trim in MARKDOWN_TRIMS:
        text = templates.render_within(TEMPLATES[fmt], MARKDOWN_BUDGET, trim=trim, **context)
        if text is not None:
            return text
    return templates.cut_markdown(templates.render(TEMPLATES[fmt], trim=MARKDOWN_TRIMS[-1],
                                                   **context), MARKDOWN_BUDGET)


class _Prepared:
    """A report's document and template view, built once for all the formats it is rendered
    in (a run renders the same report four times: stdout and three bundle files)."""

    def __init__(self, report: Report) -> None:
        from diagnose.render import document  # startup: the CLI imports Format at start

        self.report = report
        self.doc = document.build(report)
        self._views: dict[Display, dict[str, Any]] = {}
        # The document made visible, once for every view: stdout's display and the files'
        # (a walk of every string of the report, 70 ms for 200 containers).
        self._visible: dict[str, Any] | None = None

    def view(self, display: Display) -> dict[str, Any]:
        from diagnose.model.escape import visible_all  # startup: as document above
        from diagnose.render import view  # startup: as document above

        if display not in self._views:
            if self._visible is None:
                self._visible = visible_all(self.doc)
            self._views[display] = view.build(self.doc, display.min_severity, display.verbose,
                                              self._visible)
        return self._views[display]


_last: list[_Prepared] = []


def _prepared(report: Report) -> _Prepared:
    """The last report's preparation when it is the same (immutable) report object."""
    if _last and _last[0].report is report:
        return _last[0]
    prepared = _Prepared(report)
    _last[:] = [prepared]
    return prepared


def warm_templates() -> None:
    """Load (compile, or read from the bytecode cache) every format's template now."""
    from diagnose.render import templates  # startup: jinja2 loads when a report renders

    env = templates.environment()
    for name in TEMPLATES.values():
        env.get_template(name)
