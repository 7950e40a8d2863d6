"""Shell completion (bash, zsh, fish) through the real CLI: container names from the real
engine for a target, check ids for `explain`, `--skip` and `--only`, and an empty, silent
answer when no engine answers (nothing on stderr, exit 0), also from an engine that accepts
and never replies.

bash is driven through bash itself (the script `diagnose completion bash` prints, sourced);
zsh and fish are not installed here, so their scripts' protocol is driven as they would
drive it (the same environment variables their scripts set).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine import Engine

DIAGNOSE = str(Path(sys.executable).parent / "diagnose")


@pytest.fixture(scope="module")
def target(engine: Engine) -> str:
    return engine.run("complete-me", cmd=("true",))


def _complete(shell: str, words: str, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    if shell == "bash":
        script = subprocess.run([DIAGNOSE, "completion", "bash"], capture_output=True,
                                text=True, check=True).stdout
        n = len(words.split()) - (0 if words.endswith(" ") else 1)
        argv = " ".join(f"'{w}'" for w in words.split()) + (" ''" if words.endswith(" ")
                                                            else "")
        body = (f'{script}\nCOMP_WORDS=({argv}); COMP_CWORD={n}; '
                f'_diagnose_completion {DIAGNOSE}; printf "%s\\n" "${{COMPREPLY[@]}}"')
        return subprocess.run(["bash", "-c", body], capture_output=True, text=True,
                              env=full, timeout=60, check=False)
    full.update(_DIAGNOSE_COMPLETE=f"complete_{shell}", _TYPER_COMPLETE_ARGS=words)
    if shell == "fish":
        full["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    return subprocess.run([DIAGNOSE], capture_output=True, text=True, env=full, timeout=60,
                          check=False)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_scripts_are_printed(shell: str) -> None:
    out = subprocess.run([DIAGNOSE, "completion", shell], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0 and "_DIAGNOSE_COMPLETE=complete_" + shell in out.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_container_names_and_check_ids(shell: str, target: str) -> None:
    prefix = target[:-3]
    first = _complete(shell, f"diagnose {prefix}")
    assert first.returncode == 0 and first.stderr == "", first.stderr
    assert target in first.stdout
    later = _complete(shell, f"diagnose engine-less {prefix}")  # a second target
    assert target in later.stdout
    ids = _complete(shell, "diagnose explain oom-")
    assert "oom-killed" in ids.stdout and ids.stderr == ""
    codes = _complete(shell, "diagnose explain D20")
    assert "D201" in codes.stdout
    commands = _complete(shell, "diagnose expl")
    assert "explain" in commands.stdout
    skip = _complete(shell, f"diagnose {target} --skip runs-as-root,oom-")  # a comma list
    assert "runs-as-root,oom-killed" in skip.stdout and skip.stderr == ""
    only = _complete(shell, "diagnose --only D20")  # an option before the target
    assert "D201" in only.stdout


@pytest.fixture
def silent_engine(tmp_path: Path) -> Iterator[str]:
    """A unix socket that accepts connections and never answers."""
    path = tmp_path / "mute.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(16)
    try:
        yield f"unix://{path}"
    finally:
        srv.close()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_silent_and_empty_without_an_engine(shell: str, target: str, silent_engine: str) -> None:
    for host in ("unix:///nonexistent/diagnose.sock", silent_engine):
        out = _complete(shell, f"diagnose {target[:-3]}", env={"DOCKER_HOST": host})
        assert out.returncode == 0
        assert out.stderr == ""
        assert target not in out.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_context_names(shell: str, tmp_path: Path) -> None:
    env = {"DOCKER_CONFIG": str(tmp_path)}
    subprocess.run(["docker", "context", "create", "staging-eu", "--docker",
                    "host=unix:///nonexistent.sock"], env={**os.environ, **env}, check=True,
                   capture_output=True)
    out = _complete(shell, "diagnose web --context stag", env=env)
    assert "staging-eu" in out.stdout and out.stderr == ""
    out = _complete(shell, "diagnose service --context de", env=env)
    assert "default" in out.stdout
