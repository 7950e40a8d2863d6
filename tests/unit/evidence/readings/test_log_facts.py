"""The D4xx log checks' readings of the rest of the evidence: which mount a path is on, whose
IP a connection went to, which networks a name should resolve on, which limits were reached.

Canned evidence in the shapes the collectors produce; the real-engine proofs live in
tests/engine/test_checks_logs.py.
"""

from __future__ import annotations

import json
from typing import Any

from diagnose.evidence import layout
from diagnose.model.findings import Severity
from tests.support.evidence import container_findings as findings
from tests.support.evidence import make_container
from tests.support.logcase import container

# -- check-specific readings of the evidence ---------------------------------------------------


def test_read_only_rootfs_vs_read_only_mount_vs_host_remount():
    line = "sh: can't create /data/x: Read-only file system"
    rootfs = container([line], status="exited", exit_code=1,
                       inspect={"HostConfig": {"ReadonlyRootfs": True}})
    f = findings(rootfs)["read-only-filesystem"]
    assert "root filesystem" in f.title and "--read-only" in f.title
    mount: dict[str, Any] = {"Mounts": [{"Type": "bind", "Source": "/srv/data",
                                         "Destination": "/data", "RW": False, "Mode": "ro"}]}
    f = findings(container([line], status="exited", exit_code=1, inspect=mount))[
        "read-only-filesystem"]
    assert "bind /srv/data -> /data (read-only)" in f.title
    assert any(e.pointer == "/Mounts/0" for e in f.evidence)
    f = findings(container([line], status="exited", exit_code=1))["read-only-filesystem"]
    assert "the filesystem itself is read-only" in f.title
    assert any("dmesg" in cmd for cmd in f.remediation.commands)  # type: ignore[union-attr]


def test_no_space_is_located_on_its_filesystem():
    tmpfs = container(["dd: error writing '/data/f': No space left on device"],
                      status="exited", exit_code=1,
                      inspect={"HostConfig": {"Tmpfs": {"/data": "size=64k"}}})
    f = findings(tmpfs)["no-space-left"]
    assert f.title == "the tmpfs at /data is full (size=64k)"
    assert any(e.pointer == "/HostConfig/Tmpfs/~1data" for e in f.evidence)
    shm = container(["dd: error writing '/dev/shm/f': No space left on device"],
                    status="exited", exit_code=1, inspect={"HostConfig": {"ShmSize": 65536}})
    # /dev/shm and POSIX shm segments are bus-error-shm-exhausted's, never a full disk.
    assert "no-space-left" not in findings(shm)
    f = findings(shm)["bus-error-shm-exhausted"]
    assert f.title == "a shared memory segment did not fit in /dev/shm: /dev/shm is 64 KiB"
    assert any("--shm-size" in cmd for cmd in f.remediation.commands)  # type: ignore[union-attr]
    pg = container(['ERROR:  could not resize shared memory segment "/PostgreSQL.3977435352" '
                    'to 16777216 bytes: No space left on device'], status="running")
    assert "no-space-left" not in findings(pg)
    f = findings(pg)["bus-error-shm-exhausted"]
    assert f.title.startswith("PostgreSQL could not fit a dynamic shared memory segment")
    assert "64 MiB (the default" in f.title and f.severity is Severity.WARNING
    layer = container(["OSError: [Errno 28] No space left on device: '/srv/out.bin'"],
                      status="exited", exit_code=1)
    assert "data root" in findings(layer)["no-space-left"].title


