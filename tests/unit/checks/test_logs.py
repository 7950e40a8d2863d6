"""The D4xx log-signature checks over canned lines from many applications and versions.

Strings come from ../shared/reference/failure-taxonomy.md (sections 2, 3.3, 4.7), from the real
tools on the test engine (busybox 1.35, runc 1.1) and from the applications' sources.  The
real-engine proofs live in tests/engine/test_checks_logs.py.
"""

from __future__ import annotations

import pytest

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.readings.exit import explained_exit
from diagnose.model.findings import Severity
from tests.support.evidence import container_findings, registry
from tests.support.logcase import container

REGISTRY = registry()
LOG_SLUGS = ("read-only-filesystem", "no-space-left", "dns-resolution-failure",
             "dependency-unreachable", "address-in-use", "permission-denied", "missing-env-var",
             "bind-to-localhost", "too-many-open-files", "fork-failed", "pids-limit-reached",
             "bus-error-shm-exhausted", "stale-data-volume")


findings = container_findings


def only_log_findings(c: ContainerEvidence) -> set[str]:
    return {k for k in findings(c) if k in LOG_SLUGS}


def test_codes_and_slugs_are_registered():
    codes = {REGISTRY.get(s).code for s in LOG_SLUGS}  # type: ignore[union-attr]
    # bus-error-shm-exhausted is an exit check (D210) that also reads the logs.
    assert codes == {f"D4{n:02d}" for n in range(1, 13)} | {"D210"}
    assert REGISTRY.get("D401").id == "read-only-filesystem"  # type: ignore[union-attr]
    assert REGISTRY.get("D406").id == "permission-denied"  # type: ignore[union-attr]


# -- every signature, several applications and versions each ---------------------------------

