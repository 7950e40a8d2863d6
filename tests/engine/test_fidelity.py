"""Fidelity against the docker CLI: our bundle holds what `docker inspect/logs/history/top/diff`
show for the same container."""

from __future__ import annotations

import json

import pytest

from tests.support import states
from tests.support.engine import docker, docker_bytes


@pytest.fixture(scope="module")
def subjects(engine):
    image = engine.build("fidelity", "FROM diagnose-test/busybox:latest\n"
                         "RUN echo built > /built.txt\n"
                         "ENV GREETING=hello\n"
                         "COPY run.sh /usr/local/bin/run.sh\n"
                         "CMD [\"/usr/local/bin/run.sh\"]\n",
                         {"run.sh": "#!/bin/sh\nfor i in $(seq 1 30); do echo out $i; "
                          "echo err $i >&2; done\ntouch /tmp/made\nexec sleep 100000\n"})
    running = engine.run("fid-running", image=image)
    from tests.support.engine import wait_for

    wait_for(lambda: docker("logs", running).stdout.count("\n") >= 30, what="logs")
    exited = states.make_exited(engine)
    return {"running": running, "exited": exited, "image": image}


def test_bundle_matches_the_docker_cli(engine, subjects, diagnose):
    names = [subjects["running"], subjects["exited"]]
    result = diagnose(*names, "--quiet", "--exit-zero", "--tail", "all")
    assert result.code == 0, result.stderr
    members = result.members()
    for name in names:
        base = f"containers/{name}"
        # inspect.json is the object `docker inspect` prints.
        ours = json.loads(members[f"{base}/inspect.json"])
        theirs = json.loads(docker("inspect", name).stdout)[0]
        assert ours == theirs

        # Logs per stream, byte for byte, as `docker logs --timestamps` splits them.
        cli = docker_bytes("logs", "--timestamps", name)
        assert members[f"{base}/logs/stdout.log"] == cli.stdout
        assert members[f"{base}/logs/stderr.log"] == cli.stderr
        assert cli.stdout and cli.stderr

        # Image history with full commands.
        hist = json.loads(members[f"{base}/image/history.json"])
        cli_hist = [json.loads(line) for line in docker(
            "image", "history", "--no-trunc", "--format", "{{json .}}",
            ours["Image"]).stdout.splitlines()]
        assert [h["CreatedBy"] for h in hist] == [h["CreatedBy"] for h in cli_hist]
        assert [h["Id"] for h in hist] == [h["ID"] for h in cli_hist]

        # docker diff: same paths and kinds.
        kinds = {0: "C", 1: "A", 2: "D"}
        diff = json.loads(members[f"{base}/diff.json"])
        cli_diff = sorted(docker("diff", name).stdout.splitlines())
        assert sorted(f"{kinds[d['Kind']]} {d['Path']}" for d in diff) == cli_diff

        # Image inspect.
        image = json.loads(members[f"{base}/image/inspect.json"])
        assert image == json.loads(docker("image", "inspect", ours["Image"]).stdout)[0]

    # docker top: the same processes (PIDs and commands) for the running container.
    top = json.loads(members[f"containers/{subjects['running']}/top.json"])
    cli_top = docker("top", subjects["running"]).stdout.splitlines()
    header = cli_top[0].split()
    assert top["Titles"] == header
    pid_col = header.index("PID")
    cli_rows = [line.split(None, len(header) - 1) for line in cli_top[1:]]
    assert sorted(r[pid_col] for r in top["Processes"]) == sorted(r[pid_col] for r in cli_rows)
    assert sorted(r[-1] for r in top["Processes"]) == sorted(r[-1] for r in cli_rows)

    # The host-side process tree agrees with top about PID 1.
    procs = json.loads(members[f"containers/{subjects['running']}/processes.json"])
    assert str(procs["pid1"]) in {r[pid_col] for r in top["Processes"]}
    assert procs["processes"][0]["cmdline"][:1] == ["sleep"]


def test_log_caps_tail_since_and_bytes(engine, diagnose):
    c = engine.run("capped", cmd=("sh", "-c", "for i in $(seq 1 500); do echo line-$i-"
                                  "abcdefghijklmnopqrstuvwxyz; done; exec sleep 100000"))
    from tests.support.engine import wait_for

    wait_for(lambda: docker("logs", c).stdout.count("\n") >= 500, what="500 lines")
    r = diagnose(c, "--quiet", "--exit-zero", "--tail", "100")
    members = r.members()
    out = members[f"containers/{c}/logs/stdout.log"]
    assert out == docker_bytes("logs", "--timestamps", "--tail", "100", c).stdout
    assert out.count(b"\n") == 100 and b"line-500-" in out and b"line-400-" not in out
    rec = next(x for x in json.loads(members["manifest.json"])["collectors"]
               if x["owner"] == c and x["name"] == "logs")
    assert rec["truncated"] is True and rec["detail"]["tail_reached"] is True

    r = diagnose(c, "--quiet", "--exit-zero", "--tail", "all", "--max-log-bytes", "4K")
    members = r.members()
    out = members[f"containers/{c}/logs/stdout.log"]
    assert len(out) <= 4096 and out.endswith(b"abcdefghijklmnopqrstuvwxyz\n")
    assert b"line-500-" in out and b"line-1-" not in out
    # Kept from a line boundary: every kept line is whole.
    assert all(ln.split(b" ", 1)[1].startswith(b"line-") for ln in out.splitlines())
    rec = next(x for x in json.loads(members["manifest.json"])["collectors"]
               if x["owner"] == c and x["name"] == "logs")
    assert rec["truncated"] is True
    assert rec["detail"]["stdout"]["truncated_by_bytes"] is True
    assert rec["detail"]["stdout"]["bytes_seen"] > 4096

    # --since in the future: nothing.
    r = diagnose(c, "--quiet", "--exit-zero", "--since", "2999-01-01T00:00:00Z")
    assert r.members()[f"containers/{c}/logs/stdout.log"] == b""
