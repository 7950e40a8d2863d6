"""The rest of the failure taxonomy (issue 16), reproduced the way it happens in the wild.

Real programs fail here with their own messages: glibc's heap checks, libstdc++'s uncaught
exception, Node's V8 heap limit, PostgreSQL's parallel query on a 64 MiB /dev/shm.  The images
come from `scripts/images.sh` (docs/taxonomy-notes.md says how each was measured); a missing
image is a failure with what to run, never a skip.  Containers that can share one diagnosis
run share it (one `diagnose` per test), and every test has a look-alike that must not be
reported as the class.
"""

from __future__ import annotations

import pytest

from tests.support.checkkit import facts, ids, none_of, only, report, verdict
from tests.support.engine import docker, wait_for
from tests.support.private_engine import PrivateEngine

CRASH = "diagnose-test/taxo-crash:latest"
NODE = "diagnose-test/taxo-node:latest"
POSTGRES = "diagnose-test/taxo-postgres:latest"
ARM64 = "diagnose-test/taxo-arm64:latest"
SHADOW = "diagnose-test/taxo-shadow:latest"
BASE = "diagnose-test/busybox:latest"
SIGNAL_DEATHS = {"oom-killed", "killed-after-stop-timeout", "killed-by-signal", "segfault",
                 "aborted", "bus-error-shm-exhausted"}


@pytest.fixture(scope="module")
def taxo_images(engine):
    """The taxonomy images must exist (scripts/images.sh builds them in about 10 s)."""
    for image in (CRASH, NODE, POSTGRES, ARM64, SHADOW):
        if docker("image", "inspect", image, check=False).returncode != 0:
            pytest.fail(f"{image} is missing; run scripts/images.sh", pytrace=False)
    return engine


def _exited(engine, *names: str) -> None:
    for name in names:
        engine.wait_status(name, "exited")


def test_aborted_glibc_cxx_and_v8_heap_told_apart_from_oom_and_segfault(taxo_images, diagnose):
    engine = taxo_images
    dfree = engine.run("dfree", "--init", image=CRASH, cmd=("doublefree",))
    pid1 = engine.run("dfree-pid1", image=CRASH, cmd=("doublefree", "fastbin"))
    throw = engine.run("throw", "--init", image=CRASH, cmd=("throw",))
    v8 = engine.run("v8heap", "--init", image=NODE,
                    cmd=("node", "--max-old-space-size=32", "/opt/heap.js"))
    # Look-alikes: the kernel OOM killer (memory outside the V8 heap), a real NULL write.
    oom = engine.run("kernel-oom", "--memory", "96m", "--memory-swap", "96m", image=NODE,
                     cmd=("node", "/opt/heap.js", "offheap"))
    segv = engine.run("segv", image=CRASH, cmd=("segv",))
    _exited(engine, dfree, pid1, throw, v8, oom, segv)
    r = report(diagnose, dfree, pid1, throw, v8, oom, segv)

    f = only(r, dfree, "aborted")
    assert engine.inspect(dfree)["State"]["ExitCode"] == 134
    assert f["severity"] == "error" and f["confidence"] == "high"
    assert "double free" in f["title"] and "glibc" in facts(f)["kind"]

    # abort() as PID 1 exits 139: still an abort, not a segfault.
    f = only(r, pid1, "aborted")
    assert engine.inspect(pid1)["State"]["ExitCode"] == 139
    assert "double free or corruption" in f["title"]
    assert "PID 1" in facts(f)["signal"] and facts(f)["--init"] == "no"

    f = only(r, throw, "aborted")
    assert "uncaught C++ exception" in f["title"]
    assert any("what():" in e["excerpt"] for e in f["evidence"]), f["evidence"]

    f = only(r, v8, "aborted")
    fx = facts(f)
    assert "V8" in f["title"] and "not the kernel OOM killer" in f["title"]
    assert fx["V8 heap limit"].startswith("32 MiB") and fx["State.OOMKilled"] == "no"
    assert any("NODE_OPTIONS=--max-old-space-size" in cmd
               for cmd in f["remediation"]["commands"])
    for name in (dfree, pid1, throw, v8):
        assert ids(r, name) & (SIGNAL_DEATHS | {"app-exit-error"}) == {"aborted"}

    assert ids(r, oom) & (SIGNAL_DEATHS | {"app-exit-error"}) == {"oom-killed"}
    assert ids(r, segv) & (SIGNAL_DEATHS | {"app-exit-error"}) == {"segfault"}


