"""Bad input, against the real engine: binary and invalid UTF-8 logs, a 1 GB log, odd names
and label values, unusable output directories, and `analyze`/`redact` on damaged archives."""

from __future__ import annotations

import contextlib
import html.parser
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

import psutil

from tests.support.engine import docker, docker_bytes, wait_for
from tests.support.faults import as_nobody, assert_one_line_error, leftovers, shared_dir
from tests.support.runs import read_members, run_diagnose

FORMATS = ("text", "json", "markdown", "html")
SAFE_MEMBER = re.compile(r"^[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*$")


def _raw_run(*args: str, cwd: Path) -> tuple[int, bytes, bytes]:
    proc = subprocess.run([sys.executable, "-m", "diagnose", *args], cwd=cwd,
                          capture_output=True, timeout=180, check=False)
    return proc.returncode, proc.stdout, proc.stderr


class _StrictHTML(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag not in ("meta", "br", "hr", "img", "link", "input", "wbr", "col"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def _assert_valid_output(fmt: str, out: bytes) -> None:
    text = out.decode("utf-8")  # strict: every format is valid UTF-8
    assert "\x00" not in text and "\x1b" not in text, f"{fmt}: raw control bytes"
    if fmt == "json":
        json.loads(text)
    if fmt == "html":
        parser = _StrictHTML()
        parser.feed(text)
        parser.close()
        assert parser.stack == [], parser.stack


def test_binary_and_invalid_utf8_logs(engine, tmp_path):
    script = (r"printf 'bin \377\376\000\001 caf\303\251 bad \303\050 \033[31mred\033[0m\n';"
              r"printf 'cut utf8 \342\202\n' >&2; printf '\200\201\202 no newline at end'")
    c = engine.run("binary", cmd=("sh", "-c", script))  # exits: the last line is flushed
    engine.wait_status(c, "exited")
    wait_for(lambda: b"no newline" in docker_bytes("logs", c).stdout, what="binary output")
    raw = docker_bytes("logs", "--timestamps", c)
    for fmt in FORMATS:
        out_dir = tmp_path / fmt
        out_dir.mkdir()
        code, out, err = _raw_run(c, "--format", fmt, "--exit-zero", "-o", str(out_dir),
                                  cwd=out_dir)
        assert code == 0, err
        assert b"Traceback" not in err
        _assert_valid_output(fmt, out)
        bundle = next(out_dir.glob("diagnose-*.tar.gz"))
        members = read_members(bundle)
        assert members[f"containers/{c}/logs/stdout.log"] == raw.stdout  # byte-exact
        assert members[f"containers/{c}/logs/stderr.log"] == raw.stderr
        for name in ("summary.md", "summary.html", "findings.json"):
            _assert_valid_output({"summary.md": "markdown", "summary.html": "html",
                                  "findings.json": "json"}[name], members[name])
        code, out, err = _raw_run("analyze", str(bundle), "--format", fmt, "--exit-zero",
                                  cwd=out_dir)
        assert code == 0, err
        _assert_valid_output(fmt, out)


def _peak_rss(proc: subprocess.Popen[bytes], stop: threading.Event, peak: list[int]) -> None:
    try:
        ps = psutil.Process(proc.pid)
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                rss = ps.memory_info().rss + sum(
                    ch.memory_info().rss for ch in ps.children(recursive=True))
                peak[0] = max(peak[0], rss)
            time.sleep(0.05)
    except psutil.Error:
        return


def test_one_gigabyte_log_is_capped_and_memory_stays_flat(engine, tmp_path):
    gib = 1024 ** 3
    script = (f'L=$(head -c 999 /dev/zero | tr "\\0" x); yes "$L" | head -c {gib}; '
              "echo done-writing; exec sleep 100000")
    c = engine.run("onegig", cmd=("sh", "-c", script))
    try:
        log_path = Path(engine.inspect(c)["LogPath"])
        wait_for(lambda: log_path.exists() and log_path.stat().st_size >= gib
                 and b"done-writing" in docker_bytes("logs", "--tail", "1", c).stdout,
                 timeout=600, interval=1, what="a 1 GB json-file log")
        cap = 8 * 1024 * 1024
        proc = subprocess.Popen(
            [sys.executable, "-m", "diagnose", c, "--tail", "all", "--max-log-bytes", "8M",
             "--format", "json", "--exit-zero", "-o", str(tmp_path)],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stop, peak = threading.Event(), [0]
        watcher = threading.Thread(target=_peak_rss, args=(proc, stop, peak), daemon=True)
        watcher.start()
        out, err = proc.communicate(timeout=900)
        stop.set()
        watcher.join()
    finally:
        docker("rm", "-f", c, check=False)  # give the disk back at once
    assert proc.returncode == 0, err.decode()
    assert peak[0] < 300 * 1024 * 1024, f"peak RSS {peak[0] / 1024 / 1024:.0f} MiB"
    doc = json.loads(out)
    logs = next(x for x in doc["targets"][0]["collectors"] if x["name"] == "logs")
    assert logs["status"] == "ok" and logs["truncated"] is True, logs
    assert logs["detail"]["stdout"]["bytes_seen"] >= gib
    assert 0 < logs["detail"]["stdout"]["bytes"] <= cap
    members = read_members(next(tmp_path.glob("diagnose-*.tar.gz")))
    kept = members[f"containers/{c}/logs/stdout.log"]
    assert len(kept) <= cap and kept.endswith(b"done-writing\n")
    assert kept.split(b"\n", 1)[0].endswith(b"x" * 999)  # starts on a whole line


def test_odd_names_and_label_values(engine, tmp_path):
    labels = {
        "app": "web",
        "com.example/päth_ключ": "line1\nline2 \"double\" 'single' ünïcode ✓ <b>&amp; $HOME",
        "../../etc/hosts": "../../../root",
        "empty": "",
    }
    args = [a for k, v in labels.items() for a in ("--label", f"{k}={v}")]
    a = engine.run("Odd.Name_-9..x", *args, cmd=("sh", "-c", "echo hi; exec sleep 100000"))
    b = engine.create("0digit-first.", cmd=("true",))
    for fmt in FORMATS:
        out_dir = tmp_path / fmt
        out_dir.mkdir()
        code, out, err = _raw_run(a, b, "--format", fmt, "--exit-zero", "-o", str(out_dir),
                                  cwd=out_dir)
        assert code == 0, err
        _assert_valid_output(fmt, out)
    bundle = next((tmp_path / "json").glob("diagnose-*-and-1-more-*.tar.gz"))
    with tarfile.open(bundle, "r:gz") as tf:
        names = tf.getnames()
        for name in names:
            assert SAFE_MEMBER.match(name), name
            assert ".." not in name.split("/") and not name.startswith("/")
        tf.extractall(tmp_path / "x", filter="data")  # the strict extraction filter accepts it
    members = read_members(bundle)
    inspect = json.loads(members[f"containers/{a}/inspect.json"])
    assert inspect["Config"]["Labels"] == engine.inspect(a)["Config"]["Labels"]
    assert inspect["Config"]["Labels"]["com.example/päth_ключ"] == labels["com.example/päth_ключ"]
    # a trailing dot is dropped from the directory name (`.`/`..` can never be formed)
    assert f"containers/{b.rstrip('.')}/inspect.json" in members


def test_output_directory_missing(engine, tmp_path):
    c = engine.create("out-missing", cmd=("true",))
    r = run_diagnose(c, "--output", str(tmp_path / "nope"), cwd=tmp_path)
    assert_one_line_error(r, 2, "does not exist", "create it")
    assert leftovers(tmp_path) == []


def test_output_directory_not_writable(engine, tmp_path):
    c = engine.create("out-ro", cmd=("true",))
    ro = tmp_path / "ro"
    ro.mkdir()
    subprocess.run(["mount", "--bind", str(ro), str(ro)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)], check=True)
        r = run_diagnose(c, "--output", str(ro), cwd=tmp_path)
        assert_one_line_error(r, 2, "is not writable", "--output DIR")
    finally:
        subprocess.run(["umount", str(ro)], check=True)
    assert leftovers(ro) == []
    # An unprivileged user and a root-owned directory: refused before the engine is asked.
    with shared_dir() as home:
        locked = home / "locked"
        locked.mkdir(mode=0o755)
        r = as_nobody(c, "--output", str(locked), cwd=home)
        assert_one_line_error(r, 2, "is not writable")
        assert leftovers(locked) == []


def test_output_directory_full(engine, tmp_path):
    c = engine.run("out-full", cmd=("sh", "-c", "od -A n -t x1 -N 300000 /dev/urandom; "
                                    "exec sleep 100000"))
    wait_for(lambda: len(docker("logs", c).stdout) > 800000, what="incompressible output")
    full = tmp_path / "full"
    full.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(full)], check=True)
    try:
        r = run_diagnose(c, "--output", str(full), cwd=tmp_path)
        assert_one_line_error(r, 2, "No space left on device", "free space")
        assert leftovers(full) == []  # no partial bundle, no temporary file
    finally:
        subprocess.run(["umount", str(full)], check=True)


