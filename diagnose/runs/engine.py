"""`diagnose engine`: the engine and its host on their own, with no container to diagnose.

Collects what every bundle's engine section holds (version, info with its Warnings, system df,
the cleanup lists of :mod:`diagnose.collect.cleanup`, and the host facts), runs the run-scope
checks through the same :class:`~diagnose.pipeline.sink.Pipeline` as `diagnose CONTAINER`,
and writes a `diagnose-engine-<time>.tar.gz` bundle through the same archive writer, redaction
and rescan.  `diagnose analyze` reads it back like any other bundle (it has no containers).
"""

from __future__ import annotations

import contextlib
import time

from docker.errors import DockerException
from requests.exceptions import RequestException

from diagnose.analysis.registry import registry_for
from diagnose.bundle.naming import bundle_name
from diagnose.bundle.writer import BundleWriter
from diagnose.collect.connect import engine_error
from diagnose.collect.record import Deadline
from diagnose.collect.scope import Scope
from diagnose.model.options import Progress, RunOptions, run_date
from diagnose.model.times import utc_stamp
from diagnose.pipeline.publish import publish
from diagnose.pipeline.report import RunFacts, RunResult
from diagnose.pipeline.sink import Pipeline
from diagnose.redact.redactor import Redactor
from diagnose.runs.sessions import collect_engine, connected, single_endpoint

ENGINE_KEY = "engine"


def run_engine(opts: RunOptions, progress: Progress) -> RunResult:
    """Collect, redact, analyse and archive the engine's own evidence (no container)."""
    started = time.time()
    registry = registry_for(opts.plugins, opts.skip, opts.only, opts.ignores,
                            run_date(started))
    for p in registry.problems:
        progress(f"warning: {p.line()}")
    endpoint = single_endpoint(opts, "diagnose engine looks at one engine at a time")
    with connected(endpoint, opts.timeout, 8) as client:
        try:
            client.api.ping()
        except (DockerException, RequestException) as exc:
            raise engine_error(endpoint, exc) from exc
        progress(f"engine {endpoint.host} ({endpoint.source})")
        redactor = Redactor(opts.redact, opts.redact_patterns, opts.redact_names)
        # --no-bundle: no writer at all, so nothing is written (not even a temporary file).
        with (BundleWriter(opts.output_dir, bundle_name([ENGINE_KEY], started, opts.redact))
              if opts.bundle else contextlib.nullcontext(None)) as writer:
            pipe = Pipeline(registry, redactor, writer, opts.debug)
            engine, host, records = collect_engine(client.api, endpoint.local, endpoint.host,
                                                   pipe, Deadline(opts.deadline), Scope.engine())
            reports, run_outcomes = pipe.finish(
                engine, host, {"started_at": utc_stamp(started), "mode": "live"}, [])
            facts = RunFacts(started, engine, endpoint.source, host, records, reports,
                             run_outcomes)
            report, path = publish(pipe, facts, opts.argv,
                                   {"timeout": opts.timeout, "deadline": opts.deadline})
    if path is not None:
        progress(f"bundle written: {path}")
    return RunResult(report, path, redactor)
