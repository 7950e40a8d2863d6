"""The systemd unit in contrib/ (README, "diagnose watch"): `systemd-analyze verify` accepts
it (with ExecStart pointing at the diagnose installed here), and it runs what the README says."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
UNIT = ROOT / "contrib" / "diagnose-watch.service"


def test_unit_runs_watch_and_verifies(tmp_path: Path):
    text = UNIT.read_text()
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    service = parser["Service"]
    argv = service["ExecStart"].split()
    assert argv[:2] == ["/usr/local/bin/diagnose", "watch"]
    assert service["KillSignal"] == "SIGTERM" and "/var/lib/diagnose" in service["ReadWritePaths"]
    assert parser["Install"]["WantedBy"] == "multi-user.target"
    verify = shutil.which("systemd-analyze")
    if verify is None:  # the parse above is the check where systemd is not installed
        return
    here = Path(sys.executable).parent / "diagnose"
    local = tmp_path / UNIT.name
    local.write_text(text.replace("/usr/local/bin/diagnose", str(here)))
    proc = subprocess.run([verify, "verify", str(local)], capture_output=True, text=True,
                          timeout=120)
    mine = [line for line in (proc.stdout + proc.stderr).splitlines() if UNIT.name in line]
    assert proc.returncode == 0 and not mine, proc.stdout + proc.stderr
