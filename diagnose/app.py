"""The two runs: live (`diagnose CONTAINER...`) and offline (`diagnose analyze BUNDLE`)."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from diagnose import layout
from diagnose.analyse import Report
from diagnose.archive import check_output_dir, scan_for_secrets
from diagnose.bundle import BundleReader
from diagnose.redact import Redactor
from diagnose.render import Format, render
from diagnose.run import (
    Pipeline,
    Progress,
    RunOptions,
    RunResult,
    build_meta,
    bundle_name,
    check_error_files,
    dump,
    manifest_document,
    now,
    problems_of,
    redacted_argv,
    registry_for,
    unique_keys,
    utc_stamp,
)
from diagnose.service_run import analyse_bundle_services
from diagnose.snapshot import CollectorRecord, EngineFacts, HostFacts


def run_live(opts: RunOptions, progress: Progress) -> RunResult:
    """Collect, redact, analyse and archive the named containers."""
    # Heavy imports only here: `diagnose --help` and `--version` never pay for them.
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    from diagnose.collect import container as cc
    from diagnose.collect import engine_facts as ef
    from diagnose.collect.cleanup import COLLECTORS, collect_cleanup
    from diagnose.collect.connect import connect, engine_error, resolve_endpoint
    from diagnose.collect.host import collect_host
    from diagnose.collect.record import Deadline, GuardedAPI, run_collector
    from diagnose.collect.runner import CollectOptions, collect_all
    from diagnose.collect.targets import resolve

    started = now()
    check_output_dir(opts.output_dir)  # before any engine work: a bad -o fails at once
    registry = registry_for(opts.plugins)
    for p in registry.problems:
        progress(f"warning: plugin {p.source}: {p.message}")
    endpoint = resolve_endpoint(opts.host, opts.context)
    pool_size = max(8, opts.jobs * 7)
    client = connect(endpoint, opts.timeout, pool_size)
    api = client.api
    try:
        api.ping()
        inspects = resolve(api, list(opts.targets), opts.select_all, opts.filters, opts.jobs)
    except (DockerException, RequestException) as exc:
        raise engine_error(endpoint, exc) from exc
    progress(f"engine {endpoint.host} ({endpoint.source}); {len(inspects)} target(s)")

    redactor = Redactor(opts.redact, opts.redact_patterns, opts.redact_names)
    for ins in inspects:
        redactor.learn_inspect(ins)
    # Directory and bundle names come from container names, which may hold a learned secret.
    keys = unique_keys([{**ins, "Name": redactor.plain(str(ins.get("Name", "")))}
                        for ins in inspects])
    writer = _open_writer(opts, keys, started)
    pipe = Pipeline(registry, redactor, writer, opts.debug)
    try:
        deadline = Deadline(opts.deadline)
        api = GuardedAPI(client.api, deadline)
        engine_records: dict[str, CollectorRecord] = {}
        engine_files: dict[str, bytes] = {}
        version: dict[str, Any] = {}
        info: dict[str, Any] = {}

        def version_piece() -> Any:
            nonlocal version
            version, piece = ef.collect_version(api)
            return piece

        def info_piece() -> Any:
            nonlocal info
            info, piece = ef.collect_info(api)
            return piece

        with _pool(3, "engine") as epool:
            df_future = epool.submit(run_collector, "df", "engine", lambda: ef.collect_df(api),
                                     deadline)
            cleanup_future = epool.submit(collect_cleanup, api, deadline)
            for name, fn in (("version", version_piece), ("info", info_piece)):
                rec, files = run_collector(name, "engine", fn, deadline)
                engine_records[name] = rec
                engine_files.update(files)
            if not engine_records["version"].ok and not engine_records["info"].ok:
                # The targets were resolved: what was seen is still worth a (partial) bundle.
                progress(f"warning: the engine stopped answering: "
                         f"{engine_records['info'].reason}; the bundle will be partial")
            engine_files = pipe.add_files(engine_files)
            data_root = str(info.get("DockerRootDir") or "")
            host_rec, host_files = run_collector(
                "host", "host", lambda: collect_host(data_root, endpoint.local), deadline)
            host_files = pipe.add_files(host_files)
            engine = EngineFacts(engine_files, engine_records, endpoint.host, endpoint.local)
            host = HostFacts(host_files, {"host": host_rec})

            copts = CollectOptions(
                logs=cc.LogOptions(opts.tail, opts.since, opts.max_log_bytes),
                jobs=opts.jobs,
                local=endpoint.local,
                engine_arch=engine.architecture,
                deadline=deadline,
                probe=opts.probe,
            )
            collected_at = utc_stamp(started)
            done = 0
            for item in collect_all(api, list(zip(keys, inspects, strict=True)), copts):
                done += 1
                target = pipe.container(item.key, item.files, item.records, engine, collected_at)
                progress(f"[{done}/{len(keys)}] {item.key}: {target.summary}")
            try:
                df_rec, df_files = df_future.result(timeout=deadline.remaining())
            except cf.TimeoutError:
                df_rec = CollectorRecord("df", "engine", "failed",
                                         "overall --deadline reached before it finished")
                df_files = {}
            try:
                for rec, files in cleanup_future.result(timeout=deadline.remaining()):
                    engine_records[rec.name] = rec
                    df_files.update(files)
            except cf.TimeoutError:
                for name in COLLECTORS:
                    engine_records[name] = CollectorRecord(
                        name, "engine", "failed", "overall --deadline reached before it finished")
        engine_records["df"] = df_rec
        df_files = pipe.add_files(df_files)
        engine = EngineFacts({**engine_files, **df_files}, engine_records, endpoint.host,
                             endpoint.local)
        run_meta = {"started_at": collected_at, "mode": "live"}
        reports, run_outcomes = pipe.finish(engine, host, run_meta, keys)
        all_records = [*engine_records.values(), host_rec, *pipe.records]
        report, path = publish(
            pipe=pipe, started=started, engine=engine, source=endpoint.source, host=host,
            records=all_records, reports=reports, run_outcomes=run_outcomes, argv=opts.argv,
            options={"tail": opts.tail, "since": opts.since, "max_log_bytes": opts.max_log_bytes,
                     "timeout": opts.timeout, "deadline": opts.deadline, "jobs": opts.jobs,
                     "probe": opts.probe},
        )
    except BaseException:
        writer.abort()
        raise
    finally:
        with contextlib.suppress(Exception):
            client.close()
    progress(f"bundle written: {path}")
    return RunResult(report, path, redactor)


def publish(*, pipe: Pipeline, started: float, engine: EngineFacts, source: str,
            host: HostFacts, records: list[CollectorRecord], reports: list[Any],
            run_outcomes: list[Any], argv: tuple[str, ...], options: dict[str, Any],
            ) -> tuple[Report, Path]:
    """The tail every bundle-writing run shares: the report, the head files (manifest first,
    scrubbed like stdout), and publication after the leak scan of the finished archive."""
    writer, redactor = pipe.writer, pipe.redactor
    assert writer is not None
    pipe.add_files(check_error_files(pipe.errors), redact=True)
    report = redactor.scrub(_report(
        mode="live", started=started, engine=engine, source=source, host=host,
        bundle=str(writer.final_path), redactor=redactor, records=records,
        pipe=pipe, reports=reports, run_outcomes=run_outcomes, files=list(writer.files),
    ))
    head = _head_files(report)
    files_all = [*({"path": p, "size": len(d), "sha256": _sha(d)} for p, d in head),
                 *writer.files]
    manifest = redactor.scrub(manifest_document(
        started=started, finished=now(), argv=redacted_argv(argv, redactor),
        engine=report.meta["engine"], records=records, files=files_all,
        redaction={"enabled": redactor.enabled, "counts": redactor.report()},
        targets=[{"key": r.key, "name": r.name, "id": r.id} for r in reports],
        options=options,
        checks={"count": len(pipe.registry), "errored": len(pipe.errors),
                "problems": report.meta["problems"]},
    ))
    path = writer.finish([(layout.MANIFEST, dump(manifest)), *head],
                         verify=lambda tmp: scan_for_secrets(tmp, redactor))
    return report, path


@contextlib.contextmanager
def _pool(workers: int, name: str) -> Iterator[cf.ThreadPoolExecutor]:
    """A thread pool that never waits at exit for engine calls nobody needs any more
    (Ctrl-C, or the deadline passed): each ends by itself within --timeout."""
    pool = cf.ThreadPoolExecutor(workers, thread_name_prefix=name)
    try:
        yield pool
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def _open_writer(opts: RunOptions, keys: list[str], started: float) -> Any:
    from diagnose.archive import BundleWriter

    return BundleWriter(opts.output_dir, bundle_name(keys, started, opts.redact))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _report(*, mode: str, started: float, engine: EngineFacts, source: str, host: HostFacts,
            bundle: str | None, redactor: Redactor, records: list[CollectorRecord],
            pipe: Pipeline, reports: list[Any], run_outcomes: list[Any],
            files: list[dict[str, Any]]) -> Report:
    meta = build_meta(
        mode=mode, started=started, engine=engine, source=source, host=host, bundle=bundle,
        redactor=redactor, records=records, problems=problems_of(pipe.registry, pipe.errors),
        files=files,
    )
    return Report(tuple(reports), tuple(run_outcomes), meta, tuple(pipe.errors),
                  tuple(pipe.services))


def _head_files(report: Report) -> list[tuple[str, bytes]]:
    """findings.json, summary.md and summary.html.

    They are rendered from the report, which is built from redacted evidence and scrubbed
    (:meth:`Redactor.scrub`) like stdout; the post-write rescan covers them as every file.
    """
    return [(path, render(report, fmt).encode("utf-8"))
            for path, fmt in ((layout.FINDINGS, Format.JSON), (layout.SUMMARY_MD, Format.MARKDOWN),
                              (layout.SUMMARY_HTML, Format.HTML))]


def run_analyze(bundle: Path, plugins: bool = True, debug: bool = False,
                redactor: Redactor | None = None) -> RunResult:
    """Rebuild the evidence from a bundle (no engine) and run the same checks.

    A bundle written with --no-redact is redacted in memory with `redactor` (when given and
    enabled) before the checks see it, so stdout stays free of its secrets.
    """
    registry = registry_for(plugins)
    reader = BundleReader(bundle)
    parts, containers = reader.read()
    manifest = parts.manifest
    was_redacted = bool((manifest.get("redaction") or {}).get("enabled", True))
    if redactor is None or was_redacted:
        redactor = Redactor(enabled=False)
    pipe = Pipeline(registry, redactor, None, debug)
    eng_meta = manifest.get("engine") or {}
    engine_records = parts.records("engine")
    endpoint, local = str(eng_meta.get("endpoint", "")), bool(eng_meta.get("local", False))
    collected_at = str(manifest.get("started_at", ""))
    order = [t.get("key") for t in manifest.get("targets") or ()]
    seen_by_containers: EngineFacts | None = None
    for key, files in containers:
        # The pass reads engine files as it goes: version and info precede the containers, df
        # follows them.  Fix the engine at the first container, so container checks see what
        # they saw live (info, not df).
        if seen_by_containers is None:
            seen_by_containers = EngineFacts(redactor.files(parts.engine_files, ""),
                                             engine_records, endpoint, local)
        redactor.learn_inspect(_json_or_empty(files.get(layout.INSPECT)))
        pipe.container(key, files, parts.records(key), seen_by_containers, collected_at,
                       redact=redactor.enabled)
    engine = EngineFacts(redactor.files(parts.engine_files, ""), engine_records, endpoint, local)
    analyse_bundle_services(pipe, parts, engine, collected_at, redactor.enabled)  # Swarm
    host = HostFacts(redactor.files(parts.host_files, ""), parts.records("host"))
    reports, run_outcomes = pipe.finish(engine, host, {"started_at": collected_at,
                                                        "mode": "offline"}, order)
    started_ts = _parse_epoch(collected_at)
    report = _report(
        mode="offline", started=started_ts, engine=engine, source=str(eng_meta.get("source", "")),
        host=host, bundle=str(bundle), redactor=_recorded_redaction(manifest), records=[
            CollectorRecord.from_dict(c) for c in manifest.get("collectors") or ()],
        pipe=pipe, reports=reports, run_outcomes=run_outcomes,
        files=[f for f in parts.file_list if f.get("path") not in
               (layout.FINDINGS, layout.SUMMARY_MD, layout.SUMMARY_HTML)],
    )
    return RunResult(redactor.scrub(report), None)


def _json_or_empty(data: bytes | None) -> dict[str, Any]:
    try:
        doc = json.loads(data or b"{}")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _recorded_redaction(manifest: dict[str, Any]) -> Redactor:
    """A stand-in that reports the redaction the bundle was written with."""
    red = manifest.get("redaction") or {}
    r = Redactor(enabled=bool(red.get("enabled", True)))
    for c in red.get("counts") or ():
        r.counts[(c.get("rule", ""), c.get("file", ""))] = int(c.get("count", 0))
    return r


def _parse_epoch(stamp: str) -> float:
    from diagnose.snapshot import parse_time

    t = parse_time(stamp)
    return t.timestamp() if t else 0.0

