"""`diagnose engine`: the engine and its host on their own, with no container to diagnose.

Collects what every bundle's engine section holds (version, info with its Warnings, system df,
the cleanup lists of :mod:`diagnose.collect.cleanup`, and the host facts), runs the run-scope
checks through the same :class:`~diagnose.run.Pipeline` as `diagnose CONTAINER`, and writes a
`diagnose-engine-<time>.tar.gz` bundle through the same archive writer, redaction and rescan.
`diagnose analyze` reads it back like any other bundle (it simply has no containers).
"""

from __future__ import annotations

import contextlib
from typing import Any

from diagnose.errors import EngineError, UsageError
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


def collect_engine(api: Any, local: bool, endpoint: str, pipe: Pipeline, deadline: Any
                   ) -> tuple[EngineFacts, HostFacts, list[CollectorRecord]]:
    """The engine section (as every bundle has it), redacted and streamed into the bundle."""
    from diagnose.app import _pool
    from diagnose.collect import section

    with _pool(4, "engine") as pool:
        sec = section.start(api, local, deadline, pool)
        if not sec.answered:
            raise EngineError(f"the engine at {endpoint} stopped answering: {sec.reason()}",
                              "check dockerd")
        _, tail_files = section.finish(sec, deadline)
    assert sec.host_record is not None
    engine = EngineFacts(pipe.add_files({**sec.files, **tail_files}), sec.records, endpoint,
                         local)
    host = HostFacts(pipe.add_files(sec.host_files), {"host": sec.host_record})
    return engine, host, [*sec.records.values(), sec.host_record]


def run_engine(opts: RunOptions, progress: Progress) -> RunResult:
    """Collect, redact, analyse and archive the engine's own evidence (no container)."""
    # Heavy imports only here, as in diagnose.app.
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    # The report/archive tail is diagnose.app's own (shared, not copied).
    from diagnose.app import publish
    from diagnose.archive import BundleWriter
    from diagnose.collect.connect import connect, engine_error
    from diagnose.collect.record import Deadline

    started = now()
    registry = registry_for(opts.plugins)
    for p in registry.problems:
        progress(f"warning: plugin {p.source}: {p.message}")
    from diagnose.live import endpoints

    named = endpoints(opts)
    if len(named) > 1:
        raise UsageError("diagnose engine looks at one engine at a time",
                         "give one --host or --context")
    endpoint = named[0][1]
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
