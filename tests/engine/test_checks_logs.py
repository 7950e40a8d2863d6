"""The D4xx log-signature checks on the real engine.

Every container here is really in its condition: a real write to a `--read-only` root, a real
full tmpfs, a real lookup on the embedded DNS server, a real refused connection, a real second
bind of a port, a real EACCES as uid 65534, a real fork past `--pids-limit`...  The tests
cross-check the condition with the docker CLI (exit code, `docker logs`), run the real tool once
over all of them, and assert the expected slug and that its look-alikes are not reported.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.engine import Engine, docker, wait_for
from tests.support.runs import Result, cause_ids, finding, findings, run_diagnose

LOG_SLUGS = {"read-only-filesystem", "no-space-left", "dns-resolution-failure",
             "dependency-unreachable", "address-in-use", "permission-denied", "missing-env-var",
             "bind-to-localhost", "too-many-open-files", "fork-failed", "pids-limit-reached",
             "bus-error-shm-exhausted"}


def free_port() -> int:
    """A host port nobody holds right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int) -> bytes:
    """What a client on the host gets from 127.0.0.1:port ('' when the server resets)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        try:
            return s.recv(200)
        except ConnectionResetError:
            return b""


def sh(script: str) -> tuple[str, ...]:
    return ("sh", "-c", script)


def exited(engine: Engine, name: str, code: int | None = None) -> dict[str, Any]:
    data = engine.wait_status(name, "exited", timeout=60)
    if code is not None:
        assert data["State"]["ExitCode"] == code, (name, data["State"])
    return data


def logs(name: str) -> str:
    out = docker("logs", name)
    return out.stdout + out.stderr


@pytest.fixture(scope="module")
def made(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Every condition, created together; then one real diagnose run over all of them."""
    c: dict[str, Any] = {}
    net = engine.network("logs-net")
    subnet = json.loads(docker("network", "inspect", net).stdout)[0]["IPAM"]["Config"][0][
        "Subnet"]
    nobody_ip = str(ipaddress.ip_network(subnet).network_address + 250)
    vol = engine.volume("logs-data")
    host_dir = tmp_path_factory.mktemp("bind-root-owned")
    host_dir.chmod(0o755)

    # D401: --read-only and a write; a read-only volume; a --read-only container writing only
    # into its tmpfs (healthy).
    c["ro"] = engine.run("ro", "--read-only", cmd=sh("echo 1 > /app.pid"))
    c["ro-mount"] = engine.run("ro-mount", "-v", f"{vol}:/data:ro",
                               cmd=sh("mkdir /data/cache"))
    c["ro-ok"] = engine.run("ro-ok", "--read-only", "--tmpfs", "/tmp",
                            cmd=sh("echo 1 > /tmp/app.pid && echo started && exec sleep 100000"))
    # D402: a 64k tmpfs filled up, and /dev/shm filled up.
    c["full-tmpfs"] = engine.run("full-tmpfs", "--tmpfs", "/data:size=64k",
                                 cmd=sh("dd if=/dev/zero of=/data/blob bs=1k count=200"))
    c["full-shm"] = engine.run("full-shm", "--shm-size", "64k",
                               cmd=sh("dd if=/dev/zero of=/dev/shm/seg bs=1k count=200"))
    # D403: a name that does not exist, on a user-defined network (embedded DNS 127.0.0.11).
    c["dns"] = engine.run("dns", "--network", net,
                          cmd=sh("nslookup nosuchhost; nc nosuchhost 80"))
    # D404: localhost is the container itself; another container's closed port; a timeout to
    # an address nobody has; a running client that logged one refusal and goes on (warning).
    c["db"] = engine.run("db", "--network", net, cmd=("sleep", "100000"))
    c["localhost"] = engine.run("localhost", "--network", net,
                                cmd=sh("nc 127.0.0.1 5432 </dev/null"))
    c["closed-port"] = engine.run("closed-port", "--network", net,
                                  cmd=sh(f"nc {c['db']} 5432 </dev/null"))
    c["timeout"] = engine.run("timeout", "--network", net,
                              cmd=sh(f"nc -w 2 {nobody_ip} 5432 </dev/null"))
    c["refused-running"] = engine.run(
        "refused-running", cmd=sh("nc 127.0.0.1 6379 </dev/null; echo will retry later; "
                                  "exec sleep 100000"))
    # D405: two servers on one port in one container; a server in another container's network
    # namespace; and the engine's port-already-allocated (D108), which is not ours.
    c["two-servers"] = engine.run("two-servers",
                                  cmd=sh("nc -l -p 8080 & sleep 0.5; nc -l -p 8080"))
    c["holder"] = engine.run("holder", cmd=("nc", "-l", "-p", "8080"))
    wait_for(lambda: engine.inspect(c["holder"])["State"]["Running"], what="holder")
    time.sleep(0.5)
    c["sidecar"] = engine.run("sidecar", "--network", f"container:{c['holder']}",
                              cmd=("httpd", "-f", "-p", "8080"))
    port = free_port()
    c["published"] = engine.run("published", "-p", f"127.0.0.1:{port}:80",
                                cmd=("sleep", "100000"))
    c["port-taken"] = engine.run("port-taken", "-p", f"127.0.0.1:{port}:80",
                                 cmd=("sleep", "100000"), check=False)
    # D406: uid 65534 writing into a root-owned volume and a root-owned bind mount; the
    # look-alike: runc's exec-time `exec /run.sh: permission denied` (its interpreter is not
    # executable), which belongs to entrypoint-not-executable.
    c["perm-vol"] = engine.run("perm-vol", "--user", "65534", "-v", f"{engine.volume('pv')}:/data",
                               cmd=sh("echo x > /data/out"))
    c["perm-bind"] = engine.run("perm-bind", "--user", "65534", "-v", f"{host_dir}:/data",
                                cmd=sh("mkdir /data/sub"))
    image = engine.build("interp-noexec", "FROM diagnose-test/busybox:latest\n"
                         "COPY interp /usr/local/interp\nCOPY run.sh /run.sh\n"
                         'ENTRYPOINT ["/run.sh"]\n',
                         {"interp": "#!/bin/sh\necho never\n",
                          "run.sh": "#!/usr/local/interp\necho hi\n"})
    c["exec-denied"] = engine.run("exec-denied", image=image)
    # D407: set -u on an unset variable; ${X:?} on a variable set to the empty string.
    c["env-unset"] = engine.run("env-unset", cmd=sh('set -u; echo "connecting to $DB_HOST"'))
    c["env-empty"] = engine.run("env-empty", "-e", "API_URL=", cmd=sh(': "${API_URL:?}"'))
    # A secret's name: redaction must leave `${DB_PASSWORD:?}` and the shell's
    # `DB_PASSWORD: parameter not set` alone (it once took `?` and `parameter` for the secret,
    # and the check then saw neither).
    c["env-secret"] = engine.run("env-secret", cmd=sh(': "${DB_PASSWORD:?}"'))
    # D407 in the bare phrasing a program prints itself (`X_Y is not set`): claimed when
    # Config.Env lacks the variable; the same words about a variable it has are not.
    c["env-bare"] = engine.run("env-bare", cmd=sh(
        "echo 'web 2.3.0 starting'; echo 'fatal: DATABASE_URL is not set' >&2; exit 1"))
    c["env-bare-set"] = engine.run("env-bare-set", "-e", "CACHE_URL=redis://cache:6379/0",
                                   cmd=sh("echo 'fatal: CACHE_URL is not set' >&2; exit 1"))
    # D408: a server on 127.0.0.1 behind a published port, and one on all interfaces.
    c["lo-port"] = free_port()
    c["lo-only"] = engine.run("lo-only", "-p", f"127.0.0.1:{c['lo-port']}:8080", cmd=sh(
        "echo 'httpd: listening on 127.0.0.1:8080'; exec httpd -f -p 127.0.0.1:8080 -h /etc"))
    c["all-port"] = free_port()
    c["all-ifaces"] = engine.run("all-ifaces", "-p", f"127.0.0.1:{c['all-port']}:8080", cmd=sh(
        "echo 'httpd: listening on 0.0.0.0:8080'; exec httpd -f -p 8080 -h /etc"))
    # D409 and D410: a 16-descriptor ulimit, and a 6-process pids limit.
    # (Not /etc/passwd: redaction reads `/etc/passwd: Too many` as `passwd: <secret>`.)
    c["nofile"] = engine.run("nofile", "--ulimit", "nofile=16:16", cmd=sh(
        'i=3; while [ $i -lt 40 ]; do eval "exec $i</etc/group"; i=$((i+1)); done'))
    c["pids"] = engine.run("pids", "--pids-limit", "6", cmd=sh(
        "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done; wait"))
    # Healthy: logs that mention permissions, space and connections in passing.
    c["healthy"] = engine.run("healthy", cmd=sh(
        "echo 'checking file permissions... ok'; echo 'user has permission to read /data'; "
        "echo 'no space issues, 12 GiB free'; echo 'connected to db:5432'; "
        "echo 'listening on 0.0.0.0:8080'; exec sleep 100000"))

    for key in ("ro", "ro-mount", "full-tmpfs", "full-shm", "dns", "localhost", "closed-port",
                "timeout", "two-servers", "perm-vol", "perm-bind", "exec-denied", "env-unset",
                "env-empty", "env-secret", "env-bare", "env-bare-set", "nofile", "pids"):
        exited(engine, c[key])
    exited(engine, c["sidecar"])
    for key in ("ro-ok", "refused-running", "lo-only", "all-ifaces", "healthy"):
        wait_for(lambda k=key: engine.inspect(c[k])["State"]["Running"] and logs(c[k]),
                 what=f"{key} running")
    wait_for(lambda: "will retry" in logs(c["refused-running"]), what="refused-running logs")

    names = [v for k, v in c.items() if isinstance(v, str) and k not in ("published",)]
    out = tmp_path_factory.mktemp("logs-bundle")
    c["result"] = run_diagnose(*names, "--format", "json", "--quiet", "--exit-zero",
                               "--output", str(out), cwd=out, timeout=300)
    assert c["result"].code == 0, c["result"].stderr
    return c


