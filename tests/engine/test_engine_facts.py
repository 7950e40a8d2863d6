"""`engine-api-skew`, `engine-warnings` and `engine-disk-low` end to end.

The shared engine may not be reconfigured, downgraded or filled, so these runs go through
tests/support/engine_proxy.py: the real engine answers every call, only its self-description
(/version, /info) is edited.  For the disk, /info's DockerRootDir points at a small tmpfs
that the test fills, mounted in a private mount namespace (`unshare -m`) so nothing on the
host changes; diagnose measures it with psutil like any data root.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.engine_proxy import EngineProxy
from tests.support.runs import Result, read_members


@pytest.fixture
def sockdir():
    # Unix socket paths are limited to 108 bytes: pytest's tmp_path can be longer.
    d = Path(tempfile.mkdtemp(prefix="dg-", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run_findings(result: Result) -> dict[str, dict]:
    return {f["id"]: f for f in result.json()["run"]["findings"]}


def old_engine(doc: dict) -> None:
    doc["ApiVersion"] = "1.30"


WARNINGS = [
    "WARNING: API is accessible on http://0.0.0.0:2375 without encryption.\n"
    "         Access to the remote API is equivalent to root access on the host.",
    "WARNING: No swap limit support",
]


def warned(doc: dict) -> None:
    doc["Warnings"] = list(WARNINGS)


def test_old_engine_with_warnings(engine, diagnose, sockdir, tmp_path):
    with EngineProxy(sockdir / "e.sock", version=old_engine, info=warned) as proxy:
        r = diagnose("engine", "--host", proxy.host, "--format", "json", "--quiet")
    assert r.code == 0, r.stderr  # warnings only: the default --fail-on error is not reached
    found = run_findings(r)

    skew = found["engine-api-skew"]
    assert skew["severity"] == "warning"
    facts = {x["name"]: x["value"] for x in skew["facts"]}
    # The client really negotiated down to what the engine offered.
    assert facts["negotiated API version"] == "1.30"
    assert facts["engine API version"] == "1.30"
    assert "15 minor versions" in facts["skew"]
    version = json.loads(r.members()["engine/version.json"])
    assert version["NegotiatedAPIVersion"] == "1.30"

    warn = found["engine-warnings"]
    assert warn["severity"] == "warning"  # the TCP warning is not a mere capability note
    assert [e["excerpt"] for e in warn["evidence"]] == WARNINGS
    assert [e["ref"] for e in warn["evidence"]] == ["engine/info.json#/Warnings/0",
                                                    "engine/info.json#/Warnings/1"]

    # The same findings from the bundle, offline.
    offline = diagnose("analyze", str(r.bundle), "--format", "json")
    assert offline.code == 0, offline.stderr
    assert run_findings(offline) == found


def test_the_engine_as_it_is(engine, diagnose):
    """Look-alike: the shared engine itself, unedited.  Here (20.10, API 1.41 against the
    client's 1.45, no warnings) neither finding is reported; the expectation is computed from
    what the engine says, so the test holds on any engine."""
    r = diagnose("engine", "--format", "json", "--quiet")
    assert r.code in (0, 1), r.stderr
    found = run_findings(r)
    info = json.loads(r.members()["engine/info.json"])
    version = json.loads(r.members()["engine/version.json"])
    assert ("engine-warnings" in found) == bool(info.get("Warnings"))
    skew = (int(version["ClientMaxAPIVersion"].split(".")[1])
            - int(version["NegotiatedAPIVersion"].split(".")[1]))
    assert ("engine-api-skew" in found) == (abs(skew) >= 5)
    checks = {c["id"]: c["status"] for c in r.json()["run"]["checks"]}
    assert checks["engine-api-skew"] in ("passed", "failed")
    assert checks["engine-warnings"] in ("passed", "failed")


def _fill_and_diagnose(sockdir: Path, out: Path, fill_kib: int) -> Result:
    """`diagnose engine` in a private mount namespace whose data root is an 8 MiB tmpfs."""
    root = sockdir / "root"
    root.mkdir()

    def point_at_tmpfs(doc: dict) -> None:
        doc["DockerRootDir"] = str(root)

    with EngineProxy(sockdir / "d.sock", info=point_at_tmpfs) as proxy:
        script = (f"mount -t tmpfs -o size=8m diagnose-test {root} && "
                  f"dd if=/dev/zero of={root}/fill bs=1024 count={fill_kib} 2>/dev/null && "
                  f'exec "$0" -m diagnose engine --host {proxy.host} --format json --quiet '
                  f"--output {out}")
        before = set(out.glob("diagnose-*.tar.gz"))
        proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                               script, sys.executable], capture_output=True, timeout=180,
                              env=dict(os.environ), cwd=out, check=False)
    bundle = sorted(set(out.glob("diagnose-*.tar.gz")) - before)
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode(),
                  bundle[-1] if bundle else None)


def test_disk_low_error_and_warning(engine, sockdir, tmp_path):
    full = _fill_and_diagnose(sockdir, tmp_path, 7960)  # ~97% of 8 MiB
    assert full.code == 1, full.stderr  # an error: the default --fail-on error trips
    f = run_findings(full)["engine-disk-low"]
    assert f["severity"] == "error"
    assert str(sockdir / "root") in f["title"] and "free" in f["title"]
    host = json.loads(read_members(full.bundle)["host/host.json"])
    assert host["data_root"]["path"] == str(sockdir / "root")
    assert host["data_root"]["total"] == 8 * 1024 * 1024
    assert f["evidence"][0]["ref"] == "host/host.json#/data_root/free"
    # The tmpfs lived in the test's own mount namespace only.
    assert not os.path.ismount(sockdir / "root")
    os.rmdir(sockdir / "root")

    half = _fill_and_diagnose(sockdir, tmp_path, 4096)  # 50%: plenty of share, under 5 GiB
    assert half.code == 0, half.stderr
    f = run_findings(half)["engine-disk-low"]
    assert f["severity"] == "warning"
    os.rmdir(sockdir / "root")


def test_shared_engine_disk_is_measured(engine, diagnose):
    """The real data root is measured (and not low here): the check ran and passed."""
    r = diagnose("engine", "--format", "json", "--quiet")
    host = json.loads(r.members()["host/host.json"])
    info = json.loads(r.members()["engine/info.json"])
    assert host["data_root"]["path"] == info["DockerRootDir"]
    assert host["data_root"]["inodes_total"] > 0
    checks = {c["id"]: c["status"] for c in r.json()["run"]["checks"]}
    free = host["data_root"]["free"]
    low = free / (free + host["data_root"]["used"]) < 0.10 or free < 5 * 1024 ** 3
    assert checks["engine-disk-low"] == ("failed" if low else "passed")
