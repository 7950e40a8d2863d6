"""Pieces of `diagnose watch` that need no engine: the --keep bound, the --exec hook (a real
process: its environment, no shell, the timeout), restart policies, the state of a container
removed before it was collected."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from diagnose.evidence.incidents import Incident
from diagnose.runs import hook as hook_module
from diagnose.runs.hook import hook_env, run_hook, stop_hooks
from diagnose.runs.watched import ended, prune, restarts

RECORD = {"bundle": "/b/diagnose-x.tar.gz", "verdict": "oom-killed", "code": "D201",
          "container": "web; rm -rf / $(reboot)", "id": "c" * 64, "incident": "oom",
          "exit_code": 137, "time": "2026-12-03T00:00:00.000Z", "runs": 1, "title": "t",
          "severity": "critical"}


def test_prune_keeps_the_newest(tmp_path: Path):
    for n in range(5):
        p = tmp_path / f"diagnose-c{n}-20261203T00000{n}Z.tar.gz"
        p.write_bytes(b"x")
        os.utime(p, ns=(n * 10**9, n * 10**9))
    (tmp_path / ".diagnose-c9.tar.gz.abc.tmp").write_bytes(b"being written")
    (tmp_path / "other.txt").write_bytes(b"")
    gone = prune(tmp_path, 2)
    assert [p.name[:12] for p in gone] == ["diagnose-c0-", "diagnose-c1-", "diagnose-c2-"]
    assert sorted(p.name[:12] for p in tmp_path.iterdir()) == [
        ".diagnose-c9", "diagnose-c3-", "diagnose-c4-", "other.txt"]


def test_prune_by_size_keeps_the_newest_whatever_its_size(tmp_path: Path):
    for n, size in enumerate((100, 200, 300, 5000)):
        p = tmp_path / f"diagnose-s{n}-x.tar.gz"
        p.write_bytes(b"x" * size)
        os.utime(p, ns=(n * 10**9, n * 10**9))
    assert [p.name for p in prune(tmp_path, None, 600)] == [
        "diagnose-s0-x.tar.gz", "diagnose-s1-x.tar.gz", "diagnose-s2-x.tar.gz"]
    assert [p.name for p in tmp_path.iterdir()] == ["diagnose-s3-x.tar.gz"]
    assert prune(tmp_path, 5, 10) == []


def test_hook_gets_the_incident_in_its_environment_never_as_words(tmp_path: Path):
    out = tmp_path / "env.txt"
    script = ("import os, sys; open(sys.argv[1], 'w').write(repr(sys.argv[2:]) + '\\n' + "
              "'\\n'.join(f'{k}={v}' for k, v in sorted(os.environ.items()) "
              "if k.startswith('DIAGNOSE_')))")
    said: list[str] = []
    run_hook([sys.executable, "-c", script, str(out), "a b", "$(reboot)"], RECORD, 30,
             said.append).join(30)
    lines = out.read_text().splitlines()
    assert lines[0] == repr(["a b", "$(reboot)"])
    env = dict(line.split("=", 1) for line in lines[1:])
    assert env["DIAGNOSE_BUNDLE"] == "/b/diagnose-x.tar.gz"
    assert env["DIAGNOSE_VERDICT"] == "oom-killed" and env["DIAGNOSE_CODE"] == "D201"
    assert env["DIAGNOSE_CONTAINER"] == "web; rm -rf / $(reboot)"
    assert env["DIAGNOSE_EXIT_CODE"] == "137" and said == []


def test_hook_that_fails_hangs_or_is_missing_is_reported(tmp_path: Path):
    said: list[str] = []
    run_hook([sys.executable, "-c", "raise SystemExit(3)"], RECORD, 30, said.append).join(30)
    hung = run_hook([sys.executable, "-c", "import time; time.sleep(600)"], RECORD, 1,
                    said.append)
    hung.join(120)
    assert not hung.is_alive()  # killed after its timeout, not waited for
    run_hook([str(tmp_path / "nope")], RECORD, 5, said.append).join(30)
    assert said[0].endswith("exited 3")
    assert "still running after 1 s; killed" in said[1]
    assert "cannot run it" in said[2]


def test_hooks_still_running_are_killed_when_the_watch_stops():
    said: list[str] = []
    hung = run_hook([sys.executable, "-c", "import time; time.sleep(600)"], RECORD, 600,
                    said.append)
    for _ in range(1200):  # until it runs
        if hook_module.running_count():
            break
        hung.join(0.05)
    stop_hooks()
    hung.join(120)
    assert not hung.is_alive()  # killed by the stop (SIGKILL), not by its 600 s timeout
    assert len(said) == 1 and said[0].endswith("exited -9")


def test_hook_env_and_restart_policies():
    env = hook_env({**RECORD, "verdict": None}, {"PATH": "/bin"})
    assert env["PATH"] == "/bin" and env["DIAGNOSE_VERDICT"] == ""
    assert restarts({"HostConfig": {"RestartPolicy": {"Name": "always"}}})
    assert not restarts({"HostConfig": {"RestartPolicy": {"Name": "no"}}})
    assert restarts({"HostConfig": {"RestartPolicy": {"Name": "on-failure",
                                                      "MaximumRetryCount": 3}},
                     "RestartCount": 2})
    assert not restarts({"HostConfig": {"RestartPolicy": {"Name": "on-failure",
                                                          "MaximumRetryCount": 3}},
                         "RestartCount": 3})
    assert not restarts(None)


def test_ended_writes_the_die_into_the_start_inspect():
    seen = {"Id": "c", "State": {"Status": "running", "Running": True, "Pid": 42,
                                 "ExitCode": 0, "StartedAt": "2026-12-03T00:00:00Z"}}
    inc = Incident("c", "n", "exit", 1_764_720_000.5, exit_code=4)
    state = ended(seen, inc, None)["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 4 and not state["Running"]
    assert state["FinishedAt"].endswith("Z") and state["StartedAt"] == "2026-12-03T00:00:00Z"
    assert seen["State"]["Status"] == "running"  # the cached inspect is left alone


def test_names_and_ids_select_without_asking_the_engine(tmp_path: Path):
    from diagnose.model.options import RunOptions
    from diagnose.runs.watch import Watch, WatchOptions

    opts = WatchOptions(RunOptions(targets=("web", "3f2a"), output_dir=tmp_path,
                                   hosts=("unix:///nonexistent.sock",)))
    w = Watch(opts, print, print)
    web = {"Actor": {"ID": "a" * 64, "Attributes": {"name": "web"}}}
    other = {"Actor": {"ID": "b" * 64, "Attributes": {"name": "webby"}}}
    assert w.chosen("a" * 64, web) and not w.chosen("b" * 64, other)
    assert w.chosen("3f2a" + "0" * 60, {"Actor": {"ID": "3f2a", "Attributes": {}}})
    assert w.selection() == "web 3f2a"
    every = Watch(WatchOptions(RunOptions(targets=(), output_dir=tmp_path)), print, print)
    assert every.chosen("c" * 64, other) and every.selection() == "every container"
