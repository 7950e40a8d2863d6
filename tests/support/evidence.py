"""The one factory of evidence objects for unit tests: containers, services, the engine, the
host and the run's snapshot, in the shapes the collectors write them.

Files are given as bytes, text, or any JSON value (written as JSON); collectors named in
`collected` get an `ok` record.  What a test knows about a container (its inspect document,
its logs) it builds itself; how that becomes evidence is written here, once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Mapping
from typing import Any

from diagnose.analysis.registry import Registry, load_registry
from diagnose.analysis.runner import run_service_checks
from diagnose.analysis.targets import analyse_container
from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.engine import EngineFacts, HostFacts
from diagnose.evidence.logwindow import LogCut
from diagnose.evidence.records import CollectorRecord
from diagnose.evidence.service import ServiceEvidence
from diagnose.evidence.snapshot import Snapshot
from diagnose.model.findings import Finding


def encode(value: Any) -> bytes:
    """A file's bytes: bytes as they are, text as UTF-8, anything else as JSON."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return json.dumps(value).encode("utf-8")


def ok_records(owner: str, names: Iterable[str], truncated: Iterable[str] = ()
               ) -> dict[str, CollectorRecord]:
    """An `ok` record for each collector named (`truncated`: those cut by the caps)."""
    cut = set(truncated)
    return {n: CollectorRecord(n, owner, "ok", truncated=n in cut) for n in names}


def make_engine(info: Mapping[str, Any] | None = None, *, files: Mapping[str, Any] | None = None,
                collected: Iterable[str] = (),
                records: Mapping[str, CollectorRecord] | None = None) -> EngineFacts:
    """The engine's evidence: `docker info` (`info`), other engine files by bundle path."""
    data = {path: encode(v) for path, v in (files or {}).items()}
    if info is not None:
        data[layout.ENGINE_INFO] = encode(dict(info))
    return EngineFacts(data, {**ok_records("engine", collected), **(records or {})})


def make_host(data: Mapping[str, Any] | None = None) -> HostFacts:
    """The host's facts (host/host.json), or none."""
    return HostFacts({layout.HOST_FACTS: encode(dict(data))} if data is not None else {}, {})


def make_container(key: str = "web", *, inspect: Mapping[str, Any] | None = None,
                   files: Mapping[str, Any] | None = None, collected: Iterable[str] = (),
                   truncated: Iterable[str] = (),
                   records: Mapping[str, CollectorRecord] | None = None,
                   engine: EngineFacts | None = None, collected_at: str = "",
                   cuts: Mapping[str, LogCut] | None = None) -> ContainerEvidence:
    """One container's evidence: its `inspect` document and other `files` (container-relative
    paths), `ok` records of the `collected` collectors (and `records` as given)."""
    data = {rel: encode(v) for rel, v in (files or {}).items()}
    if inspect is not None:
        data[layout.INSPECT] = encode(dict(inspect))
    return ContainerEvidence(key, data, {**ok_records(key, collected, truncated),
                                         **(records or {})},
                             engine if engine is not None else make_engine(), collected_at,
                             cuts=cuts or {})


def make_service(key: str = "web", *, files: Mapping[str, Any], collected: Iterable[str] = (),
                 engine: EngineFacts | None = None, collected_at: str = "") -> ServiceEvidence:
    """One Swarm service's evidence (service-relative paths)."""
    return ServiceEvidence(key, {rel: encode(v) for rel, v in files.items()},
                           ok_records(layout.service_dir(key), collected),
                           engine if engine is not None else make_engine(), collected_at)


def make_snapshot(containers: Iterable[ContainerEvidence] = (), *,
                  engine: EngineFacts | None = None, host: HostFacts | None = None,
                  run: Mapping[str, Any] | None = None) -> Snapshot:
    """A whole run's evidence for the run-scope checks."""
    return Snapshot(engine if engine is not None else make_engine(),
                    host if host is not None else make_host(), tuple(containers), run or {})


@functools.cache
def registry() -> Registry:
    """The built-in checks."""
    return load_registry(plugins=False)


def container_findings(c: ContainerEvidence) -> dict[str, Finding]:
    """Every finding of the container-scope checks on `c`, by check id (a check that raises
    fails the test)."""
    report, _ = analyse_container(c, registry(), debug=True)
    return {f.id: f for f in report.findings}


def service_findings(ev: ServiceEvidence) -> dict[str, Finding]:
    """Every finding of the service-scope checks on `ev`, by check id."""
    outcomes, errors = run_service_checks(ev, registry().scoped("service"))
    assert not errors, errors
    return {f.id: f for o in outcomes for f in o.findings}
