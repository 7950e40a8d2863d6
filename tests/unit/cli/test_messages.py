"""What an installed user is told never points into this repository (issue 13): no message,
help text or check page names a script under scripts/, which ships only with the source."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_no_string_names_a_repository_script():
    found = []
    for package in ("diagnose", "checks"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and "scripts/" in node.value:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    for path in sorted((ROOT / "templates").glob("*.j2")):
        if "scripts/" in path.read_text(encoding="utf-8"):
            found.append(str(path.relative_to(ROOT)))
    assert not found, found
