"""Bundle reading has hard bounds (diagnose/model/limits.py), measured on crafted bundles.

Every bound is crossed once: `diagnose analyze` and `diagnose redact` (real subprocesses) exit 2
with one line, write nothing, and their peak RSS stays under PEAK.  And every bound is reached
once by a bundle that is still read: both commands succeed under the same PEAK (a 64 MiB log of
`x=1` lines, a 1 GiB log, 1,000 containers, the JSON budgets...).  No engine is needed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from diagnose.model import limits as lim
from diagnose.model.jsonscan import measure
from tests.support import bundlecraft as bc

#: The peak RSS `analyze` and `redact` stay under at every bound (README, "The bundle").
PEAK = 512 * lim.MiB
LINE = b"2026-11-28T01:00:00.000000000Z x=1\n"


def _runs(path: Path, tmp_path: Path) -> list[tuple[str, bc.Run, Path]]:
    out = tmp_path / "redacted.tar.gz"
    out.unlink(missing_ok=True)
    return [("analyze", bc.measured("analyze", str(path), "--format", "json", cwd=tmp_path), out),
            ("redact", bc.measured("redact", str(path), "-o", str(out), cwd=tmp_path), out)]


def refused(path: Path, tmp_path: Path, *needles: str) -> str:
    """Both commands refuse `path`: exit 2, one line naming the problem, nothing written,
    memory under PEAK."""
    line = ""
    for command, run, out in _runs(path, tmp_path):
        assert run.code == 2, f"{command}: exit {run.code}: {run.stderr[-2000:]}"
        assert len(run.lines) == 1 and run.lines[0].startswith("diagnose: error: "), run.stderr
        assert "Traceback" not in run.stderr and run.stdout == ""
        for needle in needles:
            assert needle in run.lines[0], (needle, run.lines[0])
        assert run.peak_rss < PEAK, f"{command}: peak RSS {run.peak_rss >> 20} MiB"
        assert not out.exists()
        line = run.lines[0]
    return line


def read(path: Path, tmp_path: Path) -> tuple[dict, Path]:
    """Both commands read `path` under PEAK; the analysed report and the redacted copy."""
    runs = _runs(path, tmp_path)
    for command, run, _ in runs:
        assert run.code in (0, 1), f"{command}: exit {run.code}: {run.stderr[-2000:]}"
        assert run.peak_rss < PEAK, f"{command}: peak RSS {run.peak_rss >> 20} MiB"
    assert runs[1][2].exists()
    return json.loads(runs[0][1].stdout), runs[1][2]


def _log_member(members: list[bc.Member], data: bytes | bc.Stream,
                stream: str = "stdout") -> list[bc.Member]:
    """`members` with the container's log `stream` replaced by `data`."""
    return [(n, data if n.endswith(f"/logs/{stream}.log") else d) for n, d in members]


# -- the end of the archive ---------------------------------------------------------------------


def test_zeros_after_the_tar_end_are_refused(tmp_path):
    path = bc.write(tmp_path / "b.tar.gz", bc.sample_members(), after_tar=bc.zeros(512 * lim.MiB))
    refused(path, tmp_path, "data after the end of its tar archive")


def test_data_after_the_tar_end_is_refused(tmp_path):
    path = bc.write(tmp_path / "b.tar.gz", bc.sample_members(), after_tar=b"\0" * 512 + b"evil")
    refused(path, tmp_path, "data after the end of its tar archive")


@pytest.mark.parametrize("tail", [b"garbage", b"\0" * 4096, "second gzip member"])
def test_anything_after_the_gzip_stream_is_refused(tmp_path, tail):
    import gzip

    extra = gzip.compress(b"more") if tail == "second gzip member" else tail
    path = bc.write(tmp_path / "b.tar.gz", bc.sample_members(), after_gzip=extra)
    refused(path, tmp_path, "after the end of its gzip stream")


