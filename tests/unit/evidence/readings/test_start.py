"""Start-stage readings over canned strings of every runc/Docker generation (taxonomy 1.5).

The real engine here is Docker 20.10 with runc 1.1; these are the texts of the others.
"""

from __future__ import annotations

import pytest
from diagnose.checks.bind_mount_type_mismatch import mount_pair
from diagnose.checks.invalid_user import MISSING
from diagnose.checks.mount_source_missing import source_in
from diagnose.checks.network_not_found import missing_network
from diagnose.checks.port_already_allocated import holder_of, host_address

from diagnose.collect.override import parse_output, plan, script_for
from diagnose.collect.probe import shell_command_word, shell_script
from diagnose.evidence.logs import LogLine
from diagnose.evidence.readings.exec_failure import (
    ENV_FAILURE,
    EXEC_LINE,
    STANDARD_INIT,
    env_failure_in,
    shell_failure_in,
)
from diagnose.evidence.readings.start import (
    classify_start_error,
    essential_error,
    quoted_command,
    unescape,
)

SHIM = "failed to create shim task: OCI runtime create failed: runc create failed: "

START_ERRORS = [
    # entrypoint-not-found, every generation
    ('oci runtime error: container_linux.go:247: starting container process caused '
     '"exec: \\"foo\\": executable file not found in $PATH"', "entrypoint-not-found"),
    ('OCI runtime create failed: container_linux.go:348: starting container process caused '
     '"exec: \\"/bin/bash\\": stat /bin/bash: no such file or directory": unknown',
     "entrypoint-not-found"),
    ('OCI runtime create failed: container_linux.go:380: starting container process caused: '
     'exec: "foo": executable file not found in $PATH: unknown', "entrypoint-not-found"),
    (SHIM + 'unable to start container process: exec: "nosuchcmd": executable file not found '
     'in $PATH: unknown', "entrypoint-not-found"),
    ("failed to create task for container: " + SHIM + 'unable to start container process: '
     'exec: "/app/run": stat /app/run: no such file or directory: unknown',
     "entrypoint-not-found"),
    ("Container command 'foo' not found or does not exist.", "entrypoint-not-found"),
    # entrypoint-not-executable
    (SHIM + 'unable to start container process: exec: "/docker-entrypoint.sh": permission '
     'denied: unknown', "entrypoint-not-executable"),
    ('OCI runtime create failed: container_linux.go:346: starting container process caused '
     '"exec: \\"/run.sh\\": permission denied": unknown', "entrypoint-not-executable"),
    (SHIM + 'unable to start container process: exec: "/etc": is a directory: unknown: '
     'permission denied', "entrypoint-not-executable"),
    # exec format error at start (Docker <= 1.11)
    ("Cannot start container 3f2a: [8] System error: exec format error", "exec-format-error"),
    # users
    ("unable to find user appuser: no matching entries in passwd file", "invalid-user"),
    ("linux spec user: unable to find user appuser: no matching entries in passwd file",
     "invalid-user"),
    ("unable to find group staff: no matching entries in group file", "invalid-user"),
    # ports
    ("driver failed programming external connectivity on endpoint web (3a9a): Bind for "
     "0.0.0.0:8080 failed: port is already allocated", "port-already-allocated"),
    ("driver failed programming external connectivity on endpoint nats (3a9a): Error starting "
     "userland proxy: listen tcp4 0.0.0.0:4222: bind: address already in use",
     "port-already-allocated"),
    ("failed to set up container networking: driver failed programming external connectivity "
     "on endpoint web (3a9a): failed to bind host port for 0.0.0.0:80:172.17.0.2:80/tcp: "
     "address already in use", "port-already-allocated"),
    ("driver failed programming external connectivity on endpoint phpapp_nginx_1 (a987): "
     "Error starting userland proxy: Bind for 0.0.0.0:80: unexpected error (Failure "
     "EADDRINUSE)", "port-already-allocated"),
    ("Ports are not available: exposing port TCP 0.0.0.0:50070 -> 0.0.0.0:0: listen tcp "
     "0.0.0.0:50070: bind: An attempt was made to access a socket in a way forbidden by its "
     "access permissions.", "port-already-allocated"),
    # networks
    ("network e522ee05b779e305220 not found", "network-not-found"),
    ("failed to set up container networking: network backend not found", "network-not-found"),
    ("could not find a network matching network mode backend", "network-not-found"),
    # mounts
    ('invalid mount config for type "bind": bind source path does not exist: /srv/data',
     "mount-source-missing"),
    ("error while creating mount source path '/srv/x': mkdir /srv/x: read-only file system",
     "mount-source-missing"),
    (SHIM + 'unable to start container process: error during container init: error mounting '
     '"/srv/app.conf" to rootfs at "/etc/app.conf": mount /srv/app.conf:/etc/app.conf (via '
     '/proc/self/fd/6), flags: 0x5000: not a directory: unknown: Are you trying to mount a '
     'directory onto a file (or vice-versa)? Check if the specified host path exists and is '
     'the expected type', "bind-mount-type-mismatch"),
    ('OCI runtime create failed: container_linux.go:348: starting container process caused '
     '"process_linux.go:402: container init caused \\"rootfs_linux.go:58: mounting '
     '\\\\\\"/home/u/nginx/default\\\\\\" to rootfs \\\\\\"/var/lib/docker/overlay2/x/merged'
     '\\\\\\" at \\\\\\"/var/lib/docker/overlay2/x/merged/etc/nginx/sites-enabled/default'
     '\\\\\\" caused \\\\\\"not a directory\\\\\\"\\"": unknown', "bind-mount-type-mismatch"),
    # logging, hooks, workdir, others
    ("failed to initialize logging driver: dial tcp 127.0.0.1:24224: connect: connection "
     "refused", "logging-driver-failure"),
    ("OCI runtime create failed: container_linux.go:345: starting container process caused "
     '"process_linux.go:430: container init caused \\"process_linux.go:413: running prestart '
     'hook 0 caused \\\\\\"error running hook: exit status 1, stdout: , stderr: '
     'nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: '
     'cannot open shared object file: no such file or directory\\\\\\\\n\\\\\\"\\"": unknown',
     "hook-failed"),
    (SHIM + "error running hook #0: error running hook: exit status 1, stdout: , stderr: "
     "nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: "
     "cannot open shared object file: no such file or directory: unknown", "hook-failed"),
    (SHIM + "error running prestart hook #0: exit status 1, stdout: , stderr: x: unknown",
     "hook-failed"),
    (SHIM + 'unable to start container process: error during container init: chdir to cwd '
     '("/home/atmo") set in config.json failed: permission denied: unknown', "workdir-invalid"),
    ('error gathering device information while adding custom device "/dev/x": no such file '
     'or directory', "other"),
    (SHIM + "unable to start container process: error during container init: error setting "
     "rlimits for ready process: error setting rlimit type 7: operation not permitted: "
     "unknown", "other"),
]