def test_shm_exhausted_bus_error_enospc_and_postgres(taxo_images, diagnose):
    engine = taxo_images
    bus = engine.run("shm-bus", image=CRASH, cmd=("shmfill",))
    falloc = engine.run("shm-falloc", image=CRASH, cmd=("shmfill", "fallocate", "128"))
    # Look-alikes: the same program with room enough, and a full tmpfs that is not /dev/shm.
    roomy = engine.run("shm-roomy", "--shm-size", "256m", image=CRASH, cmd=("shmfill",))
    tmpfs = engine.run("tmpfs-full", "--tmpfs", "/data:size=1m", image=CRASH,
                       cmd=("dd", "if=/dev/zero", "of=/data/cache", "bs=64k", "count=64"))
    # PostgreSQL's parallel hash join whose shared hash table does not fit in 64 MiB: the
    # query fails with ENOSPC on "/PostgreSQL.N", the server stays up.
    pg = engine.run("pg-shm", image=POSTGRES)
    wait_for(lambda: docker("exec", pg, "pg_isready", "-q", check=False).returncode == 0,
             timeout=60, what="postgres to accept connections")
    q = docker("exec", pg, "psql", "-qU", "postgres",
               "-c", "CREATE TABLE t AS SELECT g, md5(g::text) AS h "
                     "FROM generate_series(1, 1000000) g",
               "-c", "SET parallel_setup_cost=0", "-c", "SET parallel_tuple_cost=0",
               "-c", "SET min_parallel_table_scan_size=0", "-c", "SET work_mem='1GB'",
               "-c", "SELECT count(*) FROM t a JOIN t b USING (h)", check=False)
    assert "could not resize shared memory segment" in q.stderr, q.stderr
    _exited(engine, bus, falloc, roomy, tmpfs)
    r = report(diagnose, bus, falloc, roomy, tmpfs, pg)

    f = only(r, bus, "bus-error-shm-exhausted")
    assert engine.inspect(bus)["State"]["ExitCode"] == 135
    assert f["severity"] == "error" and f["confidence"] == "high"
    assert "64 MiB (the default" in facts(f)["/dev/shm"]
    assert ids(r, bus) & (SIGNAL_DEATHS | {"app-exit-error", "no-space-left"}) == {
        "bus-error-shm-exhausted"}

    f = only(r, falloc, "bus-error-shm-exhausted")
    assert f["severity"] == "error"
    none_of(r, falloc, {"no-space-left", "app-exit-error"})

    f = only(r, pg, "bus-error-shm-exhausted")
    assert f["severity"] == "warning"  # the server survives the failed query
    assert "PostgreSQL" in f["title"] and "/dev/shm" in f["title"]
    assert any("--shm-size" in cmd for cmd in f["remediation"]["commands"])
    none_of(r, pg, {"no-space-left", "engine-disk-low"})

    assert engine.inspect(roomy)["State"]["ExitCode"] == 0
    none_of(r, roomy, {"bus-error-shm-exhausted"})
    only(r, tmpfs, "no-space-left")
    none_of(r, tmpfs, {"bus-error-shm-exhausted"})