CASES: dict[str, list[str]] = {
    "read-only-filesystem": [
        '2022/03/04 17:05:32 [emerg] 1#1: mkdir() "/var/cache/nginx/client_temp" failed '
        "(30: Read-only file system)",
        "sed: can't create temp file '/etc/nginx/conf.d/default.confXXXXXX': Read-only file system",
        "sh: can't create /x: Read-only file system",
        "touch: /y: Read-only file system",
        "OSError: [Errno 30] Read-only file system: '/app/cache'",
        "Error: EROFS: read-only file system, open '/app/data.json'",
        "open /var/lib/app/state: read-only file system",
        "java.nio.file.FileSystemException: /opt/app/tmp: Read-only file system",
    ],
    "no-space-left": [
        "dd: error writing '/data/f': No space left on device",
        "sh: write error: No space left on device",
        "OSError: [Errno 28] No space left on device: '/srv/out.bin'",
        '2024-01-01 10:00:00.000 UTC [1] PANIC:  could not write to file "pg_wal/xlogtemp.31": '
        "No space left on device",
        "2024-01-01T10:00:00.000Z 0 [ERROR] Disk is full writing './binlog.000003' "
        "(OS errno 28 - No space left on device). Waiting for someone to free space...",
        "Error: ENOSPC: no space left on device, write",
        "write /data/blob: no space left on device",
    ],
    "dns-resolution-failure": [
        'nginx: [emerg] host not found in upstream "php" in /etc/nginx/conf.d/default.conf:16',
        '2024/01/01 10:00:00 [emerg] 1#1: host not found in upstream "app:9000" in '
        "/etc/nginx/conf.d/default.conf:2",
        "lookup db on 127.0.0.11:53: no such host",
        "dial tcp: lookup db on 127.0.0.11:53: server misbehaving",
        "socket.gaierror: [Errno -3] Temporary failure in name resolution",
        "socket.gaierror: [Errno -2] Name or service not known",
        'psql: error: could not translate host name "db" to address: Name or service not known',
        "Error: getaddrinfo ENOTFOUND db",
        "Error: getaddrinfo EAI_AGAIN redis",
        "java.net.UnknownHostException: kafka",
        "curl: (6) Could not resolve host: api.internal",
        "nc: bad address 'db'",
        "wget: bad address 'nosuchhost'",
        "** server can't find nosuchhost: NXDOMAIN",
        "ERROR 2005 (HY000): Unknown MySQL server host 'mysql' (-2)",
        "Temporary failure resolving 'deb.debian.org'",
        "ping: unknown host db",
    ],
    "dependency-unreachable": [
        "Error: connect ECONNREFUSED 127.0.0.1:5432",
        "psql: error: connection to server at \"localhost\" (127.0.0.1), port 5432 failed: "
        "Connection refused",
        "could not connect to server: Connection refused",
        "dial tcp 172.18.0.3:5432: connect: connection refused",
        "ConnectionRefusedError: [Errno 111] Connection refused",
        "java.net.ConnectException: Connection refused",
        "nc: can't connect to remote host (127.0.0.1): Connection refused",
        "curl: (7) Failed to connect to localhost port 8080 after 0 ms: Connection refused",
        "Could not connect to Redis at 127.0.0.1:6379: Connection refused",
        "ERROR 2002 (HY000): Can't connect to local MySQL server through socket "
        "'/var/run/mysqld/mysqld.sock' (2)",
        "ERROR 2003 (HY000): Can't connect to MySQL server on 'db:3306' (111)",
        "dial tcp 10.0.0.5:5432: i/o timeout",
        "dial tcp 10.0.0.5:5432: connect: connection timed out",
        "nc: timed out",
        "java.net.SocketTimeoutException: connect timed out",
        "connect EHOSTUNREACH 10.1.2.3:443",
        "dial tcp 10.9.9.9:80: connect: no route to host",
        "curl: (7) Failed to connect to 203.0.113.9 port 80: Network is unreachable",
    ],
    "address-in-use": [
        "nc: bind: Address already in use",
        "httpd: bind: Address already in use",
        "Error: listen EADDRINUSE: address already in use :::3000",
        "OSError: [Errno 98] Address already in use",
        '2024/01/01 10:00:00 [emerg] 1#1: bind() to 0.0.0.0:80 failed (98: Address already in use)',
        "listen tcp :8080: bind: address already in use",
        "java.net.BindException: Address already in use",
        "[2024-01-01 10:00:00 +0000] [1] [ERROR] Connection in use: ('0.0.0.0', 8000)",
        "1:M 01 Jan 2024 10:00:00.000 # Could not create server TCP listening socket *:6379: "
        "bind: Address already in use",
        'LOG:  could not bind IPv4 address "0.0.0.0": Address already in use',
    ],
    "permission-denied": [
        "sh: can't create /data/x: Permission denied",
        "mkdir: can't create directory '/root/d': Permission denied",
        "mkdir: cannot create directory '/data/x': Permission denied",
        "touch: /f: Permission denied",
        "PermissionError: [Errno 13] Permission denied: '/data/out.csv'",
        "Error: EACCES: permission denied, open '/app/logs/app.log'",
        "open /data/db: permission denied",
        "java.nio.file.AccessDeniedException: /var/lib/app/data",
        '2024/01/01 10:00:00 [crit] 7#7: *1 open() "/var/cache/nginx/x" failed '
        "(13: Permission denied)",
        "chown: changing ownership of '/var/lib/postgresql/data': Operation not permitted",
        "sh: ./run.sh: Permission denied",
        "Got permission denied while trying to connect to the Docker daemon socket at "
        "unix:///var/run/docker.sock: Get \"http://%2Fvar%2Frun%2Fdocker.sock/v1.24/info\"",
    ],
    "missing-env-var": [
        "Error: Database is uninitialized and superuser password is not specified.",
        "2020-04-05 12:45:11+00:00 [ERROR] [Entrypoint]: Database is uninitialized and password "
        "option is not specified",
        "/entrypoint.sh: line 3: DB_HOST: unbound variable",
        "sh: DB_HOST: parameter not set",
        "/docker-entrypoint.sh: 12: DB_PASSWORD: parameter not set",
        "bash: API_URL: parameter null or not set",
        "required key DATABASE_URL missing value",
        "Error: Missing required environment variable: DATABASE_URL",
        "environment variable SECRET_KEY is not set",
    ],
    "too-many-open-files": [
        "sh: eval: line 0: can't open /etc/passwd: Too many open files",
        "OSError: [Errno 24] Too many open files: '/data/x'",
        '2024/01/01 10:00:00 [crit] 7#7: accept4() failed (24: Too many open files)',
        "http: Accept error: accept tcp [::]:8080: accept4: too many open files; retrying in 5ms",
        "Error: EMFILE: too many open files, open '/app/x'",
        "VFS: file-max limit 1000 reached: Too many open files in system",
    ],
    "fork-failed": [
        "sh: can't fork: Resource temporarily unavailable",
        "/entrypoint.sh: fork: retry: Resource temporarily unavailable",
        '2026/04/19 16:37:44 [alert] 62#62: fork() failed while spawning "worker process" '
        "(11: Resource temporarily unavailable)",
        "java.lang.OutOfMemoryError: unable to create native thread: possibly out of memory or "
        "process/resource limits reached",
        "runtime: failed to create new OS thread (have 9 already; errno=11)",
        "pthread_create failed: Resource temporarily unavailable",
        "/usr/local/bin/start.sh: line 7: fork: Resource temporarily unavailable",
    ],
    "bus-error-shm-exhausted": [
        "RuntimeError: DataLoader worker (pid 125) is killed by signal: Bus error. It is "
        "possible that dataloader's workers are out of shared memory.",
        'ERROR:  could not resize shared memory segment "/PostgreSQL.3977435352" to 16777216 '
        "bytes: No space left on device",
        "dd: error writing '/dev/shm/seg': No space left on device",
        "/entrypoint.sh: line 4:    12 Bus error               (core dumped) python train.py",
    ],
    "stale-data-volume": [
        "2026-12-02 22:25:29.963 UTC [1] FATAL:  database files are incompatible with server",
        "2024-05-01T10:00:00.000000Z 1 [ERROR] [MY-013171] [InnoDB] Cannot boot server version "
        "80023 on data directory built by version 80029. Downgrade is not supported",
        '{"t":{"$date":"2024-01-01T00:00:00.000+00:00"},"s":"F","c":"CONTROL","id":20573,'
        '"ctx":"initandlisten","msg":"Wrong mongod version","attr":{"error":"UPGRADE PROBLEM: '
        'Found an invalid featureCompatibilityVersion document"}}',
        "java.lang.IllegalStateException: cannot upgrade a node from version [7.13.3] directly "
        "to version [8.2.2], upgrade to version [7.17.0] first.",
    ],
}


