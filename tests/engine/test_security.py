"""Security and hygiene findings (D7xx) on real containers, their look-alikes, and the rule
that they never outrank the cause of a failure.

This engine runs without CAP_SYS_RESOURCE, so runc cannot start a `--privileged` container
here ("unable to apply caps"); privileged containers are therefore created (`docker create
--privileged`, exactly the configuration `docker run --privileged` makes) and the crash test
pairs an OOM kill with every other host-level risk that does start.
"""

from __future__ import annotations

import json

import pytest

from tests.support.engine import BASE_IMAGE, docker, wait_for
from tests.support.runs import finding, finding_ids, findings

SLEEP = ("sleep", "100000")
WARNING_OR_WORSE = ("warning", "error", "critical")


def quiet_exit(r) -> int:
    """The exit code at the default --fail-on error when the containers themselves only have
    warnings: 0, unless the shared engine itself has an error-level finding (a full disk)."""
    return 1 if any(f["severity"] in ("error", "critical")
                    for f in r.json()["run"]["findings"]) else 0

DROP_TO_APP = ("echo app:x:1000:1000::/:/bin/sh >> /etc/passwd; echo app:x:1000: >> /etc/group; "
               "exec su app -s /bin/sh -c 'exec sleep 100000'")


@pytest.fixture(scope="module")
def risky(engine):
    made = {
        "priv": engine.create("priv", "--privileged", cmd=SLEEP),
        "sock": engine.run("sock", "-v", "/var/run/docker.sock:/var/run/docker.sock:ro",
                           cmd=SLEEP),
        "hostnet": engine.run("hostnet", "--network", "host", cmd=SLEEP),
        "hostpid": engine.run("hostpid", "--pid", "host", "--uts", "host", cmd=SLEEP),
        "caps": engine.run("caps", "--cap-add", "SYS_ADMIN", "--cap-add", "net_admin",
                           "--cap-add", "CHOWN", cmd=SLEEP),
        "plain": engine.run("plain", cmd=SLEEP),
        "user": engine.run("user", "--user", "1000:1000", cmd=SLEEP),
        # Starts as root, drops to uid 1000 before running the workload (gosu-style).
        "drops": engine.run("drops", cmd=("sh", "-c", DROP_TO_APP)),
    }
    wait_for(lambda: all(engine.inspect(c)["State"]["Running"] for k, c in made.items()
                         if k != "priv"), what="risky containers to run")
    return made


@pytest.fixture(scope="module")
def report(risky, tmp_path_factory):
    from tests.support.runs import run_diagnose

    out = tmp_path_factory.mktemp("sec")
    r = run_diagnose(*risky.values(), "--format", "json", "--quiet", "--output", str(out),
                     cwd=out)
    assert r.code == quiet_exit(r), r.stderr  # warnings only: --fail-on error is not reached
    return r


def test_privileged(risky, report):
    f = finding(report, "privileged", risky["priv"])
    assert f["severity"] == "warning" and f["stage"] == "hygiene"
    assert f["evidence"][0]["ref"].endswith("inspect.json#/HostConfig/Privileged")
    root = finding(report, "runs-as-root", risky["priv"])
    assert root["severity"] == "warning" and "privileged" in root["title"]
    assert {"docker-socket-mounted", "host-namespace", "dangerous-capabilities"}.isdisjoint(
        finding_ids(report, risky["priv"]))


def test_docker_socket_mounted(risky, report):
    f = finding(report, "docker-socket-mounted", risky["sock"])
    assert f["severity"] == "warning"
    assert "/var/run/docker.sock -> /var/run/docker.sock" in f["title"]
    assert "ro: no protection" in f["facts"][0]["value"]
    assert "privileged" not in finding_ids(report, risky["sock"])
    assert finding(report, "runs-as-root", risky["sock"])["severity"] == "warning"