def ids(made: dict[str, Any], key: str) -> set[str]:
    return cause_ids(made["result"], made[key])


def one(made: dict[str, Any], key: str, slug: str) -> dict[str, Any]:
    found = [f for f in findings(made["result"], made[key]) if f["id"] == slug]
    assert len(found) == 1, (key, slug, sorted(ids(made, key)))
    return found[0]


def facts(f: dict[str, Any]) -> dict[str, str]:
    return {x["name"]: x["value"] for x in f["facts"]}


def log_refs(f: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in f["evidence"] if e["lines"]]


# -- D401 ---------------------------------------------------------------------------------------

def test_read_only_rootfs(engine, made):
    assert engine.inspect(made["ro"])["HostConfig"]["ReadonlyRootfs"] is True
    assert "sh: can't create /app.pid: Read-only file system" in logs(made["ro"])
    f = one(made, "ro", "read-only-filesystem")
    assert f["severity"] == "error" and f["code"] == "D401"
    assert "the container's root filesystem (read-only: --read-only)" in f["title"]
    assert log_refs(f)[0]["excerpt"] == "sh: can't create /app.pid: Read-only file system"
    assert log_refs(f)[0]["ref"].endswith("/logs/stderr.log#L1")
    assert any(e["pointer"] == "/HostConfig/ReadonlyRootfs" for e in f["evidence"])
    assert ids(made, "ro") & LOG_SLUGS == {"read-only-filesystem"}


