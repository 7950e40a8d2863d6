"""Pieces of the issue-16 checks that the engine cannot put in every state on demand: the
health probe timing out under a quota when no stats sample could be read, and a platform
mismatch named in OCI terms (the engine tests prove each class on real containers)."""

from __future__ import annotations

import dataclasses
from typing import Any

from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.model.findings import Severity
from tests.support.evidence import container_findings as findings
from tests.support.evidence import encode, make_container, make_engine
from tests.support.logcase import container

TIMEOUT = {"Start": "", "End": "", "ExitCode": -1, "Output": "Health check exceeded timeout (1s)"}


def _health(nano_cpus: int) -> dict[str, Any]:
    return {"State": {"Health": {"Status": "unhealthy", "FailingStreak": 5,
                                 "Log": [TIMEOUT] * 5}},
            "Config": {"Healthcheck": {"Test": ["CMD-SHELL", "wget -q -O- http://127.0.0.1/"],
                                       "Timeout": 1_000_000_000}},
            "HostConfig": {"NanoCpus": nano_cpus}}


def test_probe_timeouts_under_a_quota_without_stats_are_not_certain():
    got = findings(container(inspect=_health(20_000_000)))
    f = got["health-check-timeout"]
    assert f.confidence == "medium" and "application hangs" in dict(f.facts)["still possible"]
    assert "0.02-CPU quota" in f.title
    # The symptom stays an error: nothing shows the quota is what starves the probe.
    assert got["unhealthy"].severity is Severity.ERROR


def test_probe_timeouts_without_a_quota_are_the_application_hanging():
    got = findings(container(inspect=_health(0)))
    assert "health-check-timeout" not in got and "unhealthy" in got


def test_platform_names_are_compared_in_oci_terms():
    arm = {"Architecture": "arm64", "Variant": "v8", "Os": "linux"}
    inspect = {"State": {"Status": "created", "ExitCode": 0, "Error": ""},
               "Config": {"Image": "example/app:1"}, "HostConfig": {}}

    def on(machine: str) -> ContainerEvidence:
        return make_container(inspect=inspect, files={layout.IMAGE_INSPECT: arm},
                              collected=("inspect", "image"),
                              engine=make_engine({"Architecture": machine, "OSType": "linux"}))

    assert "image-platform-mismatch" not in findings(on("aarch64"))
    f = findings(on("x86_64"))["image-platform-mismatch"]
    assert f.title.startswith("the image is for linux/arm64/v8, the engine runs linux/amd64")
    assert f.severity is Severity.WARNING  # created, never started: a prediction


ABORTS = {
    "glibc detected heap corruption": "free(): double free detected in tcache 2",
    "failed assertion": "assert: assert.c:17: main: Assertion `workers > 0' failed.",
    "uncaught C++ exception": "terminate called after throwing an instance of "
                              "'std::runtime_error'",
    "buffer overflow detected by the C library": "*** stack smashing detected ***: terminated",
    "fatal Python error": "Fatal Python error: PyThreadState_Get: no current thread",
    "V8 heap limit (JavaScript heap out of memory)":
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
}


def test_each_abort_message_names_its_kind_at_134_and_as_pid1_at_139():
    for kind, line in ABORTS.items():
        for code in (134, 139):
            got = findings(container([line, ("stdout", "bye")], status="exited",
                                     exit_code=code))
            assert "aborted" in got, (kind, code, sorted(got))
            assert dict(got["aborted"].facts)["kind"] == kind
            assert "segfault" not in got and "killed-by-signal" not in got
    # A 139 whose log is not an abort message stays a segfault.
    for line in ("parsing request", "Fatal Python error: Segmentation fault"):
        got = findings(container([line], status="exited", exit_code=139))
        assert "segfault" in got and "aborted" not in got, line


def _history(*steps: str) -> list[dict[str, Any]]:
    return [{"CreatedBy": s} for s in reversed(steps)]  # newest first, as the engine returns


def test_shadow_needs_the_image_to_have_written_under_or_just_above_the_mount():
    line = ["Error: Cannot find module 'express'", "Require stack:", "- /app/server.js"]
    inspect = {"Mounts": [{"Type": "bind", "Source": "/srv/empty",
                           "Destination": "/app/node_modules", "RW": True}]}

    def on(*steps: str) -> dict[str, Any]:
        base = container(line, status="exited", exit_code=1, inspect=inspect)
        files = {**base.files, layout.IMAGE_HISTORY: encode(_history(*steps))}
        return findings(dataclasses.replace(base, files=files))

    exact = on("WORKDIR /app", "COPY package.json .", "RUN npm ci")
    f = exact["volume-shadows-image-content"]
    assert f.confidence == "high" and dict(f.facts)["missing"] == "/app/node_modules/express"
    above = on("COPY app/ /app/ # buildkit")["volume-shadows-image-content"]
    assert above.confidence == "medium"
    assert "volume-shadows-image-content" not in on("COPY rootfs/ /", "CMD node server.js")
