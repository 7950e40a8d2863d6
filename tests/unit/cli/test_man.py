"""man/diagnose.1 is generated from the CLI definition (scripts/make_man.py): the committed page
is what the generator writes now, every command is in it, and groff reads it without a
warning."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PAGE = ROOT / "man" / "diagnose.1"


def test_committed_page_is_the_generated_one() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_man.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr


def test_every_command_and_option_is_on_the_page() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for command in ("run", "engine", "service", "analyze", "redact", "checks", "explain",
                    "completion"):
        assert f".SS {command}\n" in text
    assert "\\-\\-fail\\-on" in text and "\\-\\-format" in text and "junit" in text


def test_groff_reads_it_without_warnings() -> None:
    groff = shutil.which("groff")
    assert groff, "groff is needed to check the man page (apt-get install groff-base)"
    out = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", str(PAGE)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stderr == "", out.stderr