def test_pids_limit_reached_and_how_close_told_apart_from_nproc(taxo_images, diagnose):
    engine = taxo_images
    threads = engine.run("pids-threads", "--pids-limit", "32", image=CRASH,
                         cmd=("spawn", "threads"))
    # A server's master process that stays up at its limit, retrying every second.
    keep = engine.run("pids-keep", "--pids-limit", "16", image=CRASH,
                      cmd=("spawn", "threads", "10000", "keep"))
    # Look-alike: the same EAGAIN from RLIMIT_NPROC (an unused uid: it counts host-wide).
    nproc = engine.run("nproc", "--user", "54321:54321", "--ulimit", "nproc=24:24",
                       image=CRASH, cmd=("spawn", "threads"))
    _exited(engine, threads, nproc)
    wait_for(lambda: "pthread_create failed" in docker("logs", keep, check=False).stderr,
             timeout=20, what="the kept spawner to reach its limit")
    r = report(diagnose, threads, keep, nproc)

    f = only(r, threads, "pids-limit-reached")
    assert f["severity"] == "error"
    assert f["title"].endswith("reached its pids limit of 32")
    assert "pthread_create failed" in " ".join(e["excerpt"] for e in f["evidence"])
    none_of(r, threads, {"fork-failed", "app-exit-error"})

    f = only(r, keep, "pids-limit-reached")
    assert f["severity"] == "warning"  # running: it logged the failure and lives on
    assert facts(f)["tasks in the cgroup now"].startswith("16 of 16")
    assert "(16 in use now)" in f["title"]

    f = only(r, nproc, "fork-failed")
    assert "nproc ulimit (24)" in f["title"]
    none_of(r, nproc, {"pids-limit-reached"})


def test_stale_postgres_data_volume_told_apart_from_lost_and_found(taxo_images, diagnose,
                                                                   tmp_path):
    engine = taxo_images
    vol = engine.volume("pgdata")
    data = f"{vol}:/var/lib/postgresql/data"
    first = engine.run("pg-old", "-v", data, image=POSTGRES)
    wait_for(lambda: docker("exec", first, "pg_isready", "-q", check=False).returncode == 0,
             timeout=60, what="postgres to initialise its volume")
    docker("stop", first)
    # Only PostgreSQL 15 is here: make the cluster look like 14's (the server's own check
    # reads PG_VERSION first; a real 14 volume differs only in what is not read).
    mark = engine.run("pg-mark", "-v", f"{vol}:/d", cmd=("sh", "-c", "echo 14 > /d/PG_VERSION"))
    engine.wait_status(mark, "exited")
    stale = engine.run("pg-stale", "-v", data, image=POSTGRES)
    # Look-alike: a mount point with lost+found that initdb will not use.
    mnt = tmp_path / "mnt"
    (mnt / "lost+found").mkdir(parents=True)
    lost = engine.run("pg-lost", "-v", f"{mnt}:/var/lib/postgresql/data", image=POSTGRES)
    _exited(engine, stale, lost)
    r = report(diagnose, stale, lost)

    f = only(r, stale, "stale-data-volume")
    assert f["severity"] == "error"
    fx = facts(f)
    assert fx["data directory written by"] == "version 14"
    assert fx["server version"].startswith("15")
    assert f"volume {vol} -> /var/lib/postgresql/data" in f["title"]
    none_of(r, stale, {"app-exit-error", "permission-denied"})

    none_of(r, lost, {"stale-data-volume"})


def test_image_platform_mismatch_told_apart_from_a_native_exec_format_error(taxo_images,
                                                                           diagnose):
    engine = taxo_images
    foreign = engine.run("arm64", image=ARM64)
    never = engine.create("arm64-created", image=ARM64)  # not started: a prediction
    # Look-alike: a native image whose script has no `#!` line.
    native = engine.run("noshebang", image=CRASH, cmd=("noshebang.sh",))
    _exited(engine, foreign, native)
    r = report(diagnose, foreign, never, native)

    f = only(r, foreign, "image-platform-mismatch")
    assert f["severity"] == "critical" and f["code"] == "D100"
    assert f["title"].startswith("the image is for linux/arm64/v8, the engine runs linux/amd64")
    assert "exec format error" in facts(f)["the run said"]
    assert verdict(r, foreign) == "image-platform-mismatch"
    assert any("--platform linux/amd64" in cmd for cmd in f["remediation"]["commands"])

    f = only(r, never, "image-platform-mismatch")
    assert f["severity"] == "warning" and "emulator" in f["title"]

    assert "exec-format-error" in ids(r, native)
    none_of(r, native, {"image-platform-mismatch"})