def test_localhost_is_the_container_itself():
    c = container(["Error: connect ECONNREFUSED 127.0.0.1:5432"], status="exited", exit_code=1)
    f = findings(c)["dependency-unreachable"]
    assert "localhost is the container itself" in f.title and "127.0.0.1:5432" in f.title
    host = container(["Error: connect ECONNREFUSED 127.0.0.1:5432"], status="exited",
                     exit_code=1, inspect={"HostConfig": {"NetworkMode": "host"}})
    assert "--network host" in findings(host)["dependency-unreachable"].title
    sock = container(["ERROR 2002 (HY000): Can't connect to local MySQL server through socket "
                      "'/var/run/mysqld/mysqld.sock' (2)"], status="exited", exit_code=1)
    assert "localhost is the container itself" in findings(sock)["dependency-unreachable"].title


def test_libpq_continuation_lines_name_the_target():
    c = container(["psql: could not connect to server: Connection refused",
                   '\tIs the server running on host "localhost" (127.0.0.1) and accepting',
                   "\tTCP/IP connections on port 5432?"], status="exited", exit_code=2)
    f = findings(c)["dependency-unreachable"]
    assert "localhost (127.0.0.1):5432" in f.title
    assert any("Is the server running" in e.excerpt for e in f.evidence)


def test_another_containers_ip_is_named():
    nets = {"appnet": {"found": True, "inspect": {"Containers": {
        "a": {"Name": "db", "IPv4Address": "172.18.0.3/16"},
        "b": {"Name": "web", "IPv4Address": "172.18.0.2/16"}}}}}
    c = container(["nc: can't connect to remote host (172.18.0.3): Connection refused"],
                  status="exited", exit_code=1, networks=nets,
                  inspect={"HostConfig": {"NetworkMode": "appnet"}})
    f = findings(c)["dependency-unreachable"]
    assert "(db)" in f.title and "refused" in f.title
    assert ("172.18.0.3", "container db on network appnet") in f.facts


def test_dns_on_a_user_network_lists_its_members():
    nets = {"appnet": {"found": True, "inspect": {"Containers": {
        "a": {"Name": "api", "IPv4Address": "172.18.0.3/16"},
        "b": {"Name": "web", "IPv4Address": "172.18.0.2/16"}}}}}
    c = container(["nc: bad address 'db'"], status="exited", exit_code=1, networks=nets,
                  inspect={"HostConfig": {"NetworkMode": "appnet"},
                           "NetworkSettings": {"Networks": {"appnet": {}}}})
    f = findings(c)["dns-resolution-failure"]
    assert "127.0.0.11" in f.title and "appnet" in f.title
    assert ("containers on appnet", "api") in f.facts


def test_address_in_use_names_the_port_and_the_namespace():
    c = container(["Error: listen EADDRINUSE: address already in use :::3000"],
                  status="exited", exit_code=1)
    assert "port 3000" in findings(c)["address-in-use"].title
    c = container(["nc: bind: Address already in use"], status="exited", exit_code=1,
                  inspect={"HostConfig": {"NetworkMode": "container:" + "ab" * 32}})
    assert "network namespace of abababababab" in findings(c)["address-in-use"].title


def test_permission_denied_names_the_user_and_mount():
    c = container(["sh: can't create /data/x: Permission denied"], status="exited",
                  exit_code=1, inspect={
                      "Config": {"User": "65534"},
                      "Mounts": [{"Type": "volume", "Name": "appdata", "Source": "/var/lib/x",
                                  "Destination": "/data", "RW": True}]})
    f = findings(c)["permission-denied"]
    assert f.title == "user 65534 was denied access to /data/x (on volume appdata -> /data)"
    assert any("chown -R 65534" in cmd for cmd in f.remediation.commands)  # type: ignore[union-attr]
    c = container(["sh: ./run.sh: Permission denied"], status="exited", exit_code=126)
    assert "could not execute ./run.sh" in findings(c)["permission-denied"].title


PUBLISHED: dict[str, Any] = {"HostConfig": {"PortBindings": {
    "5000/tcp": [{"HostIp": "", "HostPort": "49153"}]}}}


