"""manifest.json, and the engine and host summaries it shares with the report.

The manifest is the bundle's table of contents and its run record: what ran, when, against
which engines, what each collector did, every file's size and sha256 and the redaction report.
`diagnose analyze` and `diagnose redact` read it first (:mod:`diagnose.bundle.manifest_check`
says which of its fields they trust, with which types).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diagnose import __version__
from diagnose.evidence import layout
from diagnose.evidence.engine import EngineFacts, HostFacts
from diagnose.evidence.readings.engine import disk_usage_line, storage_status
from diagnose.evidence.records import CollectorRecord
from diagnose.model.escape import json_text
from diagnose.model.jsonview import as_list, as_map, dig, number
from diagnose.model.times import utc_stamp


def engine_summary(engine: EngineFacts, source: str) -> dict[str, Any]:
    """The engine as the report's and the manifest's `engine` object describe it."""
    v = engine.version
    info = engine.info
    return {
        "endpoint": engine.endpoint,
        "source": source,
        "local": engine.local,
        "product": engine.product,
        "version": v.get("Version", ""),
        "api_version": v.get("ApiVersion", ""),
        "negotiated_api_version": v.get("NegotiatedAPIVersion", ""),
        "os": info.get("OperatingSystem", v.get("Os", "")),
        "arch": engine.architecture,
        "kernel": info.get("KernelVersion", v.get("KernelVersion", "")),
        "storage_driver": info.get("Driver", ""),
        "storage_driver_status": storage_status(info),
        "disk_usage": disk_usage_line(engine.df),
        "warnings": len(as_list(info.get("Warnings"))),
        "cgroup_version": info.get("CgroupVersion", ""),
        "data_root": info.get("DockerRootDir", ""),
    }


def engine_entry(label: str, endpoint: str, source: str, local: bool, targets: int,
                 version: Mapping[str, Any], prefix: str = "", error: str = "",
                 ) -> dict[str, Any]:
    """One engine in the report's and the manifest's `engines` list (`error`: why it could
    not be diagnosed)."""
    return {
        "label": label,
        "endpoint": endpoint,
        "source": source,
        "status": "failed" if error else "ok",
        "reason": error,
        "prefix": prefix,
        "local": local,
        "targets": targets,
        "version": str(version.get("Version", "")),
        "api_version": str(version.get("ApiVersion", "")),
    }


def host_summary(host: HostFacts) -> dict[str, Any]:
    """The host facts the report shows ({} when the engine is not local)."""
    d = host.data
    if not d:
        return {}
    out: dict[str, Any] = {
        "hostname": d.get("hostname"),
        "cpus": d.get("cpus_logical"),
        "load_average": ", ".join(f"{number(x):.2f}" for x in as_list(d.get("load_average"))),
        "memory_available_percent": round(100 - number(dig(d, "memory", "percent")), 1),
    }
    root = as_map(d.get("data_root"))
    if "free" in root:
        out["data_root_free_percent"] = round(100 - number(root.get("percent")), 1)
    return out


@dataclass(frozen=True)
class Manifest:
    """manifest.json: what ran, when, against which engine, what each collector did."""

    started: float
    finished: float
    #: The command line, redacted (see diagnose.pipeline.publish.redacted_argv).
    command: Sequence[str]
    engine: Mapping[str, Any]
    engines: Sequence[Mapping[str, Any]]
    targets: Sequence[Mapping[str, Any]]
    options: Mapping[str, Any]
    records: Iterable[CollectorRecord]
    checks: Mapping[str, Any]
    redaction: Mapping[str, Any]
    files: Sequence[Mapping[str, Any]]

    def document(self) -> dict[str, Any]:
        """The JSON document."""
        return {
            "schema": layout.BUNDLE_SCHEMA,
            "tool": {"name": "diagnose", "version": __version__},
            "command": list(self.command),
            "started_at": utc_stamp(self.started),
            "finished_at": utc_stamp(self.finished),
            "duration_s": round(self.finished - self.started, 3),
            "engine": dict(self.engine),
            "engines": list(self.engines),
            "targets": list(self.targets),
            "options": dict(self.options),
            "collectors": [r.to_dict() for r in self.records],
            "checks": dict(self.checks),
            "redaction": dict(self.redaction),
            "files": list(self.files),
        }


def dump(doc: Any) -> bytes:
    """JSON bytes as the bundle stores them (control and bidi characters escaped)."""
    return (json_text(doc) + "\n").encode("utf-8")
