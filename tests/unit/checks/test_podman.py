"""Podman's differences on canned evidence, for the cases the real service here cannot show
(tests/podman/ proves the local ones): a remote Podman whose OCI runtime log and kernel log
cannot be read, a kernel log that could not be read, a failed start told by its events only,
and Podman's ulimit names.  The shapes are those Podman 4.3 answers (docs/podman-notes.md)."""

from __future__ import annotations

from typing import Any

from diagnose.api import ulimit
from diagnose.evidence import layout
from diagnose.evidence.engine import product_of
from diagnose.evidence.records import CollectorRecord
from diagnose.model.findings import Severity
from tests.support.evidence import container_findings, make_container, make_engine

ZERO = "0001-01-01T00:00:00Z"
PODMAN_VERSION = {"Version": "4.3.1", "Components": [{"Name": "Podman Engine"},
                                                     {"Name": "Conmon"}]}
PODMAN = make_engine({"Architecture": "amd64"},
                     files={layout.ENGINE_VERSION: PODMAN_VERSION})


def _created(**state: Any) -> dict[str, Any]:
    return {"Id": "c" * 64, "Name": "/web", "Created": "2026-12-02T20:52:42Z",
            "Config": {"Image": "app", "Cmd": ["/nope"], "Labels": {}},
            "HostConfig": {}, "State": {"Status": "created", "StartedAt": ZERO,
                                        "FinishedAt": ZERO, "ExitCode": 0, "Error": "",
                                        **state}}


def _event(action: str, t: int) -> dict[str, Any]:
    return {"Action": action, "status": action, "time": t, "timeNano": t * 10**9,
            "Actor": {"ID": "c" * 64, "Attributes": {"containerExitCode": "0"}}}


def test_product() -> None:
    assert product_of(PODMAN_VERSION) == "Podman"
    assert product_of({"Components": [{"Name": "Engine"}]}) == "Docker"
    assert product_of({}) == "Docker"


def test_remote_failed_start_is_told_by_its_events() -> None:
    """create then cleanup, no start: a start was attempted and failed (no reason recorded)."""
    skipped = CollectorRecord("runtime", "web", "skipped", reason="the engine is not on this "
                              "host: its files and kernel log cannot be read")
    c = make_container(inspect=_created(), engine=PODMAN, collected=("inspect", "events"),
                       files={layout.EVENTS: [_event("create", 1), _event("cleanup", 2)]},
                       records={"runtime": skipped})
    d001 = container_findings(c)["created-not-started"]
    assert d001.severity == Severity.ERROR
    assert "a start was attempted and failed" in d001.title
    assert "no start was attempted" not in d001.title
    assert ("OCI runtime log", f"not read: {skipped.reason}") in d001.facts
    probed = make_container(inspect=_created(), engine=PODMAN,
                            collected=("inspect", "events", "entrypoint"),
                            files={layout.EVENTS: [_event("create", 1), _event("cleanup", 2)],
                                   layout.ENTRYPOINT: {"argv0": "/nope", "exists": False,
                                                       "candidates": [{"path": "/nope",
                                                                       "exists": False}]}},
                            records={"runtime": skipped})
    facts = dict(container_findings(probed)["created-not-started"].facts)
    assert facts["entrypoint"] == "/nope: not found in the container"


def test_never_started_under_podman_says_what_it_cannot_tell() -> None:
    c = make_container(inspect=_created(), engine=PODMAN, collected=("inspect", "events"),
                       files={layout.EVENTS: [_event("create", 1)]})
    d001 = container_findings(c)["created-not-started"]
    assert d001.severity is None or d001.severity == Severity.WARNING
    assert "Podman records no start errors" in d001.title


def test_start_error_from_the_oci_runtime_log() -> None:
    msg = 'runc create failed: unable to start container process: exec: "/nope": stat /nope: ' \
          "no such file or directory"
    runtime = {"engine": "Podman", "oci_log": {"entries": [
        {"level": "error", "msg": msg, "time": "2026-12-02T20:52:43Z"}]}, "kernel_oom": {}}
    c = make_container(inspect=_created(), engine=PODMAN, collected=("inspect", "runtime"),
                       files={layout.RUNTIME: runtime})
    assert c.start_error == msg
    assert c.start_error_pointer == (layout.RUNTIME, "/oci_log/entries/0/msg")
    found = container_findings(c)
    assert "created-not-started" not in found


def _oom_killed(kernel: dict[str, Any]) -> Any:
    inspect = {**_created(), "HostConfig": {"Memory": 16 * 2**20}}
    inspect["State"] = {"Status": "exited", "StartedAt": "2026-12-02T20:52:42.800Z",
                        "FinishedAt": "2026-12-02T20:52:42.850Z", "ExitCode": 137,
                        "OOMKilled": False, "Error": ""}
    events = [_event("create", 1), _event("start", 2), {**_event("die", 3), "Actor": {
        "ID": "c" * 64, "Attributes": {"exitCode": "137"}}}]
    return make_container(inspect=inspect, engine=PODMAN,
                          collected=("inspect", "events", "runtime"),
                          files={layout.EVENTS: events,
                                 layout.RUNTIME: {"oci_log": {"entries": []},
                                                  "kernel_oom": kernel}})


def test_oom_kill_confirmed_by_the_kernel_record() -> None:
    text = f"oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/libpod_parent/libpod-{'c' * 64}"
    c = _oom_killed({"records": [{"time": "2026-12-02T20:52:42.849Z", "text": text}],
                     "oldest": "2026-12-02T00:00:00.000Z"})
    oom = container_findings(c)["oom-killed"]
    assert ("kernel log", text) in oom.facts
    assert "probably" not in oom.title


def test_oom_kill_unconfirmed_when_the_kernel_log_is_unreadable() -> None:
    c = _oom_killed({"error": "/dev/kmsg: Operation not permitted (needs root, or "
                              "kernel.dmesg_restrict=0)"})
    found = container_findings(c)
    oom = found["oom-killed"]
    assert oom.title.startswith("probably killed by the kernel OOM killer")
    assert "could not be read" in dict(oom.facts)["confirmed"]
    assert "killed-by-signal" not in found


def test_podman_ulimit_names() -> None:
    inspect = {**_created(), "HostConfig": {"Ulimits": [
        {"Name": "RLIMIT_NOFILE", "Hard": 20000, "Soft": 20000},
        {"Name": "RLIMIT_NPROC", "Hard": 32768, "Soft": 32768}]}}
    c = make_container(inspect=inspect, engine=PODMAN, collected=("inspect",))
    assert (ulimit(c, "nproc") or {}).get("Hard") == 32768
    assert (ulimit(c, "nofile") or {}).get("Soft") == 20000
