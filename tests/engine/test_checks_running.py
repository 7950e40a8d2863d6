"""Running but unwell: restart loops, health, paused, dead, zombies; and the healthy baseline.

Every condition is real, produced on the engine and diagnosed at once.  Health-checked
containers are removed as soon as they are diagnosed: each probe is three engine events, and
the engine keeps only about 256 of them for everyone.
"""

from __future__ import annotations

import json
import time

import psutil
import pytest

from tests.support import states
from tests.support.checkkit import (
    facts,
    ids,
    none_of,
    only,
    report,
    strip_volatile,
    verdict,
    worst,
)
from tests.support.engine import docker, wait_for

EXIT_SLUGS = {"oom-killed", "killed-after-stop-timeout", "killed-by-signal", "segfault",
              "app-exit-error", "command-not-found", "missing-shared-library",
              "exited-immediately"}
RUNNING_SLUGS = {"restart-loop", "unhealthy", "paused", "dead", "zombie-processes"}
HEALTH = ("--health-interval", "1s", "--health-retries", "1")


def test_restart_loop_points_to_the_exit_behind_it(engine, diagnose):
    c = states.make_restarting(engine)
    r = report(diagnose, c)
    try:
        loop = only(r, c, "restart-loop")
        cause = only(r, c, "app-exit-error")
        assert loop["severity"] == "warning" and cause["severity"] == "error"
        fx = facts(loop)
        assert fx["underlying cause"] == "app-exit-error"
        assert fx["status"].startswith("restarting")
        assert int(fx["RestartCount"]) >= 6
        assert "see app-exit-error" in loop["title"]
        # The cause, not the loop, is the verdict.
        assert verdict(r, c) == "app-exit-error"
        assert cause["title"] == "exited with code 1: boom"
        assert any("docker update --restart=no" in x for x in loop["remediation"]["commands"])
        none_of(r, c, EXIT_SLUGS - {"app-exit-error"})
    finally:
        docker("update", "--restart=no", c, check=False)
        docker("rm", "-f", c, check=False)


def test_restart_loop_of_a_quick_successful_exit(engine, diagnose):
    c = engine.run("loop0", "--restart", "always", cmd=("sh", "-c", "echo up; sleep 1000 &"))
    # Caught at the start of a long back-off (100 ms doubling: ~6 s after 6 restarts).
    wait_for(lambda: engine.inspect(c)["RestartCount"] >= 6, timeout=60, what="restarts")
    count = engine.inspect(c)["RestartCount"]
    wait_for(lambda: (d := engine.inspect(c))["RestartCount"] > count
             and d["State"]["Status"] == "restarting", timeout=60, interval=0.05,
             what="a fresh back-off")
    r = report(diagnose, c)
    try:
        loop = only(r, c, "restart-loop")
        assert facts(loop)["underlying cause"] == "exited-immediately"
        quick = only(r, c, "exited-immediately")
        assert quick["severity"] == "warning"
        assert verdict(r, c) == "exited-immediately"
    finally:
        docker("update", "--restart=no", c, check=False)
        docker("rm", "-f", c, check=False)