def test_a_decompression_bomb_stops_at_the_total_bound(tmp_path):
    """MAX_BUNDLE_BYTES (32 GiB) takes minutes to inflate; the same code path is proven with
    the bound lowered to 1 GiB in the diagnose process itself."""
    members = _log_member(bc.sample_members(), bc.zeros(600 * lim.MiB), "stdout")
    members = _log_member(members, bc.zeros(600 * lim.MiB), "stderr")
    path = bc.write(tmp_path / "b.tar.gz", members)
    code = ("import sys; import diagnose.model.limits as l; l.MAX_BUNDLE_BYTES = 1 << 30; "
            "from diagnose.cli.main import main; "
            "sys.argv = ['diagnose', 'analyze', sys.argv[1]]; main()")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=600, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "larger than 1 GiB once uncompressed" in proc.stderr


# -- members --------------------------------------------------------------------------------------


def test_unlisted_members_are_refused_never_carried_over(tmp_path):
    junk = [(f"junk{i}.bin", bc.zeros(512 * lim.MiB)) for i in range(4)]
    path = bc.write(tmp_path / "b.tar.gz", bc.sample_members() + junk,
                    unlisted=[n for n, _ in junk])
    refused(path, tmp_path, "junk0.bin", "does not list")


def test_a_duplicate_member_is_refused(tmp_path):
    members = bc.sample_members()
    twice = next(m for m in members if m[0].endswith("/inspect.json"))
    path = bc.write(tmp_path / "b.tar.gz", [*members, twice])
    refused(path, tmp_path, twice[0], "twice")


def test_a_member_unlike_its_manifest_entry_is_refused(tmp_path):
    members = bc.fix_files(bc.sample_members())
    name = next(n for n, _ in members if n.endswith("/inspect.json"))
    changed = [(n, d + b" " if n == name else d) for n, d in members]  # type: ignore[operator]
    refused(bc.write(tmp_path / "b.tar.gz", changed, fix=False), tmp_path, name, "bytes")
    flipped = [(n, d.replace(b"{", b"[", 1).replace(b"}", b"]", 1)  # type: ignore[union-attr]
                if n == name else d) for n, d in members]
    refused(bc.write(tmp_path / "c.tar.gz", flipped, fix=False), tmp_path, name, "checksum")
    missing = [(n, d) for n, d in members if n != name]
    refused(bc.write(tmp_path / "d.tar.gz", missing, fix=False), tmp_path, name, "missing")


def test_too_many_members_are_refused(tmp_path):
    path = tmp_path / "b.tar.gz"
    bc.write(path, bc.sample_members())
    with tarfile.open(path, "r:gz") as tf:
        members = [(m, tf.extractfile(m).read()) for m in tf]  # type: ignore[union-attr]
    import gzip
    import io

    with gzip.open(path, "wb", compresslevel=1) as gz, \
            tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as tf:
        for info, data in members[:1]:
            tf.addfile(info, io.BytesIO(data))
        for i in range(lim.MAX_MEMBERS):
            d = tarfile.TarInfo(f"d{i}")
            d.type = tarfile.DIRTYPE
            tf.addfile(d)
    refused(path, tmp_path, f"more than {lim.MAX_MEMBERS:,} members")


def test_a_huge_tar_header_is_refused(tmp_path):
    name = "containers/x/" + "n" * (lim.MAX_TAR_HEADER_BYTES + 10)
    path = bc.write(tmp_path / "b.tar.gz", [*bc.sample_members(), (name, b"{}")])
    refused(path, tmp_path, "tar metadata header")


def test_members_beyond_their_size_bound_are_refused(tmp_path):
    members = bc.sample_members()
    key = next(n for n, _ in members if n.endswith("/inspect.json")).rsplit("/", 1)[0]
    big_json = [*members, (f"{key}/diff.json.big.json", bc.zeros(lim.MAX_FILE_BYTES + 1))]
    refused(bc.write(tmp_path / "b.tar.gz", big_json), tmp_path, "larger than 16 MiB")
    big_log = _log_member(members, bc.zeros(lim.MAX_LOG_BYTES + 1))
    refused(bc.write(tmp_path / "c.tar.gz", big_log), tmp_path, "larger than 1 GiB")
    elsewhere = [*members, ("engine/logs/stdout.log", bc.zeros(lim.MAX_FILE_BYTES + 1))]
    refused(bc.write(tmp_path / "d.tar.gz", elsewhere), tmp_path, "larger than 16 MiB")