@pytest.mark.parametrize(("error", "category"), START_ERRORS)
def test_start_errors_of_every_generation(error, category):
    assert classify_start_error(error) == category


def test_quoted_command_and_essential_error_unescape_old_forms():
    old = START_ERRORS[1][0]
    assert quoted_command(old) == "/bin/bash"
    assert quoted_command(START_ERRORS[0][0]) == "foo"
    assert essential_error(old) == 'exec: "/bin/bash": stat /bin/bash: no such file or directory'
    assert essential_error(START_ERRORS[-1][0]).startswith("error setting rlimits")
    assert unescape('a \\\\\\"b\\\\\\" c') == 'a "b" c'


@pytest.mark.parametrize(("line", "error"), [
    ("exec /app/run.sh: no such file or directory", "no such file or directory"),
    ("exec /usr/local/bin/docker-entrypoint.sh: exec format error", "exec format error"),
    ("exec /x: permission denied", "permission denied"),
])
def test_runc_11_exec_lines(line, error):
    m = EXEC_LINE.match(line)
    assert m and m.group("error") == error


@pytest.mark.parametrize(("line", "error"), [
    ("standard_init_linux.go:228: exec user process caused: no such file or directory",
     "no such file or directory"),
    ('standard_init_linux.go:190: exec user process caused "no such file or directory"',
     "no such file or directory"),
    ("standard_init_linux.go:219: exec user process caused: exec format error",
     "exec format error"),
    ('panic: standard_init_linux.go:175: exec user process caused "exec format error" '
     "[recovered]", "exec format error"),
    ('standard_init_linux.go:178: exec user process caused \\"exec format error\\"',
     "exec format error"),
])
def test_older_runc_exec_lines(line, error):
    m = STANDARD_INIT.search(line)
    assert m and m.group("error") == error


def _lines(*texts: str) -> tuple[LogLine, ...]:
    return tuple(LogLine("stderr", i, "", t) for i, t in enumerate(texts, 1))


@pytest.mark.parametrize(("line", "program"), [
    ("/usr/bin/env: 'bash\r': No such file or directory", "bash\r"),      # GNU coreutils
    ("/usr/bin/env: bash\r: No such file or directory", "bash\r"),        # old coreutils
    ("env: can't execute 'sh\r': No such file or directory", "sh\r"),     # busybox
    ("/usr/bin/env: \u2018python3\u2019: No such file or directory", "python3"),
    ("env: can't execute 'python3': No such file or directory", "python3"),
])
def test_env_shebang_failures(line, program):
    assert ENV_FAILURE.search(line)
    found = env_failure_in(_lines(line))
    assert found is not None and found.program == program
    assert found.crlf == program.endswith("\r")