def test_read_only_mount(made):
    assert "Read-only file system" in logs(made["ro-mount"])
    f = one(made, "ro-mount", "read-only-filesystem")
    assert "volume" in f["title"] and "-> /data (read-only)" in f["title"]
    assert "permission-denied" not in ids(made, "ro-mount")


def test_read_only_rootfs_with_a_tmpfs_is_healthy(made):
    assert not ids(made, "ro-ok")


# -- D402 ---------------------------------------------------------------------------------------

def test_full_tmpfs(made):
    assert "No space left on device" in logs(made["full-tmpfs"])
    f = one(made, "full-tmpfs", "no-space-left")
    assert f["severity"] == "error" and f["title"] == "the tmpfs at /data is full (size=64k)"
    assert any(e["pointer"] == "/HostConfig/Tmpfs/~1data" for e in f["evidence"])


def test_full_shm_is_told_apart(made):
    f = one(made, "full-shm", "bus-error-shm-exhausted")
    assert f["title"] == "a shared memory segment did not fit in /dev/shm: /dev/shm is 64 KiB"
    assert any("--shm-size" in cmd for cmd in f["remediation"]["commands"])
    assert "no-space-left" not in ids(made, "full-shm")


# -- D403 ---------------------------------------------------------------------------------------

def test_dns_on_a_user_defined_network(made):
    text = logs(made["dns"])
    assert "127.0.0.11" in text and "nc: bad address 'nosuchhost'" in text
    f = one(made, "dns", "dns-resolution-failure")
    assert f["severity"] == "error"
    assert f["title"].startswith("`nosuchhost` does not resolve: no running container or alias")
    assert "127.0.0.11" in f["title"]
    assert facts(f)["HostConfig.NetworkMode"].endswith("logs-net")
    assert ids(made, "dns") & LOG_SLUGS == {"dns-resolution-failure"}


