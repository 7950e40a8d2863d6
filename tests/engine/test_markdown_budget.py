"""The Markdown report fits where people paste it (issue 13): GitHub refuses an issue or
comment body over 65,536 characters.  Ten containers in the demo's conditions (scripts/demo.sh)
stay under it, say what was left out, and name the bundle by its file name only."""

from __future__ import annotations

import re

from tests.support.engine import docker, wait_for
from tests.support.runs import run_diagnose

BUDGET = 65_536
TRACE = "; ".join(f'echo "  File \\"/app/mod{i}.py\\", line {i}, in step{i}" >&2'
                  for i in range(40))


def _ten(engine):
    crlf = engine.build("crlf", "FROM diagnose-test/busybox:latest\nCOPY entrypoint.sh "
                        "/usr/local/bin/entrypoint.sh\nENTRYPOINT "
                        '["/usr/local/bin/entrypoint.sh"]\n',
                        {"entrypoint.sh": "#!/bin/sh\r\necho starting\r\nexec sleep 1000\r\n"})
    oom = engine.run("md-oom", "--memory", "32m",
                     cmd=("sh", "-c", "echo loading; x=a; while true; do x=$x$x; done"))
    crash = engine.run("md-crash", cmd=("sh", "-c", 'echo "Traceback (most recent call '
                                        f'last):" >&2; {TRACE}; echo "KeyError: X" >&2; exit 1'))
    loop = engine.run("md-loop", "--restart", "always",
                      cmd=("sh", "-c", "echo 'config /etc/app.conf: no such file' >&2; exit 2"))
    holder = engine.run("md-holder", "-p", "127.0.0.1:18181:80", cmd=("sleep", "100000"))
    port = engine.create("md-port", "-p", "127.0.0.1:18181:80", cmd=("sleep", "1000"))
    docker("start", port, check=False)
    noentry = engine.create("md-noentry", "--entrypoint", "/app/server")
    docker("start", noentry, check=False)
    names = [oom, crash, engine.run("md-crlf", image=crlf), loop,
             engine.run("md-unhealthy", "--health-cmd", "false", "--health-interval", "1s",
                        "--health-retries", "1", cmd=("sleep", "100000")),
             port, noentry, engine.create("md-created", cmd=("echo", "never")),
             engine.run("md-healthy", cmd=("sleep", "100000")), holder]
    engine.wait_status(oom, "exited")
    engine.wait_status(crash, "exited")
    wait_for(lambda: engine.inspect(loop)["RestartCount"] >= 1, what="a restart")
    return names


def test_ten_containers_markdown_fits_a_github_issue(engine, tmp_path):
    names = _ten(engine)
    r = run_diagnose(*names, "-q", "--format", "markdown", "--output", str(tmp_path),
                     cwd=tmp_path, timeout=300)
    assert r.code == 1, r.stderr
    md = r.stdout
    assert len(md) < BUDGET, len(md)
    assert md == r.members()["summary.md"].decode("utf-8")
    for name in names:
        assert name in md
    # No local directory in Markdown or HTML: the bundle by its file name.
    html = r.members()["summary.html"].decode("utf-8")
    for text in (md, html):
        assert str(tmp_path) not in text and r.bundle.name in text
        assert not re.search(r"(?<![\w.])/(tmp|home|root|work|Users)/", text)
    # Ten containers' decision paths and checks tables do not fit: they are left out first
    # (least used), the reader is told, and pointed to the bundle; the findings stay whole.
    note = md.split("_Left out to stay under GitHub's 65,536-character limit: ", 1)[1]
    assert note.startswith("the decision paths") and "summary.html" in note.split("\n")[0]
    assert "Decision path for" not in md
    full = run_diagnose("analyze", str(r.bundle), "--format", "json", cwd=tmp_path).json()
    for t in full["targets"]:
        for f in t["findings"]:
            assert f["title"][:40].replace("|", "\\|") in md or f["id"] in md

    # The same ten in text: the problems in full, the advisories one line per check.
    text = run_diagnose("analyze", str(r.bundle), cwd=tmp_path, env={"COLUMNS": "100"})
    lines = text.stdout.splitlines()
    assert len(lines) < 350, len(lines)  # 914 before issue 13, most of them INFO blocks
    assert "[INFO]" not in text.stdout
    assert f"Advisories ({full['counts']['info']}, " in text.stdout
    table = lines.index(next(ln for ln in lines if ln.startswith("target ")))
    assert lines[table + 2].startswith(full["verdict"]["target"])
