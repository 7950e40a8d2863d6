"""`diagnose diff` rendered: text, JSON (schema diagnose/diff-v1), Markdown and HTML.

The same machinery as the reports: one jinja2 template per format (`diff.<fmt>.j2` in
templates/), the document built once from the :class:`~diagnose.model.diff.Diff` value,
control and bidi characters made visible for the human formats, Markdown and HTML escaped by
the templates' filters and autoescape.  A pure function of the value; the CLI does the I/O.
"""

from __future__ import annotations

from typing import Any

from diagnose import __version__
from diagnose.model.diff import Category, Diff
from diagnose.model.escape import visible_all
from diagnose.render import Format, Paint
from diagnose.render import templates as tpl

#: The template of each format.
DIFF_TEMPLATES: dict[Format, str] = {
    Format.TEXT: "diff.txt.j2",
    Format.JSON: "diff.json.j2",
    Format.MARKDOWN: "diff.md.j2",
    Format.HTML: "diff.html.j2",
}


#: Categories that show how a side ran rather than decide it.
_OUTCOME = frozenset(c.value for c in Category if not c.decides)
#: Differences detailed when none is linked to a failure.
MAX_DETAILED = 8


def document(diff: Diff) -> dict[str, Any]:
    """The diff as its JSON document (with the tool that made it, as the reports)."""
    doc = diff.to_dict()
    return {"schema": doc.pop("schema"), "tool": {"name": "diagnose", "version": __version__},
            **doc}


def view(doc: dict[str, Any]) -> dict[str, Any]:
    """The document made visible, and what the human formats show besides it."""
    r = visible_all(doc)
    diffs = r["differences"]
    explaining = [d for d in diffs if d["explains"]]
    deciding = [d for d in diffs if d["category"] not in _OUTCOME]
    return {"r": r, "v": {
        "explaining": explaining,
        # What to say more about: the explanations, or else the first differences that
        # decide behaviour (why a moved tag matters, where each value is).
        "detailed": explaining or deciding[:MAX_DETAILED],
        "others": [d for d in diffs if not d["explains"]],
        "sides": [r["a"], r["b"]],
    }}


def render_diff(diff: Diff, fmt: Format, color: bool = False) -> str:
    """Render `diff` in `fmt` (`color`: ANSI colour, text only)."""
    doc = document(diff)
    if fmt is Format.JSON:
        return tpl.render(DIFF_TEMPLATES[fmt], r=doc)
    return tpl.render(DIFF_TEMPLATES[Format(fmt)], p=Paint(color and fmt is Format.TEXT),
                      **view(doc))