def test_unhealthy_app_down_vs_probe_missing(engine, diagnose):
    down = engine.run("hc-down", "--health-cmd", "cat /tmp/ready", *HEALTH,
                      cmd=("sleep", "100000"))
    shell_form = engine.run("hc-nocurl", "--health-cmd", "curl -fsS http://127.0.0.1:8080/",
                            *HEALTH, cmd=("sleep", "100000"))
    image = engine.build("hc-exec", "FROM diagnose-test/busybox:latest\n"
                         "HEALTHCHECK --interval=1s --retries=1 "
                         "CMD [\"curl\", \"-f\", \"http://127.0.0.1/\"]\n"
                         "CMD [\"sleep\", \"100000\"]\n")
    exec_form = engine.run("hc-exec", image=image)
    names = (down, shell_form, exec_form)
    try:
        for c in names:
            wait_for(lambda c=c: engine.inspect(c)["State"]["Health"]["Status"] == "unhealthy",
                     timeout=30, what=f"{c} unhealthy")
        r = report(diagnose, *names)
    finally:
        docker("rm", "-f", *names, check=False)

    f = only(r, down, "unhealthy")
    assert f["severity"] == "error"
    fx = facts(f)
    assert "the application is down" in fx["reading"]
    assert "can't open '/tmp/ready'" in fx["last failing output"]
    assert "cat: found at /bin/cat" in fx["probe program in the image"]
    assert any(e["ref"].startswith(f"containers/{down}/inspect.json#/State/Health/Log/")
               and "/tmp/ready" in e["excerpt"] for e in f["evidence"])

    for name, code in ((shell_form, "127"), (exec_form, "-1")):
        f = only(r, name, "unhealthy")
        assert f["severity"] == "warning", name
        fx = facts(f)
        assert "probe is broken" in fx["reading"]
        assert "curl: not found" in fx["probe program in the image"]
        assert code in fx["probe exit codes (latest last)"]
        assert "`curl` is not in the image" in f["title"]
    assert "executable file not found" in facts(only(r, exec_form, "unhealthy"))[
        "last failing output"]
    for name in names:
        none_of(r, name, (RUNNING_SLUGS - {"unhealthy"}) | EXIT_SLUGS)


def test_healthy_containers_get_nothing_of_warning_or_worse(engine, diagnose):
    plain = states.make_running(engine, "healthy-plain")
    checked = engine.run("healthy-hc", "--health-cmd", "test -d /", *HEALTH,
                         cmd=("sleep", "100000"))
    try:
        wait_for(lambda: engine.inspect(checked)["State"]["Health"]["Status"] == "healthy",
                 timeout=30, what="healthy")
        r = diagnose(plain, checked, "--format", "json", "--quiet")
        strict = diagnose(plain, checked, "--quiet", "--fail-on", "warning")
    finally:
        docker("rm", "-f", checked, check=False)
    assert r.code == 0, r.stderr
    assert strict.code == 0, strict.stdout
    for name in (plain, checked):
        assert worst(r, name) < 20, ids(r, name)
        none_of(r, name, RUNNING_SLUGS | EXIT_SLUGS)


def test_stopped_container_with_a_passing_healthcheck_is_not_unhealthy(engine, diagnose):
    c = engine.run("hc-stopped", "--health-cmd", "true", *HEALTH, cmd=("sleep", "100000"))
    wait_for(lambda: engine.inspect(c)["State"]["Health"]["Status"] == "healthy",
             timeout=30, what="healthy")
    docker("kill", c)
    engine.wait_status(c, "exited")
    # The engine itself flips a stopped container's health to "unhealthy".
    assert engine.inspect(c)["State"]["Health"]["Status"] == "unhealthy"
    r = report(diagnose, c)
    none_of(r, c, {"unhealthy"})
    assert "killed-by-signal" in ids(r, c)


def test_paused(engine, diagnose):
    c = states.make_paused(engine)
    try:
        r = report(diagnose, c)
        f = only(r, c, "paused")
        assert f["severity"] == "warning"
        assert facts(f)["State.Paused"] == "yes"
        assert f"docker unpause {c}" in f["remediation"]["commands"]
        none_of(r, c, (RUNNING_SLUGS - {"paused"}) | EXIT_SLUGS)
    finally:
        docker("unpause", c, check=False)


def test_dead(engine, diagnose):
    c = states.make_dead(engine)
    try:
        r = report(diagnose, c)
        f = only(r, c, "dead")
        assert f["severity"] == "error"
        fx = facts(f)
        assert "failed to remove root filesystem" in fx["removal error"]
        assert fx["blocked on"].endswith("diagnose-pin: operation not permitted")
        assert any(x.startswith("chattr -i ") for x in f["remediation"]["commands"])
        # The container is the one diagnosed: no command removes it.
        assert not any("docker rm" in x for x in f["remediation"]["commands"])
        # rm -f killed it (exit 137) before the removal failed: history, not the story.
        assert engine.inspect(c)["State"]["ExitCode"] == 137
        none_of(r, c, (RUNNING_SLUGS - {"dead"}) | EXIT_SLUGS)
        assert verdict(r, c) == "dead"
    finally:
        states.release_dead(engine, c)


