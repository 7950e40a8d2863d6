"""`docker diagnose` through the real docker CLI (the `docker-diagnose` CLI plugin).

The plugin is linked into a cli-plugins directory of a docker configuration made for the test
(DOCKER_CONFIG), with its own contexts, so the engine is chosen the way the docker CLI chooses
it: each case runs `docker inspect` the same way next to `docker diagnose` and both must reach
(or fail to reach) the same engine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine import Engine

PLUGIN = Path(sys.executable).parent / "docker-diagnose"
NOWHERE = "unix:///nonexistent/diagnose-plugin-test.sock"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A docker configuration with the plugin installed and a context `nowhere` in use."""
    cfg = tmp_path_factory.mktemp("docker-config")
    (cfg / "cli-plugins").mkdir()
    (cfg / "cli-plugins" / "docker-diagnose").symlink_to(PLUGIN)
    env = {**os.environ, "DOCKER_CONFIG": str(cfg)}
    env.pop("DOCKER_HOST", None)
    env.pop("DOCKER_CONTEXT", None)
    subprocess.run(["docker", "context", "create", "nowhere", "--docker", f"host={NOWHERE}"],
                   env=env, check=True, capture_output=True)
    yield cfg


@pytest.fixture(scope="module")
def crashed(engine: Engine) -> str:
    name = engine.run("plugin-crash", cmd=("sh", "-c", "echo plugin-boom >&2; exit 3"))
    engine.wait_status(name, "exited")
    return name


def _docker(config: Path, *args: str, env: dict[str, str] | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    full.update({"DOCKER_CONFIG": str(config), **(env or {})})
    return subprocess.run(["docker", *args], env=full, capture_output=True, text=True,
                          timeout=120, check=False, cwd=cwd)


def test_metadata_and_listing(config: Path) -> None:
    meta = json.loads(subprocess.run([str(PLUGIN), "docker-cli-plugin-metadata"],
                                     capture_output=True, text=True, check=True).stdout)
    assert meta["SchemaVersion"] == "0.1.0" and meta["Vendor"] and meta["ShortDescription"]
    listing = _docker(config, "--help")
    assert any(line.split()[:1] == ["diagnose*"] for line in listing.stdout.splitlines()), \
        listing.stdout
    helped = _docker(config, "diagnose", "--help")
    assert helped.returncode == 0 and "Usage: docker diagnose" in helped.stdout


@pytest.mark.parametrize(("how", "env", "reaches"), [
    ("--context default", {}, True),
    ("-H unix:///var/run/docker.sock", {}, True),
    ("", {"DOCKER_HOST": "unix:///var/run/docker.sock"}, True),  # beats currentContext
    ("", {}, False),                                             # currentContext: nowhere
    (f"-H {NOWHERE}", {}, False),
    ("--context nowhere", {"DOCKER_HOST": "unix:///var/run/docker.sock"}, False),  # wins
    ("", {"DOCKER_CONTEXT": "nowhere"}, False),
])
def test_engine_chosen_as_docker_chooses_it(config: Path, crashed: str, tmp_path: Path,
                                            how: str, env: dict[str, str],
                                            reaches: bool) -> None:
    # Starts with the config's current context set to `nowhere`.
    assert _docker(config, "context", "use", "nowhere").returncode == 0
    flags = how.split()
    docker_says = _docker(config, *flags, "inspect", crashed, env=env)
    ours = _docker(config, *flags, "diagnose", crashed, "--format", "json", "-o", str(tmp_path),
                   env=env, cwd=tmp_path)
    assert (docker_says.returncode == 0) is reaches, docker_says.stderr
    if reaches:
        assert ours.returncode == 1, ours.stderr
        doc = json.loads(ours.stdout)
        assert {f["id"] for t in doc["targets"] for f in t["findings"]} >= {"app-exit-error"}
        assert list(tmp_path.glob("diagnose-*.tar.gz"))
    else:
        assert ours.returncode == 3, (ours.returncode, ours.stderr)
        assert "nonexistent/diagnose-plugin-test.sock" in ours.stderr
        assert len(ours.stderr.strip().splitlines()) == 1


def test_offline_commands_take_no_engine_options(config: Path) -> None:
    explained = _docker(config, "--context", "nowhere", "diagnose", "explain", "oom-killed")
    assert explained.returncode == 0 and "OOM" in explained.stdout, explained.stderr


def test_docker_completes_through_the_plugin(config: Path, crashed: str) -> None:
    """`docker diagnose <TAB>`: docker's own completion asks the plugin (`__complete`)."""
    local = {"DOCKER_HOST": "unix:///var/run/docker.sock"}
    names = _docker(config, "__complete", "diagnose", crashed[:-2], env=local)
    assert names.returncode == 0, names.stderr
    lines = names.stdout.splitlines()
    assert crashed in lines and lines[-1] == ":4", lines
    ids = _docker(config, "__complete", "diagnose", "explain", "oom-", env=local)
    assert "oom-killed" in ids.stdout.splitlines()
    silent = _docker(config, "__complete", "diagnose", crashed[:-2], env={"DOCKER_HOST": NOWHERE})
    assert silent.stdout.splitlines() == [":4"], silent.stdout
