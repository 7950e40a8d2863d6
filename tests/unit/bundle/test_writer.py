"""The archive writer: one valid gzip stream, manifest first, atomic, 0600, no temp left."""

from __future__ import annotations

import gzip
import os
import platform
import stat
import subprocess
import tarfile
import zlib

import pytest

from diagnose.bundle import writer
from diagnose.bundle.reader import BundleReader
from diagnose.bundle.writer import BundleWriter, crc32_combine
from diagnose.model.errors import BundleError, OutputError


def test_crc32_combine_matches_zlib():
    for a, b in ((b"", b"x"), (b"hello", b"world"), (os.urandom(3000), os.urandom(70001))):
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


def _write(tmp_path, files, head):
    w = BundleWriter(tmp_path, "b.tar.gz")
    for p, d in files:
        w.add(p, d)
    return w.finish(head), w


def test_isal_deflates_where_pyproject_installs_it():
    lib, level = writer.deflate_module()
    if platform.machine() in ("x86_64", "AMD64", "aarch64", "arm64"):
        assert lib.__name__ == "isal.isal_zlib" and level == 2
    else:
        assert lib is zlib and level == 6


@pytest.fixture(params=["default", "zlib"])
def deflate(request, monkeypatch):
    """The installed deflate (ISA-L), or the standard library's: the fallback where ISA-L has
    no wheel."""
    if request.param == "zlib":
        monkeypatch.setattr(writer, "deflate_module", lambda: (zlib, 6))
    return request.param


def test_single_gzip_stream_readable_everywhere(tmp_path, deflate):
    big = os.urandom(300_000) + b"compressible " * 50_000
    path, w = _write(tmp_path, [("engine/info.json", b"{}"), ("containers/a/x.bin", big)],
                     [("manifest.json", b'{"schema": "diagnose-bundle/1"}'),
                      ("findings.json", b"{}")])
    # gzip -t and a single-member stream reader both accept it.
    subprocess.run(["gzip", "-t", str(path)], check=True)
    raw = path.read_bytes()
    d = zlib.decompressobj(31)
    out = d.decompress(raw)
    assert d.eof and d.unused_data == b""
    with tarfile.open(fileobj=__import__("io").BytesIO(out)) as tf:
        names = tf.getnames()
    # One top-level directory, named after the bundle: unpacking never spills.
    assert names == ["b/manifest.json", "b/findings.json", "b/engine/info.json",
                     "b/containers/a/x.bin"]
    with tarfile.open(path, "r|gz") as tf:  # streaming mode too
        members = {m.name: tf.extractfile(m).read() for m in tf if m.isreg()}
    assert members["b/containers/a/x.bin"] == big
    listing = subprocess.run(["tar", "-tzf", str(path)], capture_output=True, text=True,
                             check=True).stdout.split()
    assert listing == names
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tar.gz"]
    assert [f["path"] for f in w.files] == ["engine/info.json", "containers/a/x.bin"]


