"""The two runs: live (`diagnose CONTAINER...`) and offline (`diagnose analyze BUNDLE`)."""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import tarfile
from pathlib import Path
from typing import Any

from diagnose import layout
from diagnose.analyse import Report
from diagnose.bundle import BundleReader
from diagnose.errors import EngineError, SecretLeak
from diagnose.redact import MIN_PROPAGATE, Redactor
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
from diagnose.snapshot import CollectorRecord, EngineFacts, HostFacts


def run_live(opts: RunOptions, progress: Progress) -> RunResult:
    """Collect, redact, analyse and archive the named containers."""
    # Heavy imports only here: `diagnose --help` and `--version` never pay for them.
    from docker.errors import DockerException
    from requests.exceptions import RequestException

    from diagnose.collect import container as cc
    from diagnose.collect import engine_facts as ef
    from diagnose.collect.cleanup import collect_cleanup
    from diagnose.collect.connect import connect, engine_error, resolve_endpoint
    from diagnose.collect.host import collect_host
    from diagnose.collect.record import Deadline, run_collector
    from diagnose.collect.runner import CollectOptions, collect_all
    from diagnose.collect.targets import resolve

    started = now()
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

    redactor = Redactor(opts.redact, opts.redact_patterns)
    for ins in inspects:
        redactor.learn_inspect(ins)
    keys = unique_keys(inspects)
    writer = _open_writer(opts, keys, started)
    pipe = Pipeline(registry, redactor, writer, opts.debug)
    try:
        deadline = Deadline(opts.deadline)
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

        with cf.ThreadPoolExecutor(3, thread_name_prefix="engine") as epool:
            df_future = epool.submit(run_collector, "df", "engine", lambda: ef.collect_df(api),
                                     deadline)
            cleanup_future = epool.submit(collect_cleanup, api, deadline)
            for name, fn in (("version", version_piece), ("info", info_piece)):
                rec, files = run_collector(name, "engine", fn, deadline)
                engine_records[name] = rec
                engine_files.update(files)
            if not engine_records["version"].ok and not engine_records["info"].ok:
                raise EngineError(f"the engine at {endpoint.host} stopped answering: "
                                  f"{engine_records['info'].reason}", "check dockerd")
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
            df_rec, df_files = df_future.result()
            for rec, files in cleanup_future.result():
                engine_records[rec.name] = rec
                df_files.update(files)
        engine_records["df"] = df_rec
        df_files = pipe.add_files(df_files)
        engine = EngineFacts({**engine_files, **df_files}, engine_records, endpoint.host,
                             endpoint.local)
        run_meta = {"started_at": collected_at, "mode": "live"}
        reports, run_outcomes = pipe.finish(engine, host, run_meta, keys)
        all_records = [*engine_records.values(), host_rec, *pipe.records]
        pipe.add_files(check_error_files(pipe.errors), redact=True)
        report = _report(
            mode="live", started=started, engine=engine, source=endpoint.source, host=host,
            bundle=str(writer.final_path), redactor=redactor, records=all_records,
            pipe=pipe, reports=reports, run_outcomes=run_outcomes, files=list(writer.files),
        )
        head = _head_files(report, redactor)
        files_all = [*({"path": p, "size": len(d), "sha256": _sha(d)} for p, d in head),
                     *writer.files]
        finished = now()
        manifest = manifest_document(
            started=started, finished=finished, argv=redacted_argv(opts.argv, redactor),
            engine=report.meta["engine"], records=all_records, files=files_all,
            redaction={"enabled": redactor.enabled, "counts": redactor.report()},
            targets=[{"key": r.key, "name": r.name, "id": r.id} for r in reports],
            options={"tail": opts.tail, "since": opts.since, "max_log_bytes": opts.max_log_bytes,
                     "timeout": opts.timeout, "deadline": opts.deadline, "jobs": opts.jobs,
                     "probe": opts.probe},
            checks={"count": len(registry), "errored": len(pipe.errors),
                    "problems": report.meta["problems"]},
        )
        # Collector reasons and details quote engine messages: the text pass covers them too.
        manifest_bytes = redactor.text_file(layout.MANIFEST, dump(manifest))
        path = writer.finish([(layout.MANIFEST, manifest_bytes), *head])
    except BaseException:
        writer.abort()
        raise
    finally:
        with contextlib.suppress(Exception):
            client.close()
    if redactor.enabled:
        _rescan(path, redactor)
    progress(f"bundle written: {path}")
    return RunResult(report, path, redactor)


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
    return Report(tuple(reports), tuple(run_outcomes), meta, tuple(pipe.errors))


def _head_files(report: Report, redactor: Redactor) -> list[tuple[str, bytes]]:
    """findings.json, summary.md and summary.html, redacted like every other byte."""
    out = []
    for path, fmt in ((layout.FINDINGS, Format.JSON), (layout.SUMMARY_MD, Format.MARKDOWN),
                      (layout.SUMMARY_HTML, Format.HTML)):
        # Our own documents are built from redacted evidence; the text pass is a safety net
        # (a structural pass would mistake report fields such as "key" for secrets).
        out.append((path, redactor.text_file(path, render(report, fmt).encode("utf-8"))))
    return out


def _rescan(path: Path, redactor: Redactor) -> None:
    """Reread the finished archive; any learned secret still inside deletes the bundle."""
    secrets = [s.encode("utf-8", "surrogateescape") for s in redactor.secrets()
               if len(s) >= MIN_PROPAGATE]
    if not secrets:
        return
    leaked: list[str] = []
    with tarfile.open(path, "r:gz") as tf:
        for member in tf:
            if not member.isreg():
                continue
            fh = tf.extractfile(member)
            data = fh.read() if fh is not None else b""
            if any(s in data for s in secrets):
                leaked.append(member.name)
    if leaked:
        path.unlink(missing_ok=True)
        raise SecretLeak(
            f"a secret survived redaction in {', '.join(leaked[:5])}; the bundle was deleted",
            "report this as a bug; use --redact PATTERN to add a rule meanwhile",
        )


def run_analyze(bundle: Path, plugins: bool = True, debug: bool = False) -> RunResult:
    """Rebuild the evidence from a bundle (no engine) and run the same checks."""
    registry = registry_for(plugins)
    reader = BundleReader(bundle)
    parts, containers = reader.read()
    manifest = parts.manifest
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
            seen_by_containers = EngineFacts(dict(parts.engine_files), engine_records, endpoint,
                                             local)
        pipe.container(key, files, parts.records(key), seen_by_containers, collected_at,
                       redact=False)
    engine = EngineFacts(dict(parts.engine_files), engine_records, endpoint, local)
    host = HostFacts(dict(parts.host_files), parts.records("host"))
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
    return RunResult(report, None)


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

