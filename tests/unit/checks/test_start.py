"""The D1xx checks on canned evidence of engine versions this machine does not run.

runc >= 1.2 exits exec failures with 255, runc <= 1.0 printed `standard_init_linux.go`, GNU
coreutils and bash word their failures differently from busybox, and remote engines have no
host-side mount check.  The real-engine proofs are under tests/engine/.
"""

from __future__ import annotations

from typing import Any

import pytest

from diagnose.analysis.registry import load_registry
from diagnose.analysis.targets import analyse_container
from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.readings.exit import explained_exit
from tests.support.evidence import container_findings, make_container, make_engine

REGISTRY = load_registry(plugins=False)
STARTED = "2026-11-27T10:00:00.000000001Z"
ZERO = "0001-01-01T00:00:00Z"

CRLF = {"path": "/entrypoint.sh", "kind": "script", "shebang": "#!/bin/bash\r",
        "shebang_crlf": True, "interpreter_path": "/bin/bash\r", "interpreter_clean": "/bin/bash",
        "interpreter_exists": False, "interpreter_clean_exists": True, "executable": True,
        "mode_octal": "0755"}
CRLF_ENV = {**CRLF, "shebang": "#!/usr/bin/env bash\r", "interpreter_path": "/usr/bin/env",
            "interpreter_clean": "/usr/bin/env", "interpreter_arg": "bash",
            "env_program": "bash", "interpreter_exists": True, "env_program_resolved": "/bin/bash"}
NO_BASH = {**CRLF, "shebang": "#!/bin/bash", "shebang_crlf": False,
           "interpreter_path": "/bin/bash", "interpreter_exists": False}
GLIBC = {"path": "/app/server", "kind": "elf", "elf_class": "ELF64", "machine": "x86_64",
         "static": False, "interpreter": "/lib64/ld-linux-x86-64.so.2",
         "interpreter_exists": False, "runs_natively": True, "executable": True,
         "mode_octal": "0755"}
ARM = {**GLIBC, "machine": "aarch64", "interpreter": "/lib/ld-linux-aarch64.so.1",
       "runs_natively": False}


def evidence(*, state: dict[str, Any] | None = None, stderr: str = "",
             file: dict[str, Any] | None = None, cmd: list[str] | None = None,
             extra_probe: dict[str, Any] | None = None, mounts: list[dict[str, Any]] | None = None,
             host_config: dict[str, Any] | None = None,
             inspect_mounts: list[dict[str, Any]] | None = None) -> ContainerEvidence:
    """One container's evidence as the collectors would have stored it."""
    st = {"Status": "exited", "Running": False, "ExitCode": 1, "Error": "", "StartedAt": STARTED,
          "FinishedAt": STARTED, "OOMKilled": False}
    st.update(state or {})
    cmd = cmd or ["/entrypoint.sh"]
    inspect = {"Id": "c0ffee" * 10 + "abcd", "Name": "/web", "Image": "sha256:1",
               "State": st, "Config": {"Image": "app:1", "Cmd": cmd, "Entrypoint": None,
                                       "User": ""},
               "HostConfig": host_config or {}, "Mounts": inspect_mounts or [],
               "RestartCount": 0}
    probe: dict[str, Any] = {"argv": cmd, "argv0": cmd[0], "filesystem": {"readable": True},
                             "path_env": "/usr/bin:/bin", "path_source": "image",
                             "shell": {"usable": True, "path": "/bin/sh"}}
    if file is not None:
        probe.update({"exists": True, "resolved": file["path"], "executable": True,
                      "file": file, "candidates": [{"path": file["path"], "exists": True}]})
    probe.update(extra_probe or {})
    log = "".join(f"{STARTED} {line}\n" for line in stderr.split("\n")) if stderr else ""
    files = {layout.LOG_STDERR: log, layout.LOG_STDOUT: b"", layout.ENTRYPOINT: probe,
             layout.MOUNTS: mounts or [], layout.EVENTS: b"[]"}
    return make_container(
        "web", inspect=inspect, files=files,
        collected=("inspect", "logs", "entrypoint", "mounts", "events", "networks"),
        engine=make_engine({"Architecture": "x86_64"}, collected=("info",)))


