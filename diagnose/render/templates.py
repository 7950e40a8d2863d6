"""The one place templates are found and configured (StrictUndefined; autoescape for HTML).

Templates ship inside the package as `diagnose.templates` (the repository keeps them in
templates/), so lookup goes through importlib.resources and works from a wheel and from an
editable install alike.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Any

import jinja2


@functools.cache
def environment() -> jinja2.Environment:
    """The jinja2 environment for every template."""
    root = importlib.resources.files("diagnose.templates")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(enabled_extensions=("html", "html.j2"),
                                            default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["mdcell"] = _md_cell
    env.filters["fence"] = _fence
    env.filters["human_bytes"] = human_bytes
    return env


def render(name: str, doc: dict[str, Any]) -> str:
    """Render template `name` with the report document as `r`."""
    return environment().get_template(name).render(r=doc)


def _md_cell(value: Any) -> str:
    text = str(value if value is not None else "")
    return text.replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _fence(text: str) -> str:
    """A code fence longer than any backtick run inside `text`."""
    longest = 0
    run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def human_bytes(n: Any) -> str:
    """1536 -> '1.5 KiB'."""
    try:
        value = float(n)
    except (TypeError, ValueError):
        return str(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)
