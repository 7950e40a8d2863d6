"""Containers put into every state the engine has, for collector and fidelity tests."""

from __future__ import annotations

import json
import subprocess

from tests.support.engine import Engine, docker, wait_for

CHATTY = ("sh", "-c", "for i in $(seq 1 40); do echo out line $i; echo err line $i >&2; done; "
          "exec sleep 100000")


def make_running(engine: Engine, name: str = "running") -> str:
    """Running, with output on both streams."""
    c = engine.run(name, cmd=CHATTY)
    wait_for(lambda: docker("logs", c).stdout.count("\n") >= 40, what="logs of " + c)
    return c


def make_paused(engine: Engine) -> str:
    """Running, then paused."""
    c = make_running(engine, "paused")
    docker("pause", c)
    engine.wait_status(c, "paused")
    return c


def make_exited(engine: Engine) -> str:
    """Exited 3 after printing on both streams."""
    c = engine.run("exited", cmd=("sh", "-c", "echo bye; echo oops >&2; exit 3"))
    engine.wait_status(c, "exited")
    return c


def make_created(engine: Engine) -> str:
    """Created, never started."""
    return engine.create("created", cmd=("sh", "-c", "echo never"))


def make_restarting(engine: Engine, min_restarts: int = 6) -> str:
    """A restart loop caught at the start of a long back-off: a stable window to look at.

    The engine doubles the back-off from 100 ms on every restart, so right after restart
    number `min_restarts` + 1 the container sits in `restarting` for 100 ms * 2**(n) (~12 s).
    """
    c = engine.run("restarting", "--restart", "always",
                   cmd=("sh", "-c", "echo crashing; echo boom >&2; exit 1"))
    wait_for(lambda: engine.inspect(c)["RestartCount"] >= min_restarts, timeout=60,
             what=f"{c} to restart {min_restarts} times")
    count = engine.inspect(c)["RestartCount"]
    wait_for(lambda: (d := engine.inspect(c))["RestartCount"] > count
             and d["State"]["Status"] == "restarting", timeout=60, interval=0.05,
             what=f"{c} to enter a fresh back-off")
    return c


def make_dead(engine: Engine) -> str:
    """Dead ("Removal In Progress"): `docker rm` fails because a file in its writable layer is
    immutable (chattr +i).  Call `release_dead` before cleanup."""
    c = engine.run("dead", cmd=("sleep", "100000"))
    upper = engine.inspect(c)["GraphDriver"]["Data"]["UpperDir"]
    pin = f"{upper}/diagnose-pin"
    open(pin, "w").close()
    subprocess.run(["chattr", "+i", pin], check=True)
    docker("rm", "-f", c, check=False)
    engine.wait_status(c, "dead")
    return c


def release_dead(engine: Engine, c: str) -> None:
    """Undo `make_dead` so the container can be removed."""
    try:
        data = json.loads(docker("inspect", c, check=False).stdout or "[]")
    except ValueError:
        return
    if not data:
        return
    upper = data[0]["GraphDriver"]["Data"].get("UpperDir", "")
    subprocess.run(["chattr", "-i", f"{upper}/diagnose-pin"], check=False)
    docker("rm", "-f", c, check=False)