def test_host_namespaces(risky, report):
    net = finding(report, "host-namespace", risky["hostnet"])
    assert net["severity"] == "warning" and "network" in net["title"]
    # On the host's network it is not on the default bridge.
    assert "untrusted-on-default-bridge" not in finding_ids(report, risky["hostnet"])
    pid = finding(report, "host-namespace", risky["hostpid"])
    assert pid["severity"] == "warning"
    assert {x["name"] for x in pid["facts"]} == {"HostConfig.PidMode", "HostConfig.UTSMode"}
    assert "host-namespace" not in finding_ids(report, risky["plain"])


def test_dangerous_capabilities(risky, report):
    f = finding(report, "dangerous-capabilities", risky["caps"])
    assert f["severity"] == "warning"
    assert "SYS_ADMIN" in f["title"] and "NET_ADMIN" in f["title"] and "CHOWN" not in f["title"]


def test_everyday_container_gets_information_only(risky, report):
    plain = findings(report, risky["plain"])
    assert not [f for f in plain if f["severity"] in WARNING_OR_WORSE], plain
    assert {"runs-as-root", "image-unpinned", "image-not-official",
            "untrusted-on-default-bridge"} <= {f["id"] for f in plain}
    target = next(t for t in report.json()["targets"] if t["name"] == risky["plain"])
    assert target["verdict"] is None  # advice is listed, never the verdict


def test_runs_as_root_look_alikes(risky, report):
    assert "runs-as-root" not in finding_ids(report, risky["user"])
    # Config.User is empty, but `docker top` shows nothing running as root any more.
    assert "runs-as-root" not in finding_ids(report, risky["drops"])


def test_insecure_downloads_and_world_writable_in_history(engine, diagnose):
    image = engine.build("insecure", (
        f"FROM {BASE_IMAGE}\n"
        "RUN wget -q -T 2 -O /tmp/tool.tgz http://example.invalid/tool.tgz || true\n"
        "RUN curl -fsSLk https://example.invalid/install.sh -o /tmp/i.sh || true\n"
        "RUN mkdir -p /app && chmod -R 777 /app\n"
        "RUN mkdir -p /scratch && chmod 1777 /scratch\n"
        "RUN wget -q -T 2 -O /tmp/ok https://example.invalid/ok || true\n"
    ))
    clean = engine.build("clean", f"FROM {BASE_IMAGE}\nRUN mkdir -p /data && chmod 755 /data\n")
    bad = engine.run("insecure", image=image, cmd=SLEEP)
    good = engine.run("clean", image=clean, cmd=SLEEP)
    r = diagnose(bad, good, "--format", "json", "--quiet")
    assert r.code == quiet_exit(r), r.stderr

    f = finding(r, "insecure-download-in-history", bad)
    assert f["severity"] == "warning"
    excerpts = [e["excerpt"] for e in f["evidence"]]
    assert any("wget" in x and "http://example.invalid/tool.tgz" in x for x in excerpts)
    assert any("curl -fsSLk" in x for x in excerpts)
    assert not any("https://example.invalid/ok" in x for x in excerpts)
    assert all(e["ref"].startswith(f"containers/{bad}/image/history.json#/") for e in f["evidence"])
    # The evidence pointer resolves to the quoted history line.
    history = json.loads(r.members()[f"containers/{bad}/image/history.json"])
    for e in f["evidence"]:
        assert e["pointer"].endswith("/CreatedBy")
        assert e["excerpt"] in history[int(e["pointer"].split("/")[1])]["CreatedBy"]

    ww = finding(r, "world-writable-in-history", bad)
    assert ww["severity"] == "warning"  # recursive
    assert len(ww["evidence"]) == 1 and "chmod -R 777 /app" in ww["evidence"][0]["excerpt"]

    assert {"insecure-download-in-history", "world-writable-in-history"}.isdisjoint(
        finding_ids(r, good))