def test_bind_to_localhost_needs_published_ports_and_no_exposed_address():
    flask = [("stdout", " * Serving Flask app 'app'"),
             ("stdout", " * Running on http://127.0.0.1:5000")]
    f = findings(container(flask, inspect=PUBLISHED))["bind-to-localhost"]
    assert f.severity is Severity.WARNING and "127.0.0.1:5000" in f.title
    assert "bind-to-localhost" not in findings(container(flask))  # nothing published
    exposed = flask[:1] + [("stdout", " * Running on all addresses (0.0.0.0)")] + flask[1:] + [
        ("stdout", " * Running on http://172.17.0.2:5000")]
    assert "bind-to-localhost" not in findings(container(exposed, inspect=PUBLISHED))
    vite = [("stdout", "  ➜  Local:   http://localhost:5000/"),
            ("stdout", "  ➜  Network: use --host to expose")]
    assert "bind-to-localhost" in findings(container(vite, inspect=PUBLISHED))
    for line in ("Uvicorn running on http://127.0.0.1:5000 (Press CTRL+C to quit)",
                 "Starting development server at http://127.0.0.1:5000/",
                 "[1] [INFO] Listening at: http://127.0.0.1:5000 (1)",
                 "* Listening on tcp://127.0.0.1:5000",
                 '2024-01-01 10:00:00.000 UTC [1] LOG:  listening on IPv4 address "127.0.0.1", '
                 "port 5000"):
        assert "bind-to-localhost" in findings(container([("stdout", line)],
                                                         inspect=PUBLISHED)), line
    # A hard-coded "localhost" greeting of an app bound to every interface is not a claim.
    node = [("stdout", "Server listening on http://localhost:5000")]
    assert "bind-to-localhost" not in findings(container(node, inspect=PUBLISHED))
    pg = [("stdout", 'LOG:  listening on IPv4 address "0.0.0.0", port 5000'),
          ("stdout", 'LOG:  listening on IPv6 address "::", port 5000')]
    assert "bind-to-localhost" not in findings(container(pg, inspect=PUBLISHED))
    other_port = [("stdout", "admin listening on 127.0.0.1:9000")]
    assert "bind-to-localhost" not in findings(container(other_port, inspect=PUBLISHED))
    exited = container(flask, status="exited", exit_code=0, inspect=PUBLISHED)
    assert "bind-to-localhost" not in findings(exited)


def test_fork_failure_at_the_pids_limit_is_pids_limit_reached():
    line = ["sh: can't fork: Resource temporarily unavailable"]
    c = container(line, status="exited", exit_code=2, inspect={"HostConfig": {"PidsLimit": 6}})
    got = findings(c)
    assert "fork-failed" not in got
    f = got["pids-limit-reached"]
    assert f.title == ("could not start a process or thread: the container reached its pids "
                       "limit of 6")
    assert f.severity is Severity.ERROR
    assert any("--pids-limit 1024" in cmd for cmd in f.remediation.commands)  # type: ignore[union-attr]
    # An nproc ulimit below the pids limit is what binds: fork-failed, not the pids limit.
    nproc = container(line, status="exited", exit_code=2, inspect={"HostConfig": {
        "PidsLimit": 64, "Ulimits": [{"Name": "nproc", "Soft": 24, "Hard": 24}]}})
    got = findings(nproc)
    assert "pids-limit-reached" not in got
    assert got["fork-failed"].title == "could not fork: the nproc ulimit (24) was reached"


def test_too_many_open_files_reads_the_ulimit():
    c = container(["sh: eval: line 0: can't open /etc/passwd: Too many open files"],
                  status="exited", exit_code=1, inspect={"HostConfig": {"Ulimits": [
                      {"Name": "nofile", "Soft": 16, "Hard": 16}]}})
    f = findings(c)["too-many-open-files"]
    assert f.title == "out of file descriptors at its nofile limit of 16"