def ids(c: ContainerEvidence) -> set[str]:
    return {id for id, f in container_findings(c).items()
            if f.stage not in ("hygiene", "engine")}


EXEC_CASES = [
    # runc >= 1.2: same line, exit 255
    ("runc12-crlf", {"ExitCode": 255}, "exec /entrypoint.sh: no such file or directory", CRLF,
     "bad-shebang-crlf"),
    ("runc12-loader", {"ExitCode": 255}, "exec /app/server: no such file or directory", GLIBC,
     "missing-dynamic-loader"),
    ("runc12-arch", {"ExitCode": 255}, "exec /app/server: exec format error", ARM,
     "exec-format-error"),
    # runc rc94-1.0
    ("rc94-crlf", {}, "standard_init_linux.go:228: exec user process caused: no such file or "
     "directory", CRLF, "bad-shebang-crlf"),
    ("rc94-loader", {}, "standard_init_linux.go:228: exec user process caused: no such file or "
     "directory", GLIBC, "missing-dynamic-loader"),
    # runc rc5-rc10 quoted form
    ("rc10-interp", {}, 'standard_init_linux.go:211: exec user process caused "no such file or '
     'directory"', NO_BASH, "shebang-interpreter-missing"),
    ("rc2-arch", {}, 'standard_init_linux.go:178: exec user process caused "exec format error"',
     ARM, "exec-format-error"),
    # GNU coreutils env (debian/ubuntu images)
    ("gnu-env-crlf", {"ExitCode": 127}, "/usr/bin/env: 'bash\r': No such file or directory",
     CRLF_ENV, "bad-shebang-crlf"),
    ("old-env-crlf", {"ExitCode": 127}, "/usr/bin/env: bash\r: No such file or directory",
     CRLF_ENV, "bad-shebang-crlf"),
    ("gnu-env-missing", {"ExitCode": 127}, "/usr/bin/env: 'python3': No such file or directory",
     {**CRLF_ENV, "shebang": "#!/usr/bin/env python3", "shebang_crlf": False,
      "env_program": "python3", "env_program_resolved": None}, "shebang-interpreter-missing"),
]


@pytest.mark.parametrize(("case", "state", "line", "file", "slug"), EXEC_CASES,
                         ids=[c[0] for c in EXEC_CASES])
def test_exec_failures_of_other_versions(case, state, line, file, slug):
    c = evidence(state=state, stderr=line, file=file)
    found = ids(c)
    assert slug in found, (case, found)
    assert not found & {"entrypoint-not-found", "bad-shebang-crlf",
                        "shebang-interpreter-missing", "missing-dynamic-loader",
                        "exec-format-error", "start-failed"} - {slug}
    # The exit-stage check (app-exit-error) stays silent for these causes.
    assert explained_exit(c) == slug


SHELL_FILE = {"word": "/app/server", "exists": True, "resolved": "/app/server", "file": GLIBC}


@pytest.mark.parametrize("line", [
    "/bin/sh: 1: /app/server: not found",                                  # dash
    "bash: /app/server: cannot execute: required file not found",          # bash >= 5.1
])
def test_shell_form_on_other_shells(line):
    c = evidence(state={"ExitCode": 127}, stderr=line, cmd=["/bin/sh", "-c", "/app/server"],
                 extra_probe={"shell_command": SHELL_FILE})
    assert "missing-dynamic-loader" in ids(c)
    assert explained_exit(c) == "missing-dynamic-loader"


def test_bash_bad_interpreter_crlf_in_shell_form():
    line = "/bin/bash: /app/run.sh: /bin/bash^M: bad interpreter: No such file or directory"
    c = evidence(state={"ExitCode": 126}, stderr=line, cmd=["bash", "-c", "/app/run.sh"],
                 extra_probe={"shell_command": {"word": "/app/run.sh", "exists": True,
                                                "resolved": "/app/run.sh",
                                                "file": {**CRLF, "path": "/app/run.sh"}}})
    assert "bad-shebang-crlf" in ids(c)