def test_hygiene_never_outranks_the_crash(engine, diagnose):
    crashed = engine.run("risky-oom", "--memory", "32m", "--pid", "host", "--cap-add",
                         "SYS_ADMIN", "-v", "/var/run/docker.sock:/var/run/docker.sock",
                         cmd=("sh", "-c", "x=a; while true; do x=$x$x; done"))
    engine.wait_status(crashed, "exited")
    # Never started: its cause (created-not-started) is a warning, like `privileged`.
    idle = engine.create("priv-idle", "--privileged", cmd=SLEEP)
    r = diagnose(crashed, idle, "--format", "json", "--quiet")
    assert r.code == 1, r.stderr
    doc = r.json()
    by_name = {t["name"]: t for t in doc["targets"]}
    target = by_name[crashed]
    assert target["verdict"]["id"] == "oom-killed"
    assert doc["verdict"]["id"] == "oom-killed"
    ids = [f["id"] for f in target["findings"]]
    for hygiene in ("docker-socket-mounted", "host-namespace", "dangerous-capabilities",
                    "runs-as-root"):
        assert hygiene in ids and ids.index("oom-killed") < ids.index(hygiene), hygiene
    # A limit was set: no-memory-limit is the look-alike that must stay quiet.
    assert "no-memory-limit" not in ids
    # Equal severity (warning): the cause still comes before the hygiene advice.
    idle_ids = [f["id"] for f in by_name[idle]["findings"]]
    assert by_name[idle]["verdict"]["id"] == "created-not-started"
    assert idle_ids.index("created-not-started") < idle_ids.index("privileged")
    text = diagnose(crashed, "--quiet")
    assert "verdict: CRITICAL D201 oom-killed" in text.stdout


def test_restart_loop_without_memory_limit(engine, diagnose):
    c = engine.run("loop", "--restart", "on-failure:2", cmd=("sh", "-c", "exit 1"))
    wait_for(lambda: (d := engine.inspect(c))["RestartCount"] >= 2
             and d["State"]["Status"] == "exited", timeout=60, what=f"{c} to give up")
    r = diagnose(c, "--format", "json", "--quiet")
    f = finding(r, "no-memory-limit", c)
    assert f["severity"] == "info"
    assert {"name": "RestartCount", "value": "2"} in f["facts"]


def test_healthy_pinned_container_on_its_own_network(engine, diagnose):
    built = engine.build("pinned", f"FROM {BASE_IMAGE}\nRUN echo app > /app.txt\n")
    pinned = built.rsplit(":", 1)[0] + ":1.0"
    docker("tag", built, pinned)
    net = engine.network("app")
    c = engine.run("healthy", "--network", net, image=pinned, cmd=SLEEP)
    engine.wait_status(c, "running")
    r = diagnose(c, "--format", "json", "--quiet")
    assert r.code == quiet_exit(r), r.stderr
    mine = findings(r, c)
    assert not [f for f in mine if f["severity"] in WARNING_OR_WORSE], mine
    ids = {f["id"] for f in mine}
    assert {"image-unpinned", "untrusted-on-default-bridge"}.isdisjoint(ids)
    assert r.json()["targets"][0]["verdict"] is None
    docker("rmi", pinned, check=False)


def test_official_looking_name_built_locally(engine, diagnose):
    built = engine.build("official", f"FROM {BASE_IMAGE}\nRUN echo x > /x\n")
    bare = f"dt-{engine.run_id}-official:1.0"  # no slash: an official-library name
    docker("tag", built, bare)
    c = engine.run("official", image=bare, cmd=SLEEP)
    r = diagnose(c, "--format", "json", "--quiet")
    f = finding(r, "image-not-official", c)
    assert f["severity"] == "info"
    assert "official-library name but no registry digest" in f["title"]
    assert "image-unpinned" not in finding_ids(r, c)
    # Not verified official, so it is still untrusted on the default bridge.
    assert finding(r, "untrusted-on-default-bridge", c)["severity"] == "info"
    docker("rmi", bare, check=False)
