"""Reaching the engine the way the docker CLI does: --host, --context, DOCKER_HOST,
DOCKER_CONTEXT and the current context in config.json (DOCKER_CONFIG)."""

from __future__ import annotations

import json

from tests.support.engine import docker


def _context(tmp_path, name, host):
    cfg = tmp_path / "dockercfg"
    cfg.mkdir(exist_ok=True)
    env = {"DOCKER_CONFIG": str(cfg)}
    import os
    import subprocess

    subprocess.run(["docker", "context", "create", name, "--docker", f"host={host}"],
                   env={**os.environ, **env}, check=True, capture_output=True)
    return cfg, env


def test_every_way_to_name_the_engine(engine, diagnose, tmp_path):
    c = engine.create("endpoint", cmd=("true",))
    real = "unix:///var/run/docker.sock"
    bogus = f"unix://{tmp_path}/none.sock"
    cfg, env = _context(tmp_path, "good", real)
    _context(tmp_path, "bad", bogus)

    def source(r):
        assert r.code == 0, r.stderr
        return r.json()["engine"]["source"]

    assert source(diagnose(c, "-q", "-f", "json", "--host", real)) == "--host"
    assert source(diagnose(c, "-q", "-f", "json", "--context", "good", env=env)) == \
        "--context good"
    assert diagnose(c, "-q", "--context", "bad", env=env).code == 3
    r = diagnose(c, "-q", "--context", "missing", env=env)
    assert r.code == 2 and "context" in r.stderr
    assert diagnose(c, "-q", env={**env, "DOCKER_HOST": bogus}).code == 3
    assert source(diagnose(c, "-q", "-f", "json", env={**env, "DOCKER_HOST": real})) == \
        "DOCKER_HOST"
    assert source(diagnose(c, "-q", "-f", "json",
                           env={**env, "DOCKER_CONTEXT": "good"})) == "DOCKER_CONTEXT=good"
    # The current context from config.json, as `docker context use` leaves it.
    conf = cfg / "config.json"
    data = json.loads(conf.read_text()) if conf.exists() else {}
    conf.write_text(json.dumps({**data, "currentContext": "bad"}))
    assert diagnose(c, "-q", env=env).code == 3
    conf.write_text(json.dumps({**data, "currentContext": "good"}))
    assert source(diagnose(c, "-q", "-f", "json", env=env)).startswith("context good")
    # --host wins over a broken current context, as with the docker CLI.
    conf.write_text(json.dumps({**data, "currentContext": "bad"}))
    assert source(diagnose(c, "-q", "-f", "json", "--host", real, env=env)) == "--host"
    assert docker("inspect", c).returncode == 0