def test_sysctl_writes_are_kernel_settings_not_a_read_only_disk():
    c = container(["sysctl: error setting key 'net.core.somaxconn': Read-only file system",
                   "sh: can't create /proc/sys/net/core/somaxconn: Read-only file system"],
                  status="exited", exit_code=1)
    f = findings(c)["read-only-filesystem"]
    assert "kernel settings are read-only" in f.title
    assert any("--sysctl net.core.somaxconn=VALUE" in cmd
               for cmd in f.remediation.commands)  # type: ignore[union-attr]


def test_external_names_are_not_blamed_on_the_bridge_network():
    c = container(["curl: (6) Could not resolve host: api.example.com"], status="exited",
                  exit_code=6)
    f = findings(c)["dns-resolution-failure"]
    assert f.title.startswith("`api.example.com` does not resolve (an external name")
    c = container(["socket.gaierror: [Errno -3] Temporary failure in name resolution"],
                  status="exited", exit_code=1, inspect={"HostConfig": {"NetworkMode": "none"}})
    assert findings(c)["dns-resolution-failure"].title == (
        "name resolution fails: the container has no network (--network none)")


def test_runs_are_not_counted_when_the_engine_dropped_early_events():
    c = container(runs=[["nc: bad address 'db'"]] * 3, status="exited", exit_code=1)
    events = json.loads(c.files[layout.EVENTS])
    assert [e["Action"] for e in events[:3]] == ["create", "start", "die"]
    dropped = make_container(c.key, files={**c.files, layout.EVENTS: events[3:]},
                             records=c.records, engine=c.engine)
    facts = dict(findings(dropped)["dns-resolution-failure"].facts)
    assert facts["runs that logged it"].startswith("unknown of 3")
    assert facts["repeated"] == "3x: nc: bad address 'db'"
    assert dict(findings(c)["dns-resolution-failure"].facts)["runs that logged it"] == "3 of 3"


def test_a_cut_log_says_its_counts_are_lower_bounds():
    line = "nc: bad address 'db'"
    facts = dict(findings(container([line], truncated=True))["dns-resolution-failure"].facts)
    assert facts["log"].startswith("truncated by --tail")
    assert "log" not in dict(findings(container([line]))["dns-resolution-failure"].facts)


def test_stale_data_volume_names_both_versions_and_the_volume():
    lines = ["PostgreSQL Database directory appears to contain a database; Skipping "
             "initialization",
             "2026-12-02 22:25:29.963 UTC [1] FATAL:  database files are incompatible with server",
             "2026-12-02 22:25:29.963 UTC [1] DETAIL:  The data directory was initialized by "
             "PostgreSQL version 14, which is not compatible with this version 15.18 (Debian "
             "15.18-0+deb12u1)."]
    c = container(lines, status="exited", exit_code=1, inspect={
        "Config": {"Env": ["PGDATA=/var/lib/postgresql/data"]},
        "Mounts": [{"Type": "volume", "Name": "pgdata",
                    "Destination": "/var/lib/postgresql/data", "RW": True}]})
    got = findings(c)
    assert "app-exit-error" not in got
    f = got["stale-data-volume"]
    assert f.title == ("the data directory was written by another major version 14 than the "
                       "server's 15.18 (volume pgdata -> /var/lib/postgresql/data): the server "
                       "refuses it")
    assert f.severity is Severity.ERROR
    mysql = container(["[ERROR] [MY-013171] [InnoDB] Cannot boot server version 80023 on data "
                       "directory built by version 80029. Downgrade is not supported"],
                      status="exited", exit_code=1)
    assert dict(findings(mysql)["stale-data-volume"].facts)["server version"] == "80023"
    # initdb refusing a mount point with lost+found is not a version problem.
    lost = container(['initdb: error: directory "/var/lib/postgresql/data" exists but is not '
                      'empty', "initdb: detail: It contains a lost+found directory, perhaps due "
                      "to it being a mount point."], status="exited", exit_code=1)
    assert "stale-data-volume" not in findings(lost)