def test_dns_restart_loop_counts_repeats_and_quotes_the_latest(engine, diagnose):
    # On the default bridge, in a restart loop that gives up after 3 restarts.  Diagnosed on
    # its own and at once: dockerd keeps only its latest 256 events, and the run count needs
    # this container's (other engineers share the engine).
    name = engine.run("dns-loop", "--restart", "on-failure:3", cmd=sh("nc db 5432 </dev/null"))
    wait_for(lambda: (d := engine.inspect(name))["RestartCount"] == 3
             and d["State"]["Status"] == "exited", timeout=60, what="dns-loop to give up")
    assert logs(name).count("nc: bad address 'db'") == 4
    r = diagnose(name, "--format", "json", "--quiet", "--exit-zero")
    f = finding(r, "dns-resolution-failure", name)
    fx = facts(f)
    assert fx["matching log lines"] == "4"
    events = json.loads(r.members()[f"containers/{name}/events.json"])
    if any(e["Action"] == "create" for e in events):
        assert fx["runs that logged it"] == "4 of 4"
        assert fx["repeated"] == "4x in 4 runs: nc: bad address 'db'"
    else:  # the ring already dropped our oldest events: counted, but not split into runs
        assert fx["runs that logged it"].startswith("unknown of 4")
        assert fx["repeated"] == "4x: nc: bad address 'db'"
    refs = log_refs(f)
    assert len(refs) == 1 and refs[0]["lines"] == [4, 4]
    assert "default bridge network" in f["title"] and f["severity"] == "error"


# -- D404 ---------------------------------------------------------------------------------------

def test_localhost_is_the_container_itself(made):
    assert "can't connect to remote host (127.0.0.1): Connection refused" in logs(
        made["localhost"])
    f = one(made, "localhost", "dependency-unreachable")
    assert f["severity"] == "error"
    assert "inside a container localhost is the container itself" in f["title"]
    assert ids(made, "localhost") & LOG_SLUGS == {"dependency-unreachable"}


def test_another_containers_closed_port(engine, made):
    db_ip = engine.inspect(made["db"])["NetworkSettings"]["Networks"]
    ip = next(iter(db_ip.values()))["IPAddress"]
    assert f"({ip}): Connection refused" in logs(made["closed-port"])
    f = one(made, "closed-port", "dependency-unreachable")
    assert f"connection to {ip} ({made['db']}) refused" in f["title"]
    assert facts(f)[ip].startswith(f"container {made['db']} on network")
    assert "dns-resolution-failure" not in ids(made, "closed-port")


def test_connection_timed_out(made):
    assert "nc: timed out" in logs(made["timeout"])
    f = one(made, "timeout", "dependency-unreachable")
    assert f["title"] == "a connection timed out (the log names no target)"


def test_a_running_client_that_logged_a_refusal_gets_a_warning(made):
    f = one(made, "refused-running", "dependency-unreachable")
    assert f["severity"] == "warning"


# -- D405 ---------------------------------------------------------------------------------------

def test_two_servers_in_one_container(made):
    assert "nc: bind: Address already in use" in logs(made["two-servers"])
    f = one(made, "two-servers", "address-in-use")
    assert f["severity"] == "error"
    assert "another process in the same container" in f["title"]


def test_a_server_in_another_containers_namespace(engine, made):
    assert "httpd: bind: Address already in use" in logs(made["sidecar"])
    f = one(made, "sidecar", "address-in-use")
    holder_id = engine.inspect(made["holder"])["Id"]
    assert f"network namespace of {holder_id[:12]}" in f["title"]


def test_engine_port_allocation_is_not_ours(engine, made):
    state = engine.inspect(made["port-taken"])["State"]
    assert "port is already allocated" in state["Error"] and state["Status"] == "created"
    assert not ids(made, "port-taken") & LOG_SLUGS


# -- D406 ---------------------------------------------------------------------------------------