def test_gpu_request_without_a_gpu_runtime_told_apart_from_a_missing_device(taxo_images,
                                                                           diagnose):
    engine = taxo_images
    gpus = engine.name("gpus")
    # `docker run` fails (125) after creating the container: the engine's own start error.
    docker("run", "-d", "--label", engine.label, "--name", gpus, "--gpus", "all",
           "diagnose-test/busybox:latest", "sleep", "100", check=False)
    planned = engine.create("gpus-created", "--gpus", "1", cmd=("sleep", "100"))
    # Look-alike: a device node the host does not have (a driver problem, not the runtime).
    device = engine.name("nvidia-dev")
    docker("run", "-d", "--label", engine.label, "--name", device, "--device", "/dev/nvidia0",
           "diagnose-test/busybox:latest", "sleep", "100", check=False)
    assert "could not select device driver" in engine.inspect(gpus)["State"]["Error"]
    r = report(diagnose, gpus, planned, device)

    f = only(r, gpus, "gpu-runtime-missing")
    assert f["severity"] == "critical" and f["code"] == "D114"
    assert "no `nvidia` runtime" in f["title"]
    assert facts(f)["GPU requests"].startswith("count all")
    none_of(r, gpus, {"start-failed"})

    f = only(r, planned, "gpu-runtime-missing")
    assert f["severity"] == "warning" and "will fail when started" in f["title"]

    assert "start-failed" in ids(r, device)
    none_of(r, device, {"gpu-runtime-missing"})


ADD_CORS = ("RUN sed -i \"s|^const express = require('express');|const express = "
            "require('express');\\nconst cors = require('cors');|\" /app/server.js")


def test_mount_hides_the_image_content_told_apart_from_a_dependency_never_built_in(
        taxo_images, diagnose, tmp_path):
    engine = taxo_images
    empty = tmp_path / "empty"
    empty.mkdir()
    # v2 of the app adds a dependency (cors) to the image; v3 requires it but never got it.
    v2 = engine.build("shadow-v2", f"FROM {SHADOW}\nRUN mkdir -p /app/node_modules/cors && "
                      "echo 'module.exports = () => (q, s, n) => n();' "
                      f"> /app/node_modules/cors/index.js\n{ADD_CORS}\n")
    v3 = engine.build("shadow-v3", f"FROM {SHADOW}\n{ADD_CORS}\n")
    over_app = engine.create("over-app", "-v", f"{empty}:/app", image=SHADOW)
    docker("start", over_app, check=False)  # the start fails: the entrypoint is hidden
    over_deps = engine.run("over-deps", "-v", f"{empty}:/app/node_modules", image=SHADOW)
    # The in-the-wild case: a named volume filled by v1 hides v2's node_modules.
    vol = engine.volume("node-modules")
    v1 = engine.run("nm-v1", "-v", f"{vol}:/app/node_modules", image=SHADOW)
    wait_for(lambda: "listening" in docker("logs", v1, check=False).stdout, timeout=30,
             what="v1 to serve (and fill the volume)")
    stale = engine.run("nm-v2", "-v", f"{vol}:/app/node_modules", image=v2)
    never = engine.run("no-cors", image=v3)  # look-alike: nothing hides it, it was never there
    _exited(engine, over_deps, stale, never)
    r = report(diagnose, over_app, over_deps, v1, stale, never)

    f = only(r, over_app, "volume-shadows-image-content")
    assert f["severity"] == "error" and f["confidence"] == "high"
    assert f"bind {empty} -> /app" in f["title"] and "/app/start.sh" in f["title"]
    assert "entrypoint-not-found" in ids(r, over_app)

    f = only(r, over_deps, "volume-shadows-image-content")
    assert facts(f)["missing"] == "/app/node_modules/express"
    assert f["confidence"] == "medium" and "still possible" in facts(f)

    f = only(r, stale, "volume-shadows-image-content")
    assert facts(f)["missing"] == "/app/node_modules/cors"
    assert f"volume {vol} -> /app/node_modules" in f["title"]
    assert any(f"docker volume rm {vol}" in cmd for cmd in f["remediation"]["commands"])

    none_of(r, v1, {"volume-shadows-image-content"})  # an empty named volume is filled
    assert "app-exit-error" in ids(r, never)
    none_of(r, never, {"volume-shadows-image-content"})


def _unhealthy(engine, name: str) -> None:
    wait_for(lambda: engine.inspect(name)["State"]["Health"]["Status"] == "unhealthy",
             timeout=60, what=f"{name} to turn unhealthy")


