"""`diagnose engine`: the engine and its host on their own, with no container to diagnose.

Collects what every bundle's engine section holds (version, info with its Warnings, system df,
the cleanup lists of :mod:`diagnose.collect.cleanup`, and the host facts), runs the run-scope
checks through the same :class:`~diagnose.run.Pipeline` as `diagnose CONTAINER`, and writes a
`diagnose-engine-<time>.tar.gz` bundle through the same archive writer, redaction and rescan.
`diagnose analyze` reads it back like any other bundle (it simply has no containers).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
from typing import Any

from diagnose.errors import EngineError
from diagnose.redact import Redactor
from diagnose.run import (
    Pipeline,
    Progress,
    RunOptions,
    RunResult,
    bundle_name,
    now,
    registry_for,
    utc_stamp,
)
from diagnose.snapshot import CollectorRecord, EngineFacts, HostFacts

ENGINE_KEY = "engine"


def collect_engine(
    api: Any, host_local: bool, endpoint: str, pipe: Pipeline, deadline: Any = None,
) -> tuple[EngineFacts, HostFacts, list[CollectorRecord]]:
    """Every engine-wide collector (concurrently), redacted and streamed into the bundle."""
    from diagnose.collect import engine_facts as ef
    from diagnose.collect.cleanup import collect_cleanup
    from diagnose.collect.host import collect_host
    from diagnose.collect.record import run_collector

    records: dict[str, CollectorRecord] = {}
    files: dict[str, bytes] = {}
    info: dict[str, Any] = {}

    def info_piece() -> Any:
        got, piece = ef.collect_info(api)
        info.update(got)
        return piece

    with cf.ThreadPoolExecutor(3, thread_name_prefix="engine") as pool:
        df_future = pool.submit(run_collector, "df", "engine", lambda: ef.collect_df(api),
                                deadline)
        cleanup_future = pool.submit(collect_cleanup, api, deadline)
        for name, fn in (("version", lambda: ef.collect_version(api)[1]), ("info", info_piece)):
            rec, got = run_collector(name, "engine", fn, deadline)
            records[name] = rec
            files.update(got)
        if not records["version"].ok and not records["info"].ok:
            raise EngineError(f"the engine at {endpoint} stopped answering: "
                              f"{records['info'].reason}", "check dockerd")
        data_root = str(info.get("DockerRootDir") or "")
        host_rec, host_files = run_collector(
            "host", "host", lambda: collect_host(data_root, host_local), deadline)
        rec, got = df_future.result()
        records[rec.name] = rec
        files.update(got)
        for rec, got in cleanup_future.result():
            records[rec.name] = rec
            files.update(got)
    engine = EngineFacts(pipe.add_files(files), records, endpoint, host_local)
    host = HostFacts(pipe.add_files(host_files), {"host": host_rec})
    return engine, host, [*records.values(), host_rec]


def run_engine(opts: RunOptions, progress: Progress) -> RunResult:
    """Collect, redact, analyse and archive the engine's own evidence (no container)."""
    # Heavy imports only here, as in diagnose.app.
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    # The report/archive tail is diagnose.app's own (shared, not copied).
    from diagnose.app import publish
    from diagnose.archive import BundleWriter
    from diagnose.collect.connect import connect, engine_error, resolve_endpoint
    from diagnose.collect.record import Deadline

    started = now()
    registry = registry_for(opts.plugins)
    for p in registry.problems:
        progress(f"warning: plugin {p.source}: {p.message}")
    endpoint = resolve_endpoint(opts.host, opts.context)
    client = connect(endpoint, opts.timeout, 8)
    api = client.api
    try:
        api.ping()
    except (DockerException, RequestException) as exc:
        with contextlib.suppress(Exception):
            client.close()
        raise engine_error(endpoint, exc) from exc
    progress(f"engine {endpoint.host} ({endpoint.source})")

    redactor = Redactor(opts.redact, opts.redact_patterns, opts.redact_names)
    try:
        writer = BundleWriter(opts.output_dir, bundle_name([ENGINE_KEY], started, opts.redact))
    except BaseException:
        client.close()
        raise
    pipe = Pipeline(registry, redactor, writer, opts.debug)
    try:
        engine, host, records = collect_engine(api, endpoint.local, endpoint.host, pipe,
                                               Deadline(opts.deadline))
        collected_at = utc_stamp(started)
        reports, run_outcomes = pipe.finish(engine, host,
                                            {"started_at": collected_at, "mode": "live"}, [])
        report, path = publish(
            pipe=pipe, started=started, engine=engine, source=endpoint.source, host=host,
            records=records, reports=reports, run_outcomes=run_outcomes, argv=opts.argv,
            options={"timeout": opts.timeout, "deadline": opts.deadline},
        )
    except BaseException:
        writer.abort()
        raise
    finally:
        with contextlib.suppress(Exception):
            client.close()
    progress(f"bundle written: {path}")
    return RunResult(report, path, redactor)