def test_uid_65534_in_a_root_owned_volume(made):
    assert "sh: can't create /data/out: Permission denied" in logs(made["perm-vol"])
    f = one(made, "perm-vol", "permission-denied")
    assert f["severity"] == "error"
    assert f["title"].startswith("user 65534 was denied access to /data/out (on volume ")
    assert any("chown -R 65534" in cmd for cmd in f["remediation"]["commands"])
    assert any(e["pointer"] == "/Config/User" for e in f["evidence"])


def test_uid_65534_in_a_root_owned_bind_mount(made):
    f = one(made, "perm-bind", "permission-denied")
    assert "/data/sub (on bind " in f["title"]
    assert facts(f)["Config.User"] == "65534"


def test_runc_exec_permission_denied_is_not_a_data_path(made):
    assert logs(made["exec-denied"]).strip() == "exec /run.sh: permission denied"
    assert "permission-denied" not in ids(made, "exec-denied")


# -- D407 ---------------------------------------------------------------------------------------

def test_unset_variable_under_set_u(made):
    assert "sh: DB_HOST: parameter not set" in logs(made["env-unset"])
    f = one(made, "env-unset", "missing-env-var")
    assert f["title"] == "DB_HOST is not set" and f["severity"] == "error"


def test_variable_set_to_empty(made):
    f = one(made, "env-empty", "missing-env-var")
    assert "sh: API_URL: parameter not set or null" in logs(made["env-empty"])
    assert facts(f)["Config.Env API_URL"] == "set but empty"
    assert f["title"] == "API_URL is empty or not set"


def test_an_unset_secret_variable_is_named_and_its_expansion_left_readable(made):
    f = one(made, "env-secret", "missing-env-var")
    assert f["title"] == "DB_PASSWORD is not set"
    assert any("DB_PASSWORD: parameter not set" in e["excerpt"] for e in log_refs(f))
    inspect = json.loads(made["result"].members()[f"containers/{made['env-secret']}/inspect.json"])
    assert inspect["Args"][-1] == ': "${DB_PASSWORD:?}"'


def test_a_program_saying_a_variable_is_not_set_confirmed_by_config_env(made):
    f = one(made, "env-bare", "missing-env-var")
    assert f["title"] == "DATABASE_URL is not set" and f["severity"] == "error"
    assert facts(f)["Config.Env DATABASE_URL"] == "not set"
    # The same words about a variable the container has: not this cause.
    assert "missing-env-var" not in ids(made, "env-bare-set")
    assert "app-exit-error" in ids(made, "env-bare-set")


# -- D408 ---------------------------------------------------------------------------------------

def test_server_on_loopback_behind_a_published_port(made):
    assert http_get(made["lo-port"]) == b""  # the published port really cannot reach it
    f = one(made, "lo-only", "bind-to-localhost")
    assert f["severity"] == "warning" and "127.0.0.1:8080" in f["title"]


def test_server_on_all_interfaces_is_fine(made):
    assert http_get(made["all-port"]).startswith(b"HTTP/1.")
    assert not ids(made, "all-ifaces")


# -- D409, D410 ----------------------------------------------------------------------------------

def test_too_many_open_files(made):
    assert "Too many open files" in logs(made["nofile"])
    f = one(made, "nofile", "too-many-open-files")
    assert f["title"] == "out of file descriptors at its nofile limit of 16"


def test_fork_past_the_pids_limit(made):
    assert "can't fork: Resource temporarily unavailable" in logs(made["pids"])
    f = one(made, "pids", "pids-limit-reached")
    assert f["title"] == ("could not start a process or thread: the container reached its "
                          "pids limit of 6")
    assert "fork-failed" not in ids(made, "pids")
    assert any(e["pointer"] == "/HostConfig/PidsLimit" for e in f["evidence"])


# -- healthy, and offline analysis -------------------------------------------------------------

def test_healthy_container_gets_nothing(made, diagnose):
    assert not ids(made, "healthy")
    r = diagnose(made["healthy"], "--quiet")
    assert r.code == 0, r.stdout + r.stderr


def test_analyze_reproduces_the_live_findings(made, tmp_path: Path):
    result: Result = made["result"]
    assert result.bundle is not None
    offline = run_diagnose("analyze", str(result.bundle), "--format", "json", "--exit-zero",
                           cwd=tmp_path)
    assert offline.code == 0, offline.stderr

    def strip(doc: dict[str, Any]) -> list[Any]:
        return sorted(((t["name"], f["id"], f["severity"], f["title"], f["facts"], f["evidence"])
                       for t in doc["targets"] for f in t["findings"]), key=repr)

    assert strip(offline.json()) == strip(result.json())