def test_health_probe_starved_by_a_cpu_quota_told_apart_from_a_hang_and_a_fast_failure(
        taxo_images, diagnose):
    engine = taxo_images
    probe = ("--health-interval", "2s", "--health-timeout", "1s", "--health-retries", "2")
    # A busy app under a 2 % CPU quota: the probe (a real wget) cannot get CPU in time.
    starved = engine.run("hc-starved", "--cpus", "0.02", "--health-cmd",
                         "wget -q -O /dev/null http://127.0.0.1:8080/passwd", *probe,
                         cmd=("sh", "-c", "httpd -f -p 8080 -h /etc & while :; do :; done"))
    # Look-alikes: the app hangs (a CGI that sleeps, no quota), the probe fails fast.
    hang = engine.run("hc-hang", "--health-cmd",
                      "wget -q -O /dev/null http://127.0.0.1:8080/cgi-bin/slow", *probe,
                      cmd=("sh", "-c", "mkdir -p /www/cgi-bin && printf '#!/bin/sh\\nsleep 30\\n'"
                           " >/www/cgi-bin/slow && chmod +x /www/cgi-bin/slow && "
                           "exec httpd -f -p 8080 -h /www"))
    fast = engine.run("hc-fast", "--health-cmd", "wget -q -O /dev/null http://127.0.0.1:8081/",
                      *probe, cmd=("httpd", "-f", "-p", "8080", "-h", "/etc"))
    for name in (starved, hang, fast):
        _unhealthy(engine, name)
    r = report(diagnose, starved, hang, fast)

    f = only(r, starved, "health-check-timeout")
    assert f["severity"] == "error" and f["confidence"] == "high"
    assert "0.02-CPU quota" in f["title"]
    assert int(facts(f)["throttled CPU periods"].split("(")[1].split("%")[0]) >= 50
    assert verdict(r, starved) == "health-check-timeout"
    assert only(r, starved, "unhealthy")["severity"] == "warning"

    assert only(r, hang, "unhealthy")["severity"] == "error"
    assert "times out" in only(r, hang, "unhealthy")["title"]
    none_of(r, hang, {"health-check-timeout"})
    assert "runs and fails" in only(r, fast, "unhealthy")["title"]
    none_of(r, fast, {"health-check-timeout"})
    for name in (starved, hang, fast):
        docker("rm", "-f", name)  # the busy loop burns its quota until removed


def test_runtime_misconfigured_is_one_run_finding_not_a_per_container_mistake(engine,
                                                                             diagnose):
    """On a private engine whose default runtime is runc told to use systemd cgroups (the
    engine uses cgroupfs): every plain `docker run` fails alike."""
    pe = PrivateEngine("taxo-rt", {
        "runtimes": {"runc-systemd": {"path": "runc", "runtimeArgs": ["--systemd-cgroup"]},
                     "broken": {"path": "/usr/local/bin/no-such-runc"}},
        "default-runtime": "runc-systemd"})
    try:
        pe.start()
        pe.load_base_image()
        failing = [pe.run("rt-a"), pe.run("rt-b"), pe.run("rt-c", cmd=("httpd", "-f"))]
        ok = pe.run("rt-ok", "--runtime", "runc")
        # Look-alike: one container's own bad --runtime (not the engine's default).
        lone = pe.run("rt-lone", "--runtime", "broken")
        r = diagnose("-H", pe.host, *failing, ok, lone, "--format", "json", "--quiet",
                     "--exit-zero")
        assert r.code == 0, r.stderr
        found = [f for f in r.json()["run"]["findings"] if f["id"] == "runtime-misconfigured"]
        assert len(found) == 1, found
        f = found[0]
        assert f["severity"] == "critical" and f["code"] == "D609"
        assert "3 containers" in f["title"] and "expected cgroupsPath" in f["title"]
        fx = facts(f)
        assert set(fx["containers"].split(", ")) == set(failing)
        assert fx["engine default runtime"] == "runc-systemd"
        assert "--systemd-cgroup" in fx["runtime settings"]
        for name in failing:
            assert "start-failed" in ids(r, name)
        none_of(r, ok, {"start-failed"})
        assert "start-failed" in ids(r, lone)
    finally:
        pe.remove()