ZOMBIE_MAKER = ("sh", "-c", "for i in 1 2 3 4 5; do (sleep 0.2 &); done; exec sleep 100000")


@pytest.mark.parametrize("init", [False, True])
def test_zombie_processes_and_init_reaps_them(engine, diagnose, init):
    # Each `(sleep 0.2 &)` is orphaned at once and re-parented to PID 1, which then becomes
    # `sleep`: it never waits, so the orphans stay zombies.  With --init, docker-init reaps.
    args = ("--init",) if init else ()
    c = engine.run("zombies-init" if init else "zombies", *args, cmd=ZOMBIE_MAKER)
    pid = engine.inspect(c)["State"]["Pid"]
    if init:
        wait_for(lambda: "sleep 100000" in docker("top", c).stdout, what="sleep")
        time.sleep(1)  # the orphans' 0.2 s are over: any zombie would be there now
    else:
        # `docker top` cannot show zombies (they have left the cgroup): look from the host.
        wait_for(lambda: sum(ch.status() == psutil.STATUS_ZOMBIE
                             for ch in psutil.Process(pid).children()) >= 5, what="5 zombies")
    r = report(diagnose, c)
    procs = json.loads(r.members()[f"containers/{c}/processes.json"])
    assert procs["pid1"] == pid
    if init:
        none_of(r, c, {"zombie-processes"})
        assert worst(r, c) < 20
        assert not [p for p in procs["processes"] if p["status"] == "zombie"]
        return
    f = only(r, c, "zombie-processes")
    assert f["severity"] == "warning"
    fx = facts(f)
    assert fx["zombies"] == "5" and fx["their names"] == "sleep"
    assert fx["parent"].startswith("PID 1 of the container: sleep 100000")
    assert "--init" in f["title"]
    assert any("--init" in x for x in f["remediation"]["commands"])
    none_of(r, c, (RUNNING_SLUGS - {"zombie-processes"}) | EXIT_SLUGS)


def test_analyze_reports_the_same_findings_as_the_live_run(engine, diagnose):
    ignores = engine.run("an-stop", cmd=("sh", "-c", 'trap "" TERM; while true; do sleep 1; done'))
    cnf = engine.run("an-cnf", cmd=("sh", "-c", "echo starting; nosuchcmd"))
    zombies = engine.run("an-zombies", cmd=ZOMBIE_MAKER)
    probe = engine.run("an-hc", "--health-cmd", "curl -f http://127.0.0.1/", *HEALTH,
                       cmd=("sleep", "100000"))
    paused = states.make_paused(engine)
    names = (ignores, cnf, zombies, probe, paused)
    try:
        docker("stop", "-t", "1", ignores)
        engine.wait_status(cnf, "exited")
        wait_for(lambda: engine.inspect(probe)["State"]["Health"]["Status"] == "unhealthy",
                 timeout=30, what="unhealthy")
        zpid = engine.inspect(zombies)["State"]["Pid"]
        wait_for(lambda: sum(ch.status() == psutil.STATUS_ZOMBIE
                             for ch in psutil.Process(zpid).children()) >= 5, what="zombies")
        live = diagnose(*names, "--format", "json", "--quiet")
    finally:
        docker("rm", "-f", probe, check=False)
        docker("unpause", paused, check=False)
    assert live.code == 1, live.stderr
    offline = diagnose("analyze", str(live.bundle), "--format", "json")
    assert offline.code == 1, offline.stderr
    assert strip_volatile(live.json()) == strip_volatile(offline.json())
    expected = {ignores: "killed-after-stop-timeout", cnf: "command-not-found",
                zombies: "zombie-processes", probe: "unhealthy", paused: "paused"}
    for name, slug in expected.items():
        assert slug in ids(live, name), (name, ids(live, name))
        assert ids(live, name) == ids(offline, name)
    assert strip_volatile(json.loads(live.members()["findings.json"])) == \
        strip_volatile(live.json())