def test_abort_leaves_nothing(tmp_path):
    w = BundleWriter(tmp_path, "b.tar.gz")
    w.add("a", b"x")
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_output_dir_problems(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        BundleWriter(tmp_path / "missing", "b.tar.gz")
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(OutputError, match="not a directory"):
        BundleWriter(f, "b.tar.gz")


def _manifest_for(files):
    import hashlib
    import json

    return json.dumps({"schema": "diagnose-bundle/1", "files": [
        {"path": p, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
        for p, d in files]}).encode()


def test_reader_refuses_bad_archives(tmp_path):
    with pytest.raises(BundleError, match="no such bundle"):
        BundleReader(tmp_path / "missing.tar.gz").members()
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not gzip at all")
    with pytest.raises(BundleError, match="not a gzip"):
        BundleReader(junk).members()
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tf:
        data = b"hello"
        info = tarfile.TarInfo("README")
        info.size = len(data)
        tf.addfile(info, __import__("io").BytesIO(data))
    with pytest.raises(BundleError, match="not a diagnose bundle"):
        BundleReader(foreign).members()
    files = [("containers/a/inspect.json", b"{}"), ("containers/a/x.bin", os.urandom(50_000))]
    path, _ = _write(tmp_path, files, [("manifest.json", _manifest_for(files))])
    parts, it = BundleReader(path).members()
    assert [(m.name, m.data) for m in it] == files
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(BundleError, match="truncated"):
        parts, it = BundleReader(cut).members()
        list(it)


def test_reader_refuses_path_traversal(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tf:
        for name, data in (("manifest.json", b'{"schema": "diagnose-bundle/1"}'),
                           ("../../etc/evil", b"x")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, __import__("io").BytesIO(data))
    parts, it = BundleReader(evil).members()
    with pytest.raises(BundleError, match="escapes"):
        list(it)
    assert not (tmp_path.parent.parent / "etc" / "evil").exists()
    # With a top-level directory, every member must lie inside it.
    stray = tmp_path / "stray.tar.gz"
    with tarfile.open(stray, "w:gz") as tf:
        for name, data in (("top/manifest.json", b'{"schema": "diagnose-bundle/1"}'),
                           ("other/x.json", b"{}")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, __import__("io").BytesIO(data))
    parts, it = BundleReader(stray).members()
    with pytest.raises(BundleError, match="outside its top-level directory top/"):
        list(it)
    gz = gzip.compress(b"")
    assert gz


def test_verify_failure_publishes_nothing(tmp_path):
    from diagnose.model.errors import SecretLeak

    w = BundleWriter(tmp_path, "b.tar.gz")
    w.add("containers/a/x.log", b"data")

    def verify(tmp):
        assert tmp.exists() and tmp.name != "b.tar.gz"
        raise SecretLeak("a secret survived", "")

    with pytest.raises(SecretLeak):
        w.finish([("manifest.json", b"{}")], verify=verify)
    assert list(tmp_path.iterdir()) == []


def test_exact_name_never_overwrites(tmp_path):
    (tmp_path / "b.tar.gz").write_bytes(b"old")
    with pytest.raises(OutputError, match="already exists"):
        BundleWriter(tmp_path, "b.tar.gz", exact=True)
    w = BundleWriter(tmp_path, "c.tar.gz", exact=True)
    w.add("a", b"x")
    (tmp_path / "c.tar.gz").write_bytes(b"raced")  # appeared while we were writing
    with pytest.raises(OutputError, match="already exists"):
        w.finish([("manifest.json", b"{}")])
    assert (tmp_path / "c.tar.gz").read_bytes() == b"raced"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tar.gz", "c.tar.gz"]


def test_runs_of_the_same_second_get_their_own_names(tmp_path):
    (tmp_path / "d.tar.gz").write_bytes(b"an earlier run")
    first = BundleWriter(tmp_path, "d.tar.gz")
    second = BundleWriter(tmp_path, "d.tar.gz")  # both open before either is published
    assert first.final_path.name == "d-2.tar.gz" and second.final_path.name == "d-3.tar.gz"
    for w in (second, first):
        w.add("a", b"x")
        w.finish([("manifest.json", b"{}")])
    assert (tmp_path / "d.tar.gz").read_bytes() == b"an earlier run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d-2.tar.gz", "d-3.tar.gz",
                                                          "d.tar.gz"]
    aborted = BundleWriter(tmp_path, "d.tar.gz")
    assert aborted.final_path.name == "d-4.tar.gz"
    aborted.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d-2.tar.gz", "d-3.tar.gz",
                                                          "d.tar.gz"]


def test_scan_for_secrets_names_members_never_values(tmp_path):
    from diagnose.bundle.rescan import scan_for_secrets
    from diagnose.model.errors import SecretLeak
    from diagnose.redact.redactor import Redactor

    r = Redactor()
    r.assignment("DB_PASSWORD=Leaky-Pw-1", "x")
    path, _ = _write(tmp_path, [("containers/a/logs/stdout.log", b"ok\nLeaky-Pw-1\n"),
                                ("containers/a/inspect.json", b'{"a": "clean"}')],
                     [("manifest.json", b'{"schema": "diagnose-bundle/1"}')])
    with pytest.raises(SecretLeak) as err:
        scan_for_secrets(path, r.secrets(), r.leaks)
    assert "containers/a/logs/stdout.log" in err.value.message
    assert "inspect.json" not in err.value.message and "Leaky" not in str(err.value)


def test_add_stream_writes_a_member_from_a_file_and_leaves_nothing_behind(tmp_path):
    import hashlib

    w = BundleWriter(tmp_path, "b.tar.gz")
    body = os.urandom(3 * 1024 * 1024 + 7)
    with w.spool() as spool:
        spool.write(body)
        spool.seek(0)
        w.add_stream("containers/a/logs/stdout.log", spool, len(body))
    w.add("containers/a/inspect.json", b"{}")
    path = w.finish([("manifest.json", b'{"schema": "diagnose-bundle/1"}')])
    with tarfile.open(path, "r:gz") as tf:
        got = tf.extractfile("b/containers/a/logs/stdout.log").read()  # type: ignore[union-attr]
    assert got == body
    assert w.files[0] == {"path": "containers/a/logs/stdout.log", "size": len(body),
                          "sha256": hashlib.sha256(body).hexdigest()}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.tar.gz"]


def test_the_writer_stops_at_the_bundle_bound(tmp_path, monkeypatch):
    import diagnose.bundle.writer as archive

    monkeypatch.setattr(archive, "MAX_BUNDLE_BYTES", 100_000)
    w = BundleWriter(tmp_path, "b.tar.gz")
    w.add("a", b"x" * 50_000)
    with pytest.raises(OutputError, match="would exceed"):
        w.add("b", b"x" * 60_000)
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_bundle_names_say_what_they_are_about():
    from diagnose.bundle.naming import bundle_name

    t = 1_795_000_000.0
    assert bundle_name(["web"], t, True).startswith("diagnose-web-2026")
    assert bundle_name(["web", "db", "worker"], t, True).startswith("diagnose-web-and-2-more-")
    assert bundle_name(["web", "db"], t, True, "shop").startswith("diagnose-shop-")
    assert bundle_name(["a", "b"], t, False, "all").endswith("-UNREDACTED.tar.gz")
    assert bundle_name(["web", "db"], t, True, "../x").startswith("diagnose-")
    assert "/" not in bundle_name(["web", "db"], t, True, "../x")