def test_host_or_daemon_restart_told_apart_from_a_program_exiting_255(engine, diagnose):
    """A private engine stopped gracefully, then crashed (dockerd, containerd, shims and
    containers killed at once): its containers' exits are the engine's doing."""
    pe = PrivateEngine("taxo-rs")
    try:
        pe.start()
        pe.load_base_image()
        # PID 1 sleep ignores SIGTERM: the graceful stop kills it after the stop timeout.
        stopped = pe.run("rs-stop", "--stop-timeout", "1")
        # Look-alike: a program that exits 255 itself, before any of it.
        own = pe.run("rs-own", cmd=("sh", "-c", "echo 'fatal: lost connection to the broker'; "
                                    "exit 255"))
        wait_for(lambda: pe.docker("inspect", "-f", "{{.State.Status}}", own).stdout.strip()
                 == "exited", timeout=30, what="the look-alike to exit")
        pe.stop()
        pe.start()
        crashed = pe.run("rs-crash")
        pe.crash()
        pe.start()
        r = diagnose("-H", pe.host, stopped, own, crashed, "--format", "json", "--quiet",
                     "--exit-zero")
        assert r.code == 0, r.stderr
        assert "engine/process.json" in r.members()
        for name, code in ((stopped, 137), (own, 255), (crashed, 255)):
            got = pe.docker("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip()
            assert got == str(code), (name, got)

        f = only(r, crashed, "host-or-daemon-restart")
        assert f["severity"] == "error" and f["confidence"] == "high"
        assert "power loss" in facts(f)["what happened"]
        none_of(r, crashed, {"app-exit-error"})

        f = only(r, stopped, "host-or-daemon-restart")
        assert f["confidence"] == "medium" and "docker stop" in facts(f)["still possible"]
        assert "before the engine started" in facts(f)["ended"]
        none_of(r, stopped, {"killed-by-signal", "killed-after-stop-timeout"})

        assert "app-exit-error" in ids(r, own)
        none_of(r, own, {"host-or-daemon-restart"})
    finally:
        pe.remove()


def test_events_dropped_lower_the_confidence_and_name_both_causes(engine, diagnose):
    """The engine keeps its last 256 events: flooded on a private engine (image tag/untag,
    no filesystem work), a `docker kill`'s 137 can no longer be told from a host-side kill or
    the host's OOM killer, while OOMKilled still proves the cgroup's OOM kill."""
    import docker as docker_sdk  # startup: only this test floods an engine through the SDK

    pe = PrivateEngine("taxo-ev")
    try:
        pe.start()
        pe.load_base_image()
        killed = pe.run("ev-kill")
        oom = pe.run("ev-oom", "--memory", "32m", "--memory-swap", "32m",
                     cmd=("sh", "-c", "x=a; while true; do x=$x$x; done"))
        pe.docker("kill", killed)
        wait_for(lambda: pe.docker("inspect", "-f", "{{.State.Status}}", oom).stdout.strip()
                 == "exited", timeout=60, what="the OOM kill")
        before = diagnose("-H", pe.host, killed, oom, "--format", "json", "--quiet",
                          "--exit-zero")
        f = only(before, killed, "killed-by-signal")
        assert f["confidence"] == "high" and "docker kill" in facts(f)["sent by"]

        api = docker_sdk.APIClient(base_url=pe.host)
        for i in range(150):  # 300 events: the ring holds 256
            api.tag(BASE, "flood", f"t{i}")
            api.remove_image(f"flood:t{i}", noprune=True)
        after = diagnose("-H", pe.host, killed, oom, "--format", "json", "--quiet",
                         "--exit-zero")
        f = only(after, killed, "killed-by-signal")
        fx = facts(f)
        assert f["confidence"] == "low" and "unknown" in fx["sent by"]
        assert "`docker kill`" in fx["still possible"] and "OOM killer" in fx["still possible"]
        f = only(after, oom, "oom-killed")
        assert f["confidence"] == "high"  # OOMKilled needs no events
    finally:
        pe.remove()
