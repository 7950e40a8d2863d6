"""The real Podman service for the Podman suite.

scripts/podman.sh runs a rootful `podman system service` on its own socket (scripts/test.sh
starts it, like the Docker engine).  While a module of this suite runs, DOCKER_HOST points at
that socket, so the docker CLI the tests set containers up with and the diagnose they run both
talk to Podman; it is put back afterwards.  No answer is a FAILURE, never a skip.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from tests.support.engine import BASE_IMAGE, ROOT, Engine, docker, engine_answers

PODMAN_SOCK = os.environ.get("DIAGNOSE_PODMAN_SOCK", "/run/diagnose-podman/podman.sock")
PODMAN_HOST = f"unix://{PODMAN_SOCK}"


def podman_remote(*args: str) -> subprocess.CompletedProcess[str]:
    """`podman --remote` against the test service (libpod's own API: healthcheck run...)."""
    return subprocess.run(["podman", "--remote", "--url", PODMAN_HOST, *args],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def podman() -> Iterator[Engine]:
    """Engine helpers whose docker CLI talks to the Podman service; everything they created
    is removed when the module ends."""
    saved = {k: os.environ.get(k) for k in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    os.environ["DOCKER_HOST"] = PODMAN_HOST
    os.environ.pop("DOCKER_CONTEXT", None)
    try:
        why = engine_answers()
        if why:
            pytest.fail(f"no Podman service answers at {PODMAN_HOST} ({why}); run "
                        f"{ROOT}/scripts/podman.sh first (scripts/test.sh does)", pytrace=False)
        components = docker("version", "--format", "{{json .Server.Components}}").stdout
        if "Podman" not in components:
            pytest.fail(f"{PODMAN_HOST} is not Podman: {components.strip()}", pytrace=False)
        if docker("image", "inspect", BASE_IMAGE, check=False).returncode != 0:
            pytest.fail(f"{BASE_IMAGE} is missing in Podman; run scripts/podman.sh",
                        pytrace=False)
        eng = Engine()
        try:
            yield eng
        finally:
            eng.cleanup()
        left = eng.leftovers()
        if left:
            pytest.fail(f"the tests left labelled objects behind: {left}", pytrace=False)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