@pytest.mark.parametrize(("slug", "line"), [(s, ln) for s, lines in CASES.items()
                                            for ln in lines])
def test_each_signature_is_claimed_by_its_check_only(slug: str, line: str):
    c = container([line], status="exited", exit_code=1)
    found = findings(c)
    assert slug in found, (line, sorted(found))
    # The line is the last word of a failed run: the finding is the root cause, and the
    # generic app-exit-error is told so through explained_exit().
    assert found[slug].severity is Severity.ERROR
    assert explained_exit(c) == slug
    others = only_log_findings(c) - {slug}
    assert not others, (line, others)


# -- look-alikes and innocent lines --------------------------------------------------------

INNOCENT = [
    "Checking file permissions... ok",
    "user has permission to read /data",
    "permissions: 0644 /etc/app.conf",
    "Listening on 0.0.0.0:8080",
    "connected to db:5432",
    "no space issues detected, 12 GiB free",
    "Resolving dependencies... done",
    "All required env vars present",
    "Loaded environment variables from .env",
    "read-only mode: false",
    "Retrying in 5s",
    "GET /health 200 0.4 ms",
    "2024-01-01 10:00:00.000 UTC [1] LOG:  database system is ready to accept connections",
    "KeyError handling enabled",
    "[notice] 1#1: start worker processes",
    "Resource usage: 12 threads",
]


def test_a_healthy_container_with_innocent_lines_gets_nothing():
    c = container([("stdout", t) for t in INNOCENT])
    found = findings(c)
    assert not [f for f in found.values() if f.severity and f.severity >= Severity.WARNING]
    assert not only_log_findings(c)


LOOK_ALIKES: list[tuple[str, str]] = [
    # runc's own exec failure belongs to entrypoint-not-executable, in every runc wording.
    ("permission-denied", "exec /docker-entrypoint.sh: permission denied"),
    ("permission-denied", "standard_init_linux.go:228: exec user process caused: permission "
                          "denied"),
    ("permission-denied", 'standard_init_linux.go:190: exec user process caused "permission '
                          'denied"'),
    # SQL privileges and SSH logins are not the filesystem.
    ("permission-denied", "ERROR:  permission denied for table users"),
    ("permission-denied", "git@github.com: Permission denied (publickey)."),
    # EROFS is the read-only check's, EACCES is not.
    ("permission-denied", "touch: /y: Read-only file system"),
    # The engine's port publishing (port-already-allocated) relayed by a docker CLI inside.
    ("address-in-use", "docker: Error response from daemon: driver failed programming external "
                       "connectivity on endpoint web (3a9a): Error starting userland proxy: "
                       "listen tcp4 0.0.0.0:80: bind: address already in use."),
    ("address-in-use", "Bind for 0.0.0.0:8080 failed: port is already allocated"),
    # A DNS failure is not a refused connection, even when the lookup itself timed out.
    ("dependency-unreachable", "lookup db on 127.0.0.11:53: dial udp 127.0.0.11:53: i/o timeout"),
    ("dependency-unreachable", "socket.gaierror: [Errno -2] Name or service not known"),
    # A KeyError that is not an os.environ lookup is an ordinary bug.
    ("missing-env-var", "KeyError: 'USER_ID'"),
    ("missing-env-var", "KeyError: 'name'"),
    # The glibc seccomp look-alike of getaddrinfo is not DNS.
    ("dns-resolution-failure", "curl: (6) getaddrinfo() thread failed to start"),
]


