"""D101-D106 on the real engine: containers whose entrypoint really cannot be executed.

Every container is really in its condition (runc 1.1 on this engine: create-time failures land
in State.Error with exit 126/127, exec-time failures log `exec /x: ...` and exit 1); the real
tool runs once over all of them, each must get exactly its cause and none of the look-alikes,
the containers must be unchanged, and `diagnose analyze` on the bundle must agree.
"""

from __future__ import annotations

import json

import pytest

from tests.support.engine import docker
from tests.support.runs import finding_ids, findings, run_diagnose
from tests.support.startkit import FAMILY, assert_cause, build_broken_image, comparable, text_of

# name -> (command, expected slug, status, exit code)
CASES: dict[str, tuple[tuple[str, ...], str, str, int]] = {
    "nf-path": (("nosuchcmd-d101",), "entrypoint-not-found", "created", 127),
    "nf-abs": (("/app/nosuch",), "entrypoint-not-found", "created", 127),
    "nx-mode": (("/app/noexec.sh",), "entrypoint-not-executable", "created", 126),
    "nx-dir": (("/app/dir",), "entrypoint-not-executable", "created", 126),
    "nx-path": (("tool",), "entrypoint-not-executable", "created", 127),
    "nx-interp": (("/app/interp-noexec.sh",), "entrypoint-not-executable", "exited", 1),
    "crlf": (("/app/crlf.sh",), "bad-shebang-crlf", "exited", 1),
    "crlf-env": (("/app/crlfenv.sh",), "bad-shebang-crlf", "exited", 127),
    "crlf-shell": (("sh", "-c", "/app/crlf.sh"), "bad-shebang-crlf", "exited", 127),
    "interp": (("/app/bash.sh",), "shebang-interpreter-missing", "exited", 1),
    "interp-env": (("/app/envpy.sh",), "shebang-interpreter-missing", "exited", 127),
    "loader": (("/app/dyntrue",), "missing-dynamic-loader", "exited", 1),
    "loader-shell": (("sh", "-c", "/app/dyntrue"), "missing-dynamic-loader", "exited", 127),
    "loader-interp": (("/app/viadyn.sh",), "missing-dynamic-loader", "exited", 1),
    "fmt-arch": (("/app/arm64bin",), "exec-format-error", "exited", 1),
    "fmt-noshebang": (("/app/noshebang.sh",), "exec-format-error", "exited", 1),
    "fmt-bom": (("/app/bom.sh",), "exec-format-error", "exited", 1),
}


@pytest.fixture(scope="module")
def broken(engine, tmp_path_factory):
    """Every case as a real container, diagnosed in one run; plus the run's result."""
    image = build_broken_image(engine)
    names: dict[str, str] = {}
    for case, (cmd, _slug, _status, _code) in CASES.items():
        names[case] = engine.run(case, image=image, cmd=cmd, check=False)
    # Look-alikes that must not be claimed by this branch.
    names["shell-missing"] = engine.run("shell-missing", image=image,
                                        cmd=("sh", "-c", "nosuchthing-d101"), check=False)
    names["healthy"] = engine.run("healthy", image=image, cmd=("sleep", "100000"))
    for case, name in names.items():
        if case == "healthy":
            engine.wait_status(name, "running")
        elif case in CASES and CASES[case][2] == "created":
            continue
        else:
            engine.wait_status(name, "exited")
    out = tmp_path_factory.mktemp("start-bundle")
    before = {n: engine.state(n) for n in names.values()}
    result = run_diagnose(*names.values(), "--format", "json", "--quiet", "--output", str(out),
                          cwd=out)
    after = {n: engine.state(n) for n in names.values()}
    return names, result, before, after, out


def test_the_engine_really_put_them_in_their_condition(engine, broken):
    names, *_ = broken
    for case, (_cmd, _slug, status, code) in CASES.items():
        st = engine.inspect(names[case])["State"]
        assert (st["Status"], st["ExitCode"]) == (status, code), (case, st)
        assert bool(st["Error"]) == (status == "created"), (case, st["Error"])
    crlf_log = docker("logs", names["crlf"]).stderr
    assert "exec /app/crlf.sh: no such file or directory" in crlf_log


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_cause_is_named_and_no_look_alike(broken, case):
    names, result, *_ = broken
    assert result.code == 1, result.stderr
    f = assert_cause(result, names[case], CASES[case][1])
    assert f["severity"] == "critical"
    assert f["evidence"] and f["remediation"]["commands"]
    # Without --probe every finding of the branch still prints the override command.
    commands = f["remediation"]["commands"]
    assert any("--entrypoint sh" in cmd for cmd in commands), commands


def test_findings_quote_the_deciding_evidence(broken):
    names, result, *_ = broken

    def text(case: str) -> str:
        return text_of(assert_cause(result, names[case], CASES[case][1]))

    assert "'/bin/sh\\r'" in text("crlf") and "stderr.log#L1" in text("crlf")
    assert "'sh\\r'" in text("crlf-env")
    assert "sh: /app/crlf.sh: not found" in text("crlf-shell")
    assert "/bin/bash does not exist" in text("interp")
    assert "python3" in text("interp-env")
    for case in ("loader", "loader-shell", "loader-interp"):
        assert "/lib64/ld-linux-x86-64.so.2" in text(case) and "glibc" in text(case)
    assert "aarch64" in text("fmt-arch") and "x86_64" in text("fmt-arch")
    assert "byte order mark" in text("fmt-bom")
    assert "no `#!` line" in text("fmt-noshebang")
    assert "mode 0644" in text("nx-mode") and "directory" in text("nx-dir")
    assert "PATH lookup skips" in text("nx-path")
    assert "interpreter /app/noexec.sh" in text("nx-interp")
    assert "none exists" in text("nf-path") and "PATH searched" in text("nf-path")
    assert "/app/nosuch does not exist" in text("nf-abs")


def test_look_alikes_outside_the_branch_are_left_alone(broken):
    names, result, *_ = broken
    # `sh -c nosuchthing`: the command really is missing; that is command-not-found from the
    # exit stage, never one of the exec-cause checks.
    assert not finding_ids(result, names["shell-missing"]) & (FAMILY - {"command-not-found",
                                                                         "app-exit-error"})
    healthy = findings(result, names["healthy"])
    assert not [f for f in healthy if f["severity"] in ("critical", "error", "warning")]


def test_targets_unchanged_and_no_probe_without_the_flag(broken):
    names, result, before, after, _ = broken
    assert before == after
    manifest = json.loads(result.members()["manifest.json"])
    probe_records = [c for c in manifest["collectors"] if c["name"] == "probe"]
    assert len(probe_records) == len(names)
    assert all(c["status"] == "skipped" and "--probe" in c["reason"] for c in probe_records)


def test_analyze_reports_the_same_findings(broken):
    _, result, _, _, out = broken
    offline = run_diagnose("analyze", str(result.bundle), "--format", "json", cwd=out)
    assert offline.code == result.code, offline.stderr
    assert comparable(offline.json()) == comparable(result.json())
    bundled = json.loads(result.members()["findings.json"])
    assert comparable(bundled) == comparable(result.json())