def test_a_really_missing_command_from_a_shell_is_not_claimed():
    c = evidence(state={"ExitCode": 127}, stderr="/bin/sh: 1: nosuch: not found",
                 cmd=["/bin/sh", "-c", "nosuch"],
                 extra_probe={"shell_command": {"word": "nosuch", "exists": False}})
    assert not ids(c) & {"entrypoint-not-found", "missing-dynamic-loader", "start-failed"}
    assert explained_exit(c) != "entrypoint-not-found"


def test_exec_failure_without_probe_facts_is_start_failed_not_guessed():
    c = evidence(stderr="exec /app/server: no such file or directory",
                 extra_probe={"filesystem": {"readable": False, "error": "404"}})
    found = ids(c)
    assert "start-failed" in found
    assert not found & {"bad-shebang-crlf", "missing-dynamic-loader", "entrypoint-not-found"}


def test_old_docker_start_errors_reach_their_checks():
    old_nf = ('OCI runtime create failed: container_linux.go:348: starting container process '
              'caused "exec: \\"/bin/sh\\": stat /bin/sh: no such file or directory": unknown')
    c = evidence(state={"Status": "created", "ExitCode": 127, "Error": old_nf,
                        "StartedAt": ZERO}, cmd=["/bin/sh", "-c", "server"],
                 extra_probe={"exists": False, "candidates": [{"path": "/bin/sh",
                                                               "exists": False}],
                              "shell": {"usable": False, "tried": ["/bin/sh"]}})
    report, _ = analyse_container(c, REGISTRY)
    f = next(x for x in report.findings if x.id == "entrypoint-not-found")
    assert "shell form" in f.remediation.summary  # type: ignore[union-attr]
    # No shell in the image: look at the files with docker cp instead of an override.
    assert not any("--entrypoint" in cmd for cmd in f.remediation.commands)  # type: ignore
    assert {x.id for x in report.findings if x.stage != "hygiene"} == {"entrypoint-not-found"}


def test_volume_over_the_program_is_named():
    err = ('failed to create shim task: OCI runtime create failed: runc create failed: unable '
           'to start container process: exec: "/app/server": stat /app/server: no such file or '
           'directory: unknown')
    c = evidence(state={"Status": "created", "ExitCode": 127, "Error": err, "StartedAt": ZERO},
                 cmd=["/app/server"],
                 extra_probe={"exists": False, "candidates": [{"path": "/app/server",
                                                               "exists": False}]},
                 inspect_mounts=[{"Type": "bind", "Source": "/home/me/src",
                                  "Destination": "/app", "RW": True}])
    report, _ = analyse_container(c, REGISTRY)
    f = next(x for x in report.findings if x.id == "entrypoint-not-found")
    assert ("hidden by a mount", "/app is a bind mount of /home/me/src: it hides whatever the "
            "image has there") in f.facts


def test_remote_engine_mount_source_missing_is_inferred_from_the_archive():
    mount = {"Type": "bind", "Source": "/srv/data", "Destination": "/data", "RW": True,
             "declared_only": True}
    c = evidence(state={"Status": "created", "ExitCode": 0, "StartedAt": ZERO},
                 cmd=["server"], mounts=[mount],
                 host_config={"Mounts": [{"Type": "bind", "Source": "/srv/data",
                                          "Target": "/data"}]},
                 extra_probe={"filesystem": {"readable": False, "error": "404 for /"}})
    found = ids(c)
    assert "mount-source-missing" in found and "created-not-started" not in found
    # The same container with its filesystem readable: nothing blocks it, it was never started.
    c = evidence(state={"Status": "created", "ExitCode": 0, "StartedAt": ZERO}, cmd=["server"],
                 mounts=[mount], host_config={"Mounts": [{"Type": "bind",
                                                          "Source": "/srv/data"}]})
    assert ids(c) == {"created-not-started"}


def test_v_binds_that_vanished_are_recreated_not_reported():
    mount = {"Type": "bind", "Source": "/srv/data", "Destination": "/data", "RW": True,
             "source_exists": False, "source_kind": "missing"}
    c = evidence(state={"Status": "exited", "ExitCode": 0}, cmd=["server"], mounts=[mount],
                 host_config={"Binds": ["/srv/data:/data"]})
    assert "mount-source-missing" not in ids(c)
