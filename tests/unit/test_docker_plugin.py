"""The docker CLI plugin's argument handling (diagnose/docker_plugin.py): docker's global
options before `diagnose` become diagnose's, in the place each command takes them.  The real
docker CLI drives it in tests/engine/test_docker_plugin.py."""

from __future__ import annotations

import pytest

from diagnose.docker_plugin import PluginUsage, split, translate


@pytest.mark.parametrize(("argv", "want", "env"), [
    (["diagnose", "web"], ["web"], {}),
    (["--context", "prod", "diagnose", "web", "-f", "json"],
     ["--context", "prod", "web", "-f", "json"], {}),
    (["-H", "tcp://h:2376", "diagnose", "engine"], ["engine", "--host", "tcp://h:2376"], {}),
    (["--host=unix:///s", "diagnose", "service", "api"],
     ["service", "--host", "unix:///s", "api"], {}),
    (["-cprod", "diagnose", "run", "web"], ["run", "--context", "prod", "web"], {}),
    (["--context", "prod", "diagnose", "analyze", "b.tar.gz"], ["analyze", "b.tar.gz"], {}),
    (["--context", "prod", "diagnose", "--help"], ["--help"], {}),
    (["--config", "/cfg", "-D", "-l", "debug", "diagnose", "web"], ["web"],
     {"DOCKER_CONFIG": "/cfg"}),
    (["--tlsverify", "diagnose", "web"], ["web"], {"DOCKER_TLS_VERIFY": "1"}),
    # Arguments after `diagnose` are diagnose's, even when they look like docker's.
    (["diagnose", "web", "--context", "x"], ["web", "--context", "x"], {}),
])
def test_docker_arguments_become_diagnose_arguments(argv: list[str], want: list[str],
                                                    env: dict[str, str]) -> None:
    environ: dict[str, str] = {}
    assert translate(*split(argv), environ) == want
    assert environ == env


@pytest.mark.parametrize("argv", [
    ["web"],                                  # docker always names the plugin
    ["--context"],                            # a value is missing
    ["--bogus", "diagnose", "web"],
    ["--tlscacert", "/ca.pem", "diagnose", "web"],
])
def test_what_cannot_be_passed_on_is_a_usage_error(argv: list[str]) -> None:
    with pytest.raises(PluginUsage):
        translate(*split(argv), {})
