"""Every report format, on really broken containers: content, escaping, colour and progress.

The containers: one OOM-killed at its 32 MiB limit, one that crashes after printing log lines
made to break reports (HTML, pipes, backticks, a closing </details>, an ANSI escape), one created
and never started, and one healthy.  Each format is read the way its consumer reads it.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.support.proxy import StallingProxy
from tests.support.reports import (
    CRASH,
    PWN_IMG,
    PWN_SCRIPT,
    Page,
    assert_valid,
    external_references,
    markdown_to_html,
    run_on_terminal,
    table_rows,
)
from tests.support.runs import read_members, run_diagnose

LAST_LINE = f"last line: {PWN_SCRIPT!r}"  # as the decision path quotes it
HEAD = ("manifest.json", "README.txt", "findings.json", "summary.md", "summary.html")


@pytest.fixture(scope="module")
def broken(engine):
    oom = engine.run("r-oom", "--memory", "32m",
                     cmd=("sh", "-c", "echo loading; x=a; while true; do x=$x$x; done"))
    crash = engine.run("r-crash", cmd=("sh", "-c", CRASH))
    created = engine.create("r-created", cmd=("true",))
    healthy = engine.run("r-healthy", cmd=("sleep", "100000"))
    engine.wait_status(oom, "exited")
    engine.wait_status(crash, "exited")
    return {"oom": oom, "crash": crash, "created": created, "healthy": healthy}


@pytest.fixture(scope="module")
def live_json(broken, tmp_path_factory):
    """One live run over all four, JSON on stdout (reused by the offline tests)."""
    out = tmp_path_factory.mktemp("live")
    r = run_diagnose(*broken.values(), "--format", "json", "--output", str(out), cwd=out)
    assert r.code == 1, r.stderr  # a critical finding, default --fail-on error
    assert r.stderr == "", "stderr is not a terminal: no progress at all"
    return r


def _analyze(bundle: Path, *args: str, cwd: Path):
    return run_diagnose("analyze", str(bundle), *args, cwd=cwd)


def test_json_report_validates_and_says_what_happened(live_json, broken):
    doc = live_json.json()
    assert_valid(doc)
    assert doc["schema"] == "diagnose/v1" and doc["mode"] == "live"
    assert doc["bundle"] == str(live_json.bundle)
    assert [t["name"] for t in doc["targets"]] == list(broken.values())
    by_name = {t["name"]: t for t in doc["targets"]}

    oom = by_name[broken["oom"]]
    assert oom["state"]["status"] == "exited" and oom["state"]["exit_code"] == 137
    assert oom["state"]["summary"].startswith("exited 137 = 128+9 (SIGKILL)")
    f = next(f for f in oom["findings"] if f["id"] == "oom-killed")
    assert oom["verdict"]["id"] == "oom-killed" and doc["verdict"]["id"] == "oom-killed"
    assert f["code"] == "D201" and f["severity"] == "critical" and f["stage"] == "exit"
    assert {"name": "memory limit", "value": "32 MiB"} in f["facts"]
    ev = f["evidence"][0]
    assert ev["file"] == f"containers/{broken['oom']}/inspect.json"
    assert ev["pointer"] == "/State/OOMKilled" and ev["excerpt"] == "true"
    assert any(c.startswith("docker update --memory") for c in f["remediation"]["commands"])

    assert by_name[broken["created"]]["verdict"]["id"] == "created-not-started"
    healthy = by_name[broken["healthy"]]
    assert all(x["severity"] == "info" for x in healthy["findings"])
    # Every check left an outcome on every target; the decision path cites bundle files.
    from diagnose.analysis.registry import registry_for

    container_checks = {s.code for s in registry_for(False).scoped("container")}
    for t in doc["targets"]:
        assert container_checks <= {o["code"] for o in t["checks"]}
        assert sum(t["check_counts"].values()) == len(t["checks"])
        assert t["path"][0]["question"] == "Does it exist?"
    crash_path = " ".join(s["answer"] for s in by_name[broken["crash"]]["path"])
    assert LAST_LINE in crash_path  # JSON keeps the last log line byte for byte

    members = live_json.members()
    assert list(members)[:5] == list(HEAD)
    inside = json.loads(members["findings.json"])
    assert_valid(inside)
    assert inside == doc
    listed = {f["path"] for f in doc["files"]}
    assert listed == set(members) - set(HEAD)


def test_analyze_json_validates(live_json, tmp_path):
    r = _analyze(live_json.bundle, "--format", "json", cwd=tmp_path)
    assert r.code == 1, r.stderr
    assert_valid(r.json())
    assert r.json()["mode"] == "offline"


def test_text_one_target_reads_top_down(broken, diagnose):
    r = diagnose(broken["oom"], "--quiet", "--verbose")
    assert r.code == 1, r.stderr
    lines = r.stdout.splitlines()
    doc_id = run_diagnose("analyze", str(r.bundle), "--format", "json",
                          cwd=r.bundle.parent).json()["targets"][0]["id"]
    assert lines[0].startswith(f"{broken['oom']} ({doc_id[:12]}): exited 137 = 128+9 (SIGKILL)")
    assert lines[0].endswith("[OOMKilled]")
    # Wrapped at 80 columns (stdout is not a terminal).
    assert " ".join((lines[1] + lines[2]).split()) == (
        "verdict: CRITICAL D201 oom-killed: killed by the kernel OOM killer at its 32 MiB "
        "memory limit")
    text = r.stdout
    order = ["Problems (1)", "[CRITICAL] D201 oom-killed", "memory limit     32 MiB",
             f"evidence: containers/{broken['oom']}/inspect.json#/State/OOMKilled",
             "  fix: ", f"    $ docker update --memory 256m --memory-swap 256m {broken['oom']}",
             f"Decision path for {broken['oom']}:", "  1. Does it exist?",
             "How did it exit?", "findings: 1 critical"]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions), "sections out of order"
    assert lines[-1] == f"bundle: {r.bundle}"
    assert "\033" not in text  # stdout is a pipe: no colour


@pytest.fixture(scope="module")
def twenty(engine, broken):
    created = [engine.create(f"r-many{i}", cmd=("true",)) for i in range(16)]
    return [broken["healthy"], *created, broken["crash"], broken["created"], broken["oom"]]


def test_text_twenty_targets_starts_with_a_summary_table(twenty, tmp_path):
    r = run_diagnose(*twenty, "--output", str(tmp_path), cwd=tmp_path, timeout=300)
    assert r.code == 1, r.stderr
    doc = _analyze(r.bundle, "--format", "json", cwd=tmp_path).json()
    lines = r.stdout.splitlines()
    assert lines[0].startswith("20 targets: 1 critical")
    assert lines[1].startswith(f"  verdict: CRITICAL D201 oom-killed on {twenty[-1]} (exited 137")
    # Then one row per target, worst first: the OOM-killed one, whatever order they were named.
    header = lines.index(next(ln for ln in lines if ln.startswith("target ")))
    assert lines[header + 1].startswith("------")
    rows = lines[header + 2:header + 2 + 40]
    named = [ln.split()[0] for ln in rows if ln and not ln.startswith(" ")][:20]
    assert named[0] == twenty[-1]
    assert sorted(named) == sorted(twenty)
    # Decision paths only with --verbose; the advisories one line per check, not per target.
    assert "Decision path for " not in r.stdout and "decision path: --verbose" in r.stdout
    advisories = r.stdout.split("Advisories (", 1)[1]
    assert advisories.count("D705 runs-as-root (info): ") == 1
    assert r.stdout.count("Advisories (" + str(doc["counts"]["info"]) + ", ") == 1
    assert "[INFO]" not in r.stdout
    assert lines[-1] == f"bundle: {r.bundle}"


def test_markdown_pastes_into_an_issue(live_json, broken, diagnose):
    r = diagnose(*broken.values(), "--quiet", "--format", "markdown")
    assert r.code == 1, r.stderr
    md = r.stdout
    assert md == r.members()["summary.md"].decode("utf-8")
    for block in re.split(r"\n\n+", md):
        rows = table_rows(block)
        assert len({len(row) for row in rows}) <= 1, block
    html = markdown_to_html(md)
    page = Page(html)
    assert not external_references(page) and not page.comments
    assert page.names <= {"h2", "h3", "h4", "p", "strong", "table", "thead", "tbody", "tr", "th",
                          "td", "code", "pre", "details", "summary", "sub", "ol", "ul", "li"}
    text = page.body_text
    assert "oom-killed" in text and "killed by the kernel OOM killer" in text
    assert "Decision path for " + broken["crash"] in text
    assert LAST_LINE in text  # the crash's last log line, as text
    assert html.count("<details>") == html.count("</details>") >= 6
    assert "```text\ntrue\n```" in md  # the OOM evidence, quoted
    for path in set(r.members()) - set(HEAD):
        assert path in text, f"{path} not in the file list"


def test_html_is_one_inert_self_contained_page(broken, diagnose):
    r = diagnose(*broken.values(), "--quiet", "--format", "html")
    assert r.code == 1, r.stderr
    assert r.stdout == r.members()["summary.html"].decode("utf-8")
    page = Page(r.stdout)
    assert not external_references(page)
    assert "script" not in page.names
    assert LAST_LINE in page.body_text and PWN_IMG in page.body_text
    sections = [a for t, a in page.tags if t == "section"]
    severities = [s["data-severity"] for s in sections]
    rank = ["critical", "error", "warning", "info"]
    assert severities == sorted(severities, key=rank.index)
    assert sections[0]["data-id"] == "oom-killed"
    for path in set(r.members()) - set(HEAD):
        assert path in page.body_text


def test_color_only_on_a_terminal(live_json, tmp_path):
    args = [sys.executable, "-m", "diagnose", "analyze", str(live_json.bundle)]
    code, _, err, term = run_on_terminal(args, stdout_tty=True, stderr_tty=False, cwd=tmp_path)
    assert code == 1, err
    assert b"\033[1;31mCRITICAL" in term
    for extra, env in ((["--no-color"], None), ([], {"NO_COLOR": "1"}),
                       ([], {"TERM": "dumb"})):
        code, _, err, term = run_on_terminal(args + extra, stdout_tty=True, stderr_tty=False,
                                             cwd=tmp_path, env=env)
        assert code == 1, err
        assert b"CRITICAL" in term and b"\033[" not in term, (extra, env)
    # NO_COLOR set but empty means "not set" (no-color.org).
    code, _, _, term = run_on_terminal(args, stdout_tty=True, stderr_tty=False, cwd=tmp_path,
                                       env={"NO_COLOR": ""})
    assert b"\033[1;31mCRITICAL" in term


def test_progress_on_a_terminal_stderr_only_and_never_on_stdout(broken, tmp_path):
    names = list(broken.values())
    args = [sys.executable, "-m", "diagnose", *names, "--format", "json", "--exit-zero",
            "--output", str(tmp_path)]
    # The display appears after half a second (a quick run shows none); the containers' logs
    # are held until it has, so their steps come while it runs, however quick the engine.
    with StallingProxy(hold_paths=r"/logs\?") as proxy:
        def release_once_shown(term: bytes) -> None:
            if b"\033[?25l" in term:
                proxy.release()

        code, out, _, term = run_on_terminal([*args, "--host", proxy.host], stdout_tty=False,
                                             stderr_tty=True, cwd=tmp_path,
                                             on_terminal=release_once_shown)
    assert code == 0
    doc = json.loads(out)  # stdout is exactly the report
    assert len(doc["targets"]) == 4
    shown = term.decode("utf-8", "replace")
    assert "diagnose: " in shown and f"[4/{len(names)}]" in shown, shown[-2000:]
    assert "\033[?25l" in shown  # the live display (cursor hidden, then restored)
    # --quiet: nothing on the terminal at all, and the same report.
    code, out, _, term = run_on_terminal([*args, "--quiet"], stdout_tty=False, stderr_tty=True,
                                         cwd=tmp_path)
    assert code == 0 and term == b""
    assert json.loads(out)["verdict"] == doc["verdict"]


def test_bundle_keeps_the_summaries_of_a_run_in_any_format(live_json):
    members = read_members(live_json.bundle)
    md = members["summary.md"].decode("utf-8")
    html = members["summary.html"].decode("utf-8")
    assert md.startswith("## diagnose report") and "oom-killed" in md
    assert html.startswith("<!DOCTYPE html>") and "oom-killed" in html