def _tar_gz(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_analyze_and_redact_refuse_damaged_archives(engine, diagnose, tmp_path):
    c = engine.create("archives", cmd=("true",))
    good = diagnose(c, "--quiet", "--exit-zero")
    assert good.bundle is not None, good.stderr
    data = good.bundle.read_bytes()
    manifest = json.dumps({"schema": "diagnose-bundle/1", "files": []}).encode()
    cases = {
        "missing.tar.gz": (None, "no such bundle"),
        "truncated.tar.gz": (data[: len(data) // 2], "truncated"),
        "corrupt.tar.gz": (data[:200] + bytes(b ^ 0x5A for b in data[200:260]) + data[260:],
                           "fetch"),
        "notgzip.tar.gz": (b"this is not an archive\n" * 20, "not a gzip file"),
        "foreign.tar.gz": (_tar_gz([("README.md", b"# hello\n")]), "not a diagnose bundle"),
        "traversal.tar.gz": (_tar_gz([("manifest.json", manifest),
                                      ("../../etc/evil", b"owned\n")]), "escapes the bundle"),
        "absolute.tar.gz": (_tar_gz([("manifest.json", manifest), ("/etc/evil", b"x")]),
                            "unsafe name"),
    }
    for name, (content, needle) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_bytes(content)
        for command in ("analyze", "redact"):
            r = run_diagnose(command, str(path), cwd=tmp_path)
            assert_one_line_error(r, 2, needle)
    assert not (tmp_path.parent / "etc").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".tar.gz")) == []
    assert os.path.getsize(good.bundle) == len(data)
