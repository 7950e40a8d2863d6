"""What `pipx install` / `pip install` of a checkout or wheel gets: a wheel built from this tree
(no network: no build isolation, no dependencies) holds both console scripts (`diagnose`,
`docker-diagnose`), the checks and every report template, and the two scripts work from an
installation of that wheel (run with this environment's dependencies)."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                           "--no-build-isolation", "--disable-pip-version-check", "-w",
                           str(out), str(ROOT)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return next(out.glob("diagnose-*.whl"))


def test_wheel_holds_the_scripts_checks_and_templates(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry = next(n for n in names if n.endswith("entry_points.txt"))
        points = configparser.ConfigParser()
        points.read_string(zf.read(entry).decode())
    assert dict(points["console_scripts"]) == {
        "diagnose": "diagnose.entry:main", "docker-diagnose": "diagnose.docker_plugin:main"}
    for template in ("summary.txt.j2", "summary.json.j2", "summary.md.j2", "summary.html.j2",
                     "summary.junit.xml.j2"):
        assert f"diagnose/templates/{template}" in names
    assert "diagnose/checks/oom_killed.py" in names
    assert "diagnose/schema/report-v1.json" in names
    assert any(n.endswith(".data/data/share/man/man1/diagnose.1") for n in names), names


def test_installed_scripts_answer(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--disable-pip-version-check", "--target", str(target), str(wheel)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    env = {**os.environ, "PYTHONPATH": str(target)}
    for module, args, expect in (("diagnose.entry", ["--version"], "diagnose "),
                                 ("diagnose.docker_plugin", ["docker-cli-plugin-metadata"],
                                  '"SchemaVersion": "0.1.0"')):
        out = subprocess.run([sys.executable, "-c", f"import sys; sys.argv[0] = 'x'; "
                              f"from {module} import main; main()", *args],
                             capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
        assert out.returncode == 0 and expect in out.stdout, out.stderr
        where = subprocess.run([sys.executable, "-c", "import diagnose; print(diagnose.__file__)"],
                               capture_output=True, text=True, env=env, cwd=tmp_path,
                               check=True).stdout
        assert where.startswith(str(target)), where
    explain = subprocess.run([sys.executable, "-m", "diagnose", "explain", "D320"],
                             capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
    assert explain.returncode == 0 and "healthcheck-never-ran" in explain.stdout, explain.stderr
