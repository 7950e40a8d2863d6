"""`--format junit`: valid JUnit XML (tests/support/junit.xsd), one test case per target and
check, failures exactly for the checks whose findings reach --fail-on, and the CLI's exit code
saying the same."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest
import xmlschema

from diagnose.model.findings import Severity
from diagnose.render import Format, render
from diagnose.render import document as document_module
from tests.support.reports import SAMPLES, sample_report
from tests.support.runs import run_diagnose

XSD = Path(__file__).resolve().parents[2] / "support" / "junit.xsd"
NAMES = sorted(p.name.removesuffix(".tar.gz") for p in SAMPLES.glob("*.tar.gz"))


@cache
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


@cache
def report(name: str):  # noqa: ANN201 (a Report)
    return sample_report(name)


@pytest.mark.parametrize("fail_on", ["info", "warning", "error", "critical"])
@pytest.mark.parametrize("name", NAMES)
def test_valid_junit_one_case_per_target_and_check(name: str, fail_on: str) -> None:
    rep = report(name)
    xml = render(rep, Format.JUNIT, fail_on=fail_on)
    schema().validate(xml)
    root = ET.fromstring(xml)
    doc = document_module.build(rep)
    threshold = Severity.parse(fail_on)
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    for t in doc["targets"]:
        cases = suites[t["name"]].findall("testcase")
        assert [c.get("name") for c in cases] == [f"{o['code']} {o['id']}" for o in t["checks"]]
        failing = {f"{f['code']} {f['id']}" for f in t["findings"]
                   if Severity.parse(f["severity"]) >= threshold}
        assert {c.get("name") for c in cases if c.find("failure") is not None} == failing
        skipped = {f"{o['code']} {o['id']}" for o in t["checks"] if o["status"] == "skipped"}
        assert {c.get("name") for c in cases if c.find("skipped") is not None} == skipped
    total = sum(int(s.get("failures") or 0) for s in suites.values())
    assert int(root.get("failures") or 0) == total
    # The pipeline's view agrees with diagnose's own exit code at that threshold.
    assert (total > 0) == (rep.exit_code(threshold) == 1)


def test_failure_carries_the_finding(tmp_path: Path) -> None:
    xml = render(report("oom-killed"), Format.JUNIT)
    case = next(c for c in ET.fromstring(xml).iter("testcase")
                if c.get("name") == "D201 oom-killed")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert "OOM killer" in (failure.get("message") or "")
    assert "evidence: containers/" in (failure.text or "")
    assert "$ docker" in (failure.text or "")


def test_below_the_threshold_is_kept_as_output() -> None:
    xml = render(report("oom-killed"), Format.JUNIT, fail_on="critical")
    cases = {c.get("name"): c for c in ET.fromstring(xml).iter("testcase")}
    info = [c for c in cases.values() if c.find("system-out") is not None]
    assert info and all(c.find("failure") is None for c in info)


def test_cli_junit_and_exit_code(tmp_path: Path) -> None:
    bundle = SAMPLES / "several-targets.tar.gz"
    for fail_on, code in (("critical", 1), ("error", 1)):
        result = run_diagnose("analyze", str(bundle), "--format", "junit", "--fail-on", fail_on,
                              "--no-plugins", cwd=tmp_path)
        assert result.code == code, result.stderr
        schema().validate(result.stdout)
    clean = run_diagnose("analyze", str(SAMPLES / "created-not-started.tar.gz"), "--format",
                         "junit", "--no-plugins", cwd=tmp_path)
    assert clean.code == 0, clean.stderr
    root = ET.fromstring(clean.stdout)
    assert root.get("failures") == "0"
    assert any(c.find("system-out") is not None for c in root.iter("testcase"))
