"""The engine section of a bundle: what every run collects about the engine and its host.

Three steps, so container collection waits for nothing it does not need: `start()` collects
`docker version` and `docker info` (what collecting a container needs: the engine's product and
architecture) and starts the host facts, the engine's process, `docker system df` and the
cleanup lists in the background; `settle()` waits for the host facts and the engine's process
(what analysing a container reads), while the first containers are being collected; `finish()`
waits for the rest (no longer than the overall deadline).  `diagnose CONTAINER`, `diagnose
engine` and every engine of a several-engine run use the same code; the run's :class:`Scope`
says whether the usage files keep the whole engine or only totals
(:mod:`diagnose.collect.cleanup`).  `docker version`, `docker info` and the host facts name no
container, image, volume or network, and are kept whole in every run.
"""

from __future__ import annotations

import concurrent.futures as cf
from dataclasses import dataclass, field
from typing import Any

from diagnose.collect import engine_facts as ef
from diagnose.collect.cleanup import USAGE, collect_cleanup
from diagnose.collect.host import collect_engine_process, collect_host
from diagnose.collect.record import Deadline, run_collector
from diagnose.collect.scope import Scope
from diagnose.evidence.records import CollectorRecord, CollectorStatus


@dataclass
class EngineSection:
    """One engine's engine-wide evidence as it is being collected."""

    owner: str
    records: dict[str, CollectorRecord] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    host_record: CollectorRecord | None = None
    host_files: dict[str, bytes] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    _usage: cf.Future[Any] | None = None
    _host: cf.Future[Any] | None = None
    _process: cf.Future[Any] | None = None
    version: dict[str, Any] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        """False when neither version nor info could be read: the engine stopped answering."""
        return any(self.records[n].ok for n in ("version", "info") if n in self.records)

    def reason(self) -> str:
        """Why the engine did not answer (when it did not)."""
        rec = self.records.get("info") or self.records.get("version")
        return rec.reason if rec is not None else "not collected"


def start(api: Any, local: bool, deadline: Deadline, pool: cf.Executor,
          prefix: str = "", scope: Scope | None = None) -> EngineSection:
    """Version and info now; the host facts, the engine's process, df and the cleanup lists
    in the background (see :func:`settle` and :func:`finish`), of the whole engine or (a
    `scope` of targets) their totals only.

    `prefix` is this engine's bundle directory in a several-engine run (records are then owned
    by `<prefix>engine` and `<prefix>host`, matching the paths).
    """
    owner = f"{prefix}engine"
    section = EngineSection(owner)
    section._usage = pool.submit(collect_cleanup, api, deadline, scope or Scope.engine())

    def info_piece() -> Any:
        got, piece = ef.collect_info(api)
        section.info.update(got)
        return piece

    def version_piece() -> Any:
        got, piece = ef.collect_version(api)
        section.version.update(got)
        return piece

    # version and info at once (info is the slow one: the engine counts images and more).
    version = pool.submit(run_collector, "version", owner, version_piece, deadline)
    got = {"info": run_collector("info", owner, info_piece, deadline),
           "version": version.result()}
    for name in ("version", "info"):  # the bundle's order, whichever answered first
        rec, files = got[name]
        section.records[name] = rec
        section.files.update(files)
    data_root = str(section.info.get("DockerRootDir") or "")
    section._host = pool.submit(run_collector, "host", f"{prefix}host",
                                lambda: collect_host(data_root, local), deadline)
    section._process = pool.submit(run_collector, "process", owner,
                                   lambda: collect_engine_process(data_root, local), deadline)
    return section


def settle(section: EngineSection) -> EngineSection:
    """The host facts and the engine's process in `section` (reads of this host, no engine
    call); then the section is what analysing a container reads."""
    if section._host is not None:
        section.host_record, section.host_files = section._host.result()
        section._host = None
    if section._process is not None:
        rec, files = section._process.result()
        section.records["process"] = rec
        section.files.update(files)
        section._process = None
    return section


def finish(section: EngineSection, deadline: Deadline) -> tuple[list[CollectorRecord],
                                                                dict[str, bytes]]:
    """df and the cleanup lists: their records and files (failed when past the deadline)."""
    settle(section)
    late = "overall --deadline reached before it finished"
    records: list[CollectorRecord] = []
    files: dict[str, bytes] = {}
    assert section._usage is not None
    try:
        for rec, got in section._usage.result(timeout=deadline.remaining()):
            records.append(rec.owned_by(section.owner))
            files.update(got)
    except cf.TimeoutError:
        records.extend(CollectorRecord(name, section.owner, CollectorStatus.FAILED, late)
                       for name in USAGE)
    for rec in records:
        section.records[rec.name] = rec
    return records, files
