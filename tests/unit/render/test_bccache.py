"""The jinja bytecode cache runs what it loads, so a planted cache file must never be loaded.

Each case plants a valid cache file whose code also writes a marker file (the rest of it is
the real compiled template, so a run that loaded it would still render normally), then runs
the real CLI with $XDG_CACHE_HOME pointing there.  The user's own private directory is the
control: there the planted file IS loaded, which proves the payload would run anywhere the
cache trusted it.
"""

from __future__ import annotations

import io
import marshal
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2.bccache import Bucket, bc_magic

from tests.support.reports import SAMPLES

NOBODY = 65534
SAMPLE = "samples/app-crash.tar.gz"  # as the committed rendering names it
EXPECTED = (SAMPLES / "app-crash.md").read_text(encoding="utf-8")


def _cache_dir(base: Path) -> Path:
    env = {**os.environ, "XDG_CACHE_HOME": str(base)}
    out = subprocess.run([sys.executable, "-c", "from diagnose.render.bccache import "
                          "cache_directory; print(cache_directory())"], env=env,
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def _run(base: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(base)}
    env.pop("DIAGNOSE_NO_CACHE", None)
    proc = subprocess.run([sys.executable, "-m", "diagnose", "analyze", SAMPLE, "--format",
                           "markdown", "--exit-zero"], cwd=SAMPLES.parent, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == EXPECTED  # renders the same, cache or not
    return proc


def _poison(path: Path, marker: Path) -> None:
    """Rewrite a real cache file so its code also appends to `marker`."""
    raw = path.read_bytes()
    assert raw.startswith(bc_magic)
    fh = io.BytesIO(raw[len(bc_magic):])
    checksum = pickle.load(fh)
    real = marshal.load(fh)
    planted = Bucket(None, "planted", checksum)  # type: ignore[arg-type]
    planted.code = compile(
        f"import marshal\nopen({str(marker)!r}, 'a').write('ran\\n')\n"
        f"exec(marshal.loads({marshal.dumps(real)!r}))\n", "<planted>", "exec")
    out = io.BytesIO()
    planted.write_bytecode(out)
    path.write_bytes(out.getvalue())


@pytest.fixture
def planted(tmp_path):
    """A private cache filled by a real run, then poisoned: (base, cache dir, marker)."""
    base = tmp_path / "cache"
    base.mkdir(mode=0o700)
    _run(base)
    directory = _cache_dir(base)
    files = sorted(directory.iterdir())
    assert files, "the first run wrote no cache file"
    marker = tmp_path / "ran"
    for f in files:
        _poison(f, marker)
    return base, directory, marker


def test_own_private_cache_is_used(planted):
    base, directory, marker = planted
    assert oct(directory.stat().st_mode & 0o777) == "0o700"
    _run(base)
    assert marker.read_text() == "ran\n"  # the control: a trusted cache file does run


@pytest.mark.parametrize("case", ["dir-world-writable", "dir-group-readable",
                                  "dir-other-owner", "dir-symlink", "file-group-writable",
                                  "file-other-owner"])
def test_planted_cache_file_is_never_loaded(planted, case):
    if case in ("dir-other-owner", "file-other-owner") and os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root")
    base, directory, marker = planted
    files = sorted(directory.iterdir())
    if case == "dir-world-writable":
        directory.chmod(0o777)
    elif case == "dir-group-readable":
        directory.chmod(0o750)
    elif case == "dir-other-owner":
        os.chown(directory, NOBODY, NOBODY)
    elif case == "dir-symlink":
        real = base / "elsewhere"
        shutil.move(str(directory), real)
        directory.symlink_to(real, target_is_directory=True)
        files = sorted(real.iterdir())
    elif case == "file-group-writable":
        for f in files:
            f.chmod(0o620)
    elif case == "file-other-owner":
        for f in files:
            os.chown(f, NOBODY, NOBODY)
    before = {f.name: f.read_bytes() for f in files}
    _run(base)
    assert not marker.exists(), f"{case}: a planted cache file was loaded"
    after = sorted((directory.resolve()).iterdir())
    if case.startswith("dir-"):  # an untrusted directory is not written either
        assert {f.name: f.read_bytes() for f in after} == before


def test_no_cache_directory_is_created_in_someone_elses_directory(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("giving a directory to another user needs root")
    base = tmp_path / "home-of-nobody"
    base.mkdir()
    os.chown(base, NOBODY, NOBODY)
    _run(base)
    assert list(base.iterdir()) == []