@pytest.mark.parametrize("where", ["manifest", "inspect"])
def test_json_nested_too_deep_is_refused(tmp_path, where):
    deep = b"[" * (lim.MAX_JSON_DEPTH + 1) + b"]" * (lim.MAX_JSON_DEPTH + 1)
    members = bc.sample_members()
    if where == "manifest":
        manifest = json.dumps(bc.manifest_of(bc.fix_files(members)))
        doc = manifest[:-1] + ', "deep": ' + deep.decode() + "}"
        path = bc.write(tmp_path / "b.tar.gz", bc.with_manifest(members, doc.encode()),
                        fix=False)
        refused(path, tmp_path, "manifest.json", "nested deeper than 64")
    else:
        name = next(n for n, _ in members if n.endswith("/inspect.json"))
        path = bc.write(tmp_path / "b.tar.gz", [(n, deep if n == name else d)
                                                for n, d in members])
        refused(path, tmp_path, name, "nested deeper than 64")


@pytest.mark.parametrize("field,value", [
    ("files", [{"path": "findings.json", "size": "12", "sha256": "0" * 64}]),
    ("engines", [{"label": "x", "targets": "many"}]),
    ("collectors", [{"name": "logs", "owner": "x", "detail": []}]),
    ("targets", {"key": "x"}),
    ("redaction", {"enabled": True, "counts": [{"rule": "r", "file": "f", "count": 1.5}]}),
    ("started_at", 12),
])
def test_manifest_fields_of_the_wrong_type_are_refused(tmp_path, field, value):
    members = bc.fix_files(bc.sample_members())
    manifest = bc.manifest_of(members)
    manifest[field] = value
    path = bc.write(tmp_path / "b.tar.gz", bc.with_manifest(members, manifest), fix=False)
    refused(path, tmp_path, "malformed manifest.json", field)


# -- what one container, service or the run holds -------------------------------------------------


