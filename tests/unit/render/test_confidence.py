"""A finding says how sure it is (issue 16): JSON always carries `confidence` (the schema
requires it; tests/unit/render/test_formats.py validates the samples against it); text,
Markdown and HTML show it only when it is not high, next to the finding."""

from __future__ import annotations

import dataclasses
import json

from diagnose.model.findings import CheckOutcome, Confidence, Finding, Severity, Status
from diagnose.model.report import Report, TargetReport
from diagnose.render import Format, render


def _report(confidence: Confidence) -> Report:
    f = Finding(title="died of SIGKILL (kill); who sent it is unknown",
                facts=(("still possible", "`docker kill`; the host's OOM killer"),),
                severity=Severity.WARNING, confidence=confidence, id="killed-by-signal",
                code="D203", target="web", stage="exit")
    target = TargetReport(key="web", name="web", id="0" * 64, image="img", status="exited",
                          exit_code=137, summary="exited 137",
                          outcomes=(CheckOutcome("D203", "killed-by-signal", "web",
                                                 Status.FAILED, "", (f,)),), path=())
    meta = {"tool_version": "0.0.0", "mode": "offline", "generated_at": "2026-01-01T00:00:00Z",
            "engine": {}, "host": {}, "redaction": {"enabled": True, "counts": []},
            "files": []}
    return Report((target,), (), meta)


def test_confidence_is_shown_when_it_is_not_high():
    low, high = _report(Confidence.LOW), _report(Confidence.HIGH)
    for fmt, needle in ((Format.TEXT, "confidence: low"), (Format.MARKDOWN, "Confidence: low"),
                        (Format.HTML, "Confidence: low")):
        assert needle in render(low, fmt), fmt
        assert needle.replace("low", "high") not in render(high, fmt), fmt
    doc = json.loads(render(low, Format.JSON))
    assert doc["targets"][0]["findings"][0]["confidence"] == "low"
    assert doc["targets"][0]["verdict"]["confidence"] == "low"
    assert json.loads(render(high, Format.JSON))["targets"][0]["findings"][0][
        "confidence"] == "high"


def test_confidence_survives_a_round_trip():
    f = _report(Confidence.MEDIUM).targets[0].findings[0]
    assert Finding.from_dict(f.to_dict()) == f
    old = f.to_dict()
    del old["confidence"]  # a bundle written before issue 16
    assert Finding.from_dict(old) == dataclasses.replace(f, confidence=Confidence.HIGH)