@pytest.mark.parametrize(("line", "error"), [
    ("sh: /app/server: not found", "not found"),                                  # busybox
    ("/bin/sh: 1: /app/server: not found", "not found"),                           # dash
    ("bash: /app/server: cannot execute: required file not found",
     "cannot execute: required file not found"),                                  # bash 5.1
    ("bash: /app/server: No such file or directory", "No such file or directory"),
    ("/bin/bash: /app/server: /bin/bash^M: bad interpreter: No such file or directory",
     "bad interpreter crlf"),
    ("bash: /app/server: /bin/bash\r: bad interpreter: No such file or directory",
     "bad interpreter crlf"),
    ("bash: /app/server: /bin/zsh: bad interpreter: No such file or directory",
     "bad interpreter no such file"),
    ("sh: /app/server: Permission denied", "Permission denied"),
])
def test_shell_form_failures(line, error):
    found = shell_failure_in(_lines(line), "/app/server")
    assert found is not None and found.error == error
    assert shell_failure_in(_lines(line), "/app/other") is None


def test_shell_form_command_words():
    assert shell_script(["/bin/sh", "-c", "exec /app/x --flag"]) == "exec /app/x --flag"
    assert shell_script(["bash", "-ec", "x"]) == "x"
    assert shell_script(["sh", "script.sh"]) is None
    assert shell_script(["/app/x", "-c", "y"]) is None
    assert shell_command_word("exec /app/x --flag") == "/app/x"
    assert shell_command_word("FOO=1 BAR=2 ./run") == "./run"
    assert shell_command_word('"$APP" start') is None


def test_parsers_of_the_engine_side_checks():
    assert host_address("Bind for 0.0.0.0:8080 failed: port is already allocated") == (
        "0.0.0.0", "8080")
    assert host_address("failed to bind port 127.0.0.1:2375/tcp: Error starting userland proxy"
                        ": listen tcp4 127.0.0.1:2375: bind: address already in use") == (
        "127.0.0.1", "2375")
    assert "another container" in holder_of("Bind for 0.0.0.0:1 failed: port is already "
                                            "allocated")
    assert "process" in holder_of("listen tcp4 0.0.0.0:1: bind: address already in use")
    assert "Windows" in holder_of(START_ERRORS[17][0])
    assert missing_network("network e522ee05b779e305220 not found") == "e522ee05b779e305220"
    assert missing_network("could not find a network matching network mode backend") == "backend"
    assert source_in(START_ERRORS[21][0]) == "/srv/data"
    assert source_in(START_ERRORS[22][0]) == "/srv/x"
    assert mount_pair(START_ERRORS[23][0]) == ("/srv/app.conf", "/etc/app.conf")
    assert mount_pair(START_ERRORS[24][0]) == ("/home/u/nginx/default",
                                               "/etc/nginx/sites-enabled/default")
    m = MISSING.search(START_ERRORS[11][0])
    assert m and (m.group("what"), m.group("name")) == ("user", "appuser")


def test_override_plan_and_output_framing():
    probe = {
        "argv": ["/app/server"], "argv0": "/app/server", "resolved": "/app/server",
        "workdir": "/srv",
        "file": {"kind": "elf", "interpreter": "/lib64/ld-linux-x86-64.so.2",
                 "interpreter_exists": True},
        "shell_command": {},
    }
    steps = plan(probe)
    names = [n for n, _ in steps]
    assert names[:2] == ["id", "arch"]
    assert {"entrypoint.ls", "entrypoint.loader", "entrypoint.libraries", "workdir",
            "env_names", "os_release"} <= set(names)
    script = script_for(steps)
    assert "rm " not in script and ">" not in script.replace("2>&1", "").replace(
        ">/dev/null", "")
    out = ("@@diagnose-probe:id\nuid=0(root)\n\n@@diagnose-rc:0\n"
           "@@diagnose-probe:env_names\nHOME\nPATH\nnot a name=value\nSECRET_TOKEN\n\n"
           "@@diagnose-rc:0\n@@diagnose-probe:entrypoint.loader\nls: x: No such file\n\n"
           "@@diagnose-rc:1\n")
    parsed = {p["name"]: p for p in parse_output(out, steps)}
    assert parsed["id"]["output"] == "uid=0(root)" and parsed["id"]["exit_code"] == 0
    assert parsed["env_names"]["output"].splitlines() == ["HOME", "PATH", "SECRET_TOKEN"]
    assert parsed["entrypoint.loader"]["exit_code"] == 1