def _items(n: int) -> bytes:
    """A JSON list of one-key objects measuring `n` items (diagnose.model.jsonscan counts 3 per
    object: the object, its key and the comma before the next), the costliest kind to
    parse: about 200 bytes of memory per object."""
    data = b"[" + b",".join([b'{"a":0}'] * ((n - 2) // 3)) + b"]"
    assert n - 3 <= measure(data, lim.MAX_JSON_DEPTH) <= n
    return data


def test_a_container_over_its_json_items_is_refused_and_at_them_is_read(tmp_path):
    over = bc.replicated(1, {**_one_container(), "diff.json": _items(lim.MAX_TARGET_ITEMS + 1)})
    refused(bc.write(tmp_path / "b.tar.gz", over), tmp_path, "t0", "JSON items")
    own = {k: v for k, v in _one_container().items() if k != "diff.json"}
    used = sum(measure(v, lim.MAX_JSON_DEPTH) for k, v in own.items() if k.endswith(".json"))
    half = lim.MAX_TARGET_ITEMS // 2
    at = bc.replicated(1, {**own, "diff.json": _items(half),
                           "top.json": _items(lim.MAX_TARGET_ITEMS - half - used - 2)})
    read(bc.write(tmp_path / "c.tar.gz", at), tmp_path)


def test_a_container_over_its_bytes_is_refused(tmp_path):
    big = {f"errors/x{i}.txt": bc.repeated(b"traceback line\n", 15 * lim.MiB) for i in range(5)}
    over = bc.replicated(1, {**_one_container(), **big})
    refused(bc.write(tmp_path / "b.tar.gz", over), tmp_path, "t0", "64 MiB")


def test_what_the_run_keeps_is_bounded(tmp_path):
    per = lim.MAX_KEPT_ITEMS // 4 - 20_000  # four inspect.json files just under the bound
    inspect = b'{"Name": "/x", "Junk": ' + _items(per) + b"}"
    at = bc.replicated(4, {**_one_container(), "inspect.json": inspect})
    read(bc.write(tmp_path / "b.tar.gz", at), tmp_path)
    over = bc.replicated(5, {**_one_container(), "inspect.json": inspect})
    refused(bc.write(tmp_path / "c.tar.gz", over), tmp_path, "the run", "JSON items")
    text = b'{"Name": "/x", "Junk": "' + b"j" * (lim.MAX_FILE_BYTES - 100) + b'"}'
    at = bc.replicated(3, {**_one_container(), "inspect.json": text})
    read(bc.write(tmp_path / "d.tar.gz", at), tmp_path)
    over = bc.replicated(5, {**_one_container(), "inspect.json": text})
    refused(bc.write(tmp_path / "e.tar.gz", over), tmp_path, "the run", "64 MiB")


def test_containers_services_and_engines_are_counted(tmp_path):
    path = bc.write(tmp_path / "b.tar.gz", bc.replicated(lim.MAX_CONTAINERS + 1,
                                                         {"inspect.json": b"{}"}))
    refused(path, tmp_path, f"more than {lim.MAX_CONTAINERS:,} containers")
    path = bc.write(tmp_path / "c.tar.gz", bc.replicated(lim.MAX_SERVICES + 1, None,
                                                         "crashing-service", "services"))
    refused(path, tmp_path, f"more than {lim.MAX_SERVICES} services")
    engines = [(f"engines/e{i}/engine/version.json", b"{}") for i in range(lim.MAX_ENGINES + 1)]
    path = bc.write(tmp_path / "d.tar.gz", [*bc.sample_members(), *engines])
    refused(path, tmp_path, f"more than {lim.MAX_ENGINES} engines")


def test_a_bundle_at_the_container_and_service_bounds_is_read(tmp_path):
    doc, _ = read(bc.write(tmp_path / "b.tar.gz", bc.replicated(lim.MAX_CONTAINERS)), tmp_path)
    assert len(doc["targets"]) == lim.MAX_CONTAINERS
    doc, _ = read(bc.write(tmp_path / "c.tar.gz", bc.replicated(
        lim.MAX_SERVICES, None, "crashing-service", "services")), tmp_path)
    assert len(doc["services"]) == lim.MAX_SERVICES


def _one_container() -> dict[str, bytes]:
    members = bc.sample_members()
    key = next(n for n, _ in members if n.endswith("/inspect.json")).rsplit("/", 1)[0]
    return {n[len(key) + 1:]: d for n, d in members if n.startswith(key + "/")}


# -- logs ---------------------------------------------------------------------------------------


def test_a_64_mib_log_of_tiny_lines_is_read_in_bounded_memory(tmp_path):
    log = bc.repeated(LINE, 64 * lim.MiB)
    path = bc.write(tmp_path / "b.tar.gz", _log_member(bc.sample_members(), log))
    doc, out = read(path, tmp_path)
    logs = next(s for s in doc["targets"][0]["path"] if s["stage"] == "logs")
    total = 64 * lim.MiB // len(LINE) + 1
    assert f"{total} stdout" in logs["answer"]
    assert f"stdout: lines {lim.LOG_HEAD_LINES + 1:,}-" in logs["answer"]
    assert "not analysed" in logs["answer"]
    with tarfile.open(out, "r:gz") as tf:
        member = next(m for m in tf if m.name.endswith("/logs/stdout.log"))
        fh = tf.extractfile(member)
        assert fh is not None
        got = hashlib.sha256()
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            got.update(chunk)
    assert member.size == log.size and got.hexdigest() == log.sha256()


def test_logs_at_the_size_bound_are_read_in_bounded_memory(tmp_path):
    members = _log_member(bc.sample_members(), bc.repeated(LINE, lim.MAX_LOG_BYTES))
    read(bc.write(tmp_path / "b.tar.gz", members), tmp_path)


def test_the_widest_windows_are_read_in_bounded_memory(tmp_path):
    """Both streams' windows full of 4-byte characters (the costliest text to decode), and an
    unredacted bundle, which `analyze` redacts before it analyses."""
    line = b"2026-11-28T01:00:00.000000000Z password=" + ("\U0001F600" * 95).encode() + b"\n"
    members = _log_member(bc.sample_members(), bc.repeated(line, 64 * lim.MiB))
    members = _log_member(members, bc.repeated(line, 64 * lim.MiB), "stderr")
    manifest = bc.manifest_of(members)
    manifest["redaction"] = {"enabled": False, "counts": []}
    read(bc.write(tmp_path / "b.tar.gz", bc.with_manifest(members, manifest)), tmp_path)