@pytest.mark.parametrize(("slug", "line"), LOOK_ALIKES)
def test_look_alikes_are_not_claimed(slug: str, line: str):
    c = container([line], status="exited", exit_code=1)
    assert slug not in findings(c)


def test_key_error_from_os_environ_is_a_missing_variable():
    c = container([
        "Traceback (most recent call last):",
        '  File "/app/main.py", line 3, in <module>',
        '    DB = os.environ["DATABASE_URL"]',
        '  File "<frozen os>", line 679, in __getitem__',
        "KeyError: 'DATABASE_URL'",
    ], status="exited", exit_code=1)
    f = findings(c)["missing-env-var"]
    assert f.title == "DATABASE_URL is not set"
    assert ("Config.Env DATABASE_URL", "not set") in f.facts


def test_official_images_name_their_variables_on_the_next_lines():
    c = container([
        "2020-04-05 12:45:11+00:00 [ERROR] [Entrypoint]: Database is uninitialized and password "
        "option is not specified",
        "\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD "
        "and MARIADB_RANDOM_ROOT_PASSWORD",
    ], status="exited", exit_code=1, inspect={"Config": {"Env": ["MARIADB_ROOT_PASSWORD="]}})
    f = findings(c)["missing-env-var"]
    facts = dict(f.facts)
    assert facts["Config.Env MARIADB_ROOT_PASSWORD"] == "set but empty"
    assert facts["Config.Env MARIADB_RANDOM_ROOT_PASSWORD"] == "not set"
    assert f.title.startswith("none of MARIADB_ROOT_PASSWORD")
    # The naming line is quoted too, as context.
    assert any("You need to specify" in e.excerpt for e in f.evidence)


# -- severities: root cause, warning, earlier runs -------------------------------------------


def test_restart_loop_repeats_are_counted_and_the_latest_quoted():
    runs = [[f"2024/01/01 10:00:0{i} [emerg] 1#1: host not found in upstream \"app:9000\" in "
             "/etc/nginx/conf.d/default.conf:2"] for i in range(5)]
    c = container(runs=runs, status="restarting", exit_code=1)
    f = findings(c)["dns-resolution-failure"]
    facts = dict(f.facts)
    assert facts["matching log lines"] == "5"
    assert facts["runs that logged it"] == "5 of 5"
    assert facts["repeated"].startswith("5x in 5 runs: [emerg]")
    logs = [e for e in f.evidence if e.lines]
    assert len(logs) == 1 and logs[0].lines == (5, 5)  # the latest of the five, quoted once
    assert f.severity is Severity.ERROR
    assert "app" in f.title


def test_running_container_that_logged_an_error_gets_a_warning():
    c = container(["nc: can't connect to remote host (172.18.0.3): Connection refused",
                   ("stdout", "retrying"), ("stdout", "connected")])
    f = findings(c)["dependency-unreachable"]
    assert f.severity is Severity.WARNING


def test_errors_only_in_earlier_runs_are_info():
    c = container(runs=[["sh: can't create /data/x: Permission denied"], ["all good"]],
                  status="running")
    assert findings(c)["permission-denied"].severity is Severity.INFO


def test_an_old_error_far_before_the_exit_does_not_explain_it():
    lines = ["nc: bad address 'db'"] + [f"processed item {i}" for i in range(60)] + [
        "Traceback (most recent call last):", "ValueError: boom"]
    c = container(lines, status="exited", exit_code=1)
    assert explained_exit(c) is None
    assert findings(c)["dns-resolution-failure"].severity is Severity.WARNING


def test_a_signal_exit_is_not_claimed_by_a_log_line():
    c = container(["sh: can't create /x: Read-only file system"], status="exited",
                  exit_code=137)
    assert explained_exit(c) != "read-only-filesystem"
    assert findings(c)["read-only-filesystem"].severity is Severity.WARNING
