"""The container of the tool itself (the repository's Dockerfile, built by
scripts/watch-image.sh with no registry): its `diagnose watch`, with the engine's socket
mounted read-only, captures a crash into its volume, and `docker stop` ends it with exit 0."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.support.engine import LABEL, ROOT, RUN_ID, docker, wait_for
from tests.support.runs import read_members
from tests.support.watcher import LABEL as WATCH_LABEL


def test_image_builds_and_its_watch_captures_a_crash(engine, tmp_path):
    tag = f"diagnose-test/{RUN_ID}-watch:latest"
    subprocess.run([str(ROOT / "scripts" / "watch-image.sh")], cwd=ROOT, check=True,
                   timeout=900, env={**os.environ, "TAG": tag,
                                     "IMAGE_LABEL": f"{LABEL}={RUN_ID}"})
    state = tmp_path / "state"
    state.mkdir()
    label = f"{WATCH_LABEL}=image-{RUN_ID}"
    watch = engine.run("w-image", "-v", "/var/run/docker.sock:/var/run/docker.sock:ro",
                       "-v", f"{state}:/var/lib/diagnose", image=tag,
                       cmd=("--filter", f"label={label}", "--format", "json"))
    wait_for(lambda: "watching" in docker("logs", watch).stderr, timeout=60,
             what="watch in its container to start")
    crash = engine.run("w-image-crash", "--label", label,
                       cmd=("sh", "-c", "echo 'panic: config missing'; exit 7"))
    bundles = wait_for(lambda: list(state.glob(f"diagnose-{crash}-*.tar.gz")), timeout=120,
                       what=f"a bundle; logs: {docker('logs', watch, check=False).stderr}")
    line = json.loads(docker("logs", watch).stdout.splitlines()[0])
    assert line["container"] == crash and line["verdict"] == "app-exit-error"
    assert Path(line["bundle"]).name == bundles[0].name
    assert json.loads(read_members(bundles[0])["findings.json"])["targets"][0]["name"] == crash
    assert (state / "journal" / "events.jsonl").is_file()
    docker("stop", watch)
    assert engine.inspect(watch)["State"]["ExitCode"] == 0
    assert "stopped (SIGTERM)" in docker("logs", watch).stderr
