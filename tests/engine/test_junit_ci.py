"""The README's CI step on the real engine: a Compose project's containers diagnosed with
`--project NAME --format junit --fail-on error -o DIR`, the JUnit XML valid against
tests/support/junit.xsd, one suite per container, a failure only where a finding reaches
--fail-on, exit 1, and the bundle written next to it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import xmlschema

from tests.support.engine import Engine
from tests.support.runs import Result

XSD = Path(__file__).resolve().parents[1] / "support" / "junit.xsd"


def _service(engine: Engine, project: str, service: str, *cmd: str) -> str:
    return engine.run(f"{project}-{service}", "--label", f"com.docker.compose.project={project}",
                      "--label", f"com.docker.compose.service={service}",
                      "--label", "com.docker.compose.container-number=1", cmd=cmd)


def test_compose_project_as_junit(engine: Engine, diagnose: Callable[..., Result],
                                  tmp_path: Path) -> None:
    project = f"ci{engine.run_id[:6]}"
    worker = _service(engine, project, "worker", "sh", "-c", "echo cannot reach db >&2; exit 2")
    web = _service(engine, project, "web", "sleep", "100000")
    engine.wait_status(worker, "exited")
    result = diagnose("--project", project, "--format", "junit", "--fail-on", "error")
    assert result.code == 1, result.stderr
    assert result.bundle is not None
    xmlschema.XMLSchema(str(XSD)).validate(result.stdout)
    suites = {s.get("name"): s for s in ET.fromstring(result.stdout).iter("testsuite")}
    assert {worker, web} <= set(suites)
    failed = [c.get("name") for c in suites[worker].iter("testcase")
              if c.find("failure") is not None]
    assert failed == ["D205 app-exit-error"]
    assert suites[web].get("failures") == "0"
