"""A third-party check, installed for real, takes part in a real run.

tests/support/example_plugin/ is a package as a third party would write it (README, "Writing a
check"): its own pyproject.toml declaring an entry point in the group `diagnose.checks`, a
check with its own code prefix, importing `diagnose.api` only.  It is built and installed
with pip into a directory of its own, and the real CLI (`python -m diagnose`) is run with
that directory on its path: the catalogue lists it, `explain` prints its page, and `analyze`
of a sample bundle reports its finding next to the built-in ones.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.support.reports import ROOT, SAMPLES

PLUGIN = ROOT / "tests" / "support" / "example_plugin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a diagnose run with the example plugin installed."""
    work = tmp_path_factory.mktemp("plugin")
    source = shutil.copytree(PLUGIN, work / "src")  # a build writes next to its sources
    target = work / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", "--no-deps", "--no-build-isolation",
                           "--target", str(target), str(source)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert list(target.glob("diagnose_example_check-*.dist-info"))
    return {**os.environ, "PYTHONPATH": str(target)}


def _diagnose(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "diagnose", *args], capture_output=True,
                          text=True, timeout=300, env=env, check=False)


def test_the_example_imports_diagnose_api_only():
    tree = ast.parse((PLUGIN / "diagnose_example_check.py").read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert {m for m in modules if m and m.startswith("diagnose")} == {"diagnose.api"}


def test_the_catalogue_lists_the_installed_check(installed):
    proc = _diagnose(installed, "checks", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    mine = [c for c in json.loads(proc.stdout) if c["code"] == "X001"]
    assert mine == [{"code": "X001", "id": "stays-down", "severity": "info", "stage": "logs",
                     "scope": "container", "source": "diagnose-example-check==0.1.0 [example]",
                     "title": "The container exited with an error and nothing will restart "
                              "it."}]
    assert proc.stderr == ""  # loaded without a problem
    page = _diagnose(installed, "explain", "X001")
    assert page.returncode == 0 and "docker update --restart unless-stopped NAME" in page.stdout


def test_its_finding_is_in_a_real_analysis(installed):
    proc = _diagnose(installed, "analyze", str(SAMPLES / "app-crash.tar.gz"), "--format",
                     "json", "--exit-zero")
    assert proc.returncode == 0, proc.stderr
    target = json.loads(proc.stdout)["targets"][0]
    found = {f["id"]: f for f in target["findings"]}
    # The crash is explained by the built-in app-exit-error; the plugin adds its own advice.
    assert found["app-exit-error"]["severity"] == "error"
    mine = found["stays-down"]
    assert mine["code"] == "X001" and mine["severity"] == "info"
    assert mine["title"] == "exited 1 and stays down: its restart policy is `no`"
    assert {"name": "restart policy", "value": "no"} in mine["facts"]
    assert target["verdict"]["id"] == "app-exit-error"  # advice never outranks the cause
    outcomes = {o["id"]: o["status"] for o in target["checks"]}
    assert outcomes["stays-down"] == "failed"


def test_without_plugins_it_is_not_loaded(installed):
    proc = _diagnose(installed, "checks", "--format", "json", "--no-plugins")
    assert proc.returncode == 0, proc.stderr
    assert "X001" not in {c["code"] for c in json.loads(proc.stdout)}
