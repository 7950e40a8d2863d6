"""The house rules of the code itself (README, "Architecture"), checked on every module.

- no import circle anywhere in the package (the layers themselves are import-linter's
  contracts in pyproject.toml, run by scripts/test.sh);
- no private name (`_x`) imported from another module, nor used as `module._x`;
- an import inside a function only for start-up cost, each saying so on its line
  (`# startup: why`);
- modules under 400 lines, functions under 60 (the allow-list below says why any is longer);
- every module says what it holds in its docstring; a check imports `diagnose.api` only.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "diagnose").rglob("*.py"), *(ROOT / "checks").glob("*.py")])
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
#: Functions that read better whole, and why (none today).
LONG_FUNCTIONS: dict[str, str] = {}


def _name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "checks":
        parts.insert(0, "diagnose")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _trees() -> Iterator[tuple[Path, str, ast.Module]]:
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        yield path, text, ast.parse(text)


def test_no_import_circles():
    graph = grimp.build_graph("diagnose", cache_dir=None)
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.startswith("diagnose") and graph.chain_exists(imported, module):
                cycles.append(f"{module} -> {imported}")
    assert not cycles, "import circles:\n" + "\n".join(cycles)


def test_no_private_name_crosses_a_module():
    found = []
    for path, _, tree in _trees():
        aliases: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("diagnose"):
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        found.append(f"{_name(path)}:{node.lineno} imports {node.module}."
                                     f"{a.name}")
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("diagnose"):
                        aliases[a.asname or a.name.split(".")[0]] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_")
                    and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
                    and node.value.id in aliases):
                found.append(f"{_name(path)}:{node.lineno} uses "
                             f"{aliases[node.value.id]}.{node.attr}")
    assert not found, "\n".join(found)


def test_imports_inside_functions_say_why():
    found = []
    for path, text, tree in _trees():
        lines = text.splitlines()
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom) and not any(
                        "# startup: " in lines[n - 1]
                        for n in range(node.lineno, node.end_lineno + 1)):
                    found.append(f"{_name(path)}:{node.lineno} {lines[node.lineno - 1].strip()}")
    assert not found, ("an import inside a function needs a `# startup: why` on its line:\n"
                       + "\n".join(found))


def test_modules_and_functions_stay_small():
    found = []
    for path, text, tree in _trees():
        if text.count("\n") > MAX_MODULE_LINES:
            found.append(f"{_name(path)}: {text.count(chr(10))} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                length = (node.end_lineno or start) - start + 1
                where = f"{_name(path)}.{node.name}"
                if length > MAX_FUNCTION_LINES and where not in LONG_FUNCTIONS:
                    found.append(f"{where}: {length} lines")
    assert not found, "\n".join(found)


def test_every_module_says_what_it_holds():
    missing = [_name(p) for p, _, tree in _trees()
               if len((ast.get_docstring(tree) or "").split()) < 4]
    assert not missing, missing


@pytest.mark.parametrize("path", [p for p in SOURCES if p.parent.name == "checks"
                                  and p.name != "__init__.py"], ids=lambda p: p.stem)
def test_a_check_imports_diagnose_api_only(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    used |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    foreign = {m for m in used if m.split(".")[0] not in sys.stdlib_module_names
               and m not in ("__future__", "diagnose.api")}
    assert not foreign, foreign
