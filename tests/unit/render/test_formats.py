"""Every format is a template, renders a real report, and says what the report says."""

from __future__ import annotations

import importlib.resources
import itertools
import json

import pytest

from diagnose.render import TEMPLATES, Format, render
from diagnose.render import document as document_module
from tests.support.reports import Page, assert_valid, markdown_to_html, sample_report


@pytest.fixture(scope="module")
def several():
    return sample_report("several-targets")


def test_every_format_has_a_template():
    # Adding a Format member without its template (or the reverse) fails here.
    assert set(TEMPLATES) == set(Format)
    root = importlib.resources.files("diagnose.templates")
    for fmt, name in TEMPLATES.items():
        assert root.joinpath(name).is_file(), f"{fmt}: template {name} is missing"
    assert len(set(TEMPLATES.values())) == len(TEMPLATES)


@pytest.mark.parametrize("fmt", list(Format))
def test_every_format_renders_a_real_report_deterministically(fmt, several):
    first = render(several, fmt)
    assert first == render(several, fmt), "rendering must be a pure function of the report"
    assert first.endswith("\n") and not first.endswith("\n\n\n")
    # Every format names every target and the root cause.
    for t in several.targets:
        assert t.name in first, (fmt, t.name)
    assert "oom-killed" in first and "created-not-started" in first


def test_json_is_the_document_and_validates(several):
    doc = json.loads(render(several, Format.JSON))
    assert doc == json.loads(json.dumps(document_module.build(several)))
    assert doc["schema"] == "diagnose/v1"
    assert_valid(doc)
    # Nothing that changes from one analysis of the same bundle to the next.
    for t in doc["targets"]:
        for o in t["checks"]:
            assert "duration_ms" not in o


def test_text_verdict_first_then_tables_then_details(several):
    text = render(several, Format.TEXT)
    lines = text.splitlines()
    doc = document_module.build(several)
    n = len(doc["targets"])
    assert lines[0].startswith(f"{n} targets: ")
    verdict = doc["verdict"]
    assert lines[1].startswith(f"  verdict: {verdict['severity'].upper()} {verdict['code']} "
                               f"{verdict['id']} on {verdict['target']} (")
    # The targets table comes before the problems, the verdict's target first.
    table_at = lines.index(next(ln for ln in lines if ln.startswith("target ")))
    findings_at = next(i for i, ln in enumerate(lines) if ln.startswith("Problems ("))
    assert table_at < findings_at
    first_row = lines[table_at + 2]
    assert first_row.startswith(verdict["target"])
    assert lines[-1] == f"analysed bundle: {doc['bundle']}"
    assert "\033[" not in text
    coloured = render(several, Format.TEXT, color=True)
    assert "\033[1;31mCRITICAL" in coloured


def test_text_problems_in_full_then_advisories_one_line_per_check(several):
    from diagnose.render import Display

    text = render(several, Format.TEXT, display=Display())
    doc = document_module.build(several)
    problems = text.index("Problems (")
    advisories = text.index("Advisories (")
    assert problems < advisories
    # Every warning and up is shown in full (a block with its fix), or named after the first
    # of the same check ("the same on N more"); no info finding is.
    every = [f for t in doc["targets"] for f in t["findings"]]
    flat = " ".join(text.split())
    for f in every:
        check = f"[{f['severity'].upper()}] {f['code']} {f['id']} on "
        block = check + f["target"]
        if f["severity"] == "info":
            assert check not in text
        else:
            assert block in text or (check in text and "the same on " in flat
                                     and f["target"] in flat.split(check, 1)[1]), block
    # One line per advisory check, naming every target it applies to.
    info = {(f["code"], f["id"]) for f in every if f["severity"] == "info"}
    lines = text[advisories:].splitlines()
    for code, check_id in info:
        at = next(i for i, ln in enumerate(lines) if ln.startswith(f"  {code} {check_id} (info): "))
        listed = " ".join(lines[at:at + 3])
        for f in every:
            if f["id"] == check_id:
                assert f["target"] in listed
    assert "Decision path" not in text and "decision path: --verbose" in text
    verbose = render(several, Format.TEXT, display=Display(verbose=True))
    assert "Decision path for" in verbose and "[INFO] D705 runs-as-root on" in verbose
    assert "the same on " not in verbose
    for f in every:  # --verbose: every finding in full
        assert f"[{f['severity'].upper()}] {f['code']} {f['id']} on {f['target']}" in verbose
    # Wrapped to the width asked for.
    for width in (60, 80, 120):
        narrow = render(several, Format.TEXT, display=Display(width=width))
        long = [ln for ln in narrow.splitlines() if len(ln) > width
                and not ln.lstrip().startswith(("evidence:", "|", "$", "analysed bundle:"))]
        assert not long, (width, long)
    # --min-severity hides what is below it and says so.
    errors = render(several, Format.TEXT, display=Display(min_severity="error"))
    assert "Advisories" not in errors and "D001" not in errors.split("Problems (", 1)[1]
    assert "below error not shown (--min-severity)" in errors


def test_markdown_and_html_carry_the_whole_story(several):
    doc = document_module.build(several)
    md = render(several, Format.MARKDOWN)
    html = markdown_to_html(md)
    page = Page(html)
    assert {"table", "details", "summary", "pre"} <= page.names
    for part in ("Decision path for", "Engine and host", "Bundle files", "Checks ("):
        assert part in page.body_text
    for f in doc["files"]:
        assert f["path"] in page.body_text
    html_report = render(several, Format.HTML)
    body = Page(html_report).body_text
    for f in doc["files"]:
        assert f["path"] in body
    for t in doc["targets"]:
        for step in t["path"]:
            assert step["question"] in body


def test_the_schema_is_strict(several):
    import copy

    import jsonschema

    from tests.support.reports import validator

    good = json.loads(render(several, Format.JSON))
    bad_cases = []
    doc = copy.deepcopy(good)
    next(t for t in doc["targets"] if t["findings"])["findings"][0]["severity"] = "fatal"
    bad_cases.append(doc)
    doc = copy.deepcopy(good)
    doc["surprise"] = 1
    bad_cases.append(doc)
    doc = copy.deepcopy(good)
    doc["targets"][0]["checks"][0]["status"] = "maybe"
    bad_cases.append(doc)
    doc = copy.deepcopy(good)
    del doc["targets"][0]["path"]
    bad_cases.append(doc)
    doc = copy.deepcopy(good)
    doc["files"][0]["path"] = "../../etc/passwd"
    bad_cases.append(doc)
    doc = copy.deepcopy(good)
    doc["schema"] = "diagnose/v2"
    bad_cases.append(doc)
    for case in bad_cases:
        with pytest.raises(jsonschema.ValidationError):
            validator().validate(case)
    validator().validate(good)


@pytest.mark.parametrize("budget", [40_000, 20_000, 6_000])
def test_markdown_fits_its_budget_and_says_what_it_left_out(several, monkeypatch, budget):
    import diagnose.render as render_module

    full = render(several, Format.MARKDOWN)
    assert len(full) > budget
    monkeypatch.setattr(render_module, "MARKDOWN_BUDGET", budget)
    md = render(several, Format.MARKDOWN)
    assert len(md) < budget
    assert "65,536-character limit" in md and "summary.html" in md
    assert md.count("<details>") == md.count("</details>")
    assert md.rstrip().endswith("</sub>")  # the footer (the bundle's name) stays
    assert "**Verdict:**" in md and "oom-killed" in md  # what is wrong stays first
    # Least used first: the decision paths go before any finding is touched.
    assert "Decision path for" not in md


def _table_rows(md: str) -> list[str]:
    table = md.split("| severity | code | id | target | title |\n|---|---|---|---|---|\n")[1]
    return list(itertools.takewhile(lambda ln: ln.startswith("| "), table.splitlines()))


def test_markdown_tables_the_problems_and_lists_each_advisory_check_once(several):
    """One table row per problem; an advisory is one line per check (a fleet's advisories,
    one row per target each, buried its problems and were what a cut report kept)."""
    from diagnose.render import view as view_module

    md = render(several, Format.MARKDOWN)
    parts = view_module.build(document_module.build(several), "info", True)["v"]
    rows = _table_rows(md)
    assert len(rows) == len(parts["problems"]) > 0
    assert not [r for r in rows if r.startswith("| info |")]
    for group in parts["advisories"]:
        assert md.count(f"- {group['code']} `{group['id']}` ({group['severity']}): ") == 1


def test_a_cut_markdown_report_keeps_the_problems_table(several, monkeypatch):
    """Cut to the budget, the report still holds the verdict, every target and every
    problem's row: what is cut is the findings in full, from the last."""
    import diagnose.render as render_module

    with monkeypatch.context() as m:
        m.setattr(render_module, "MARKDOWN_TRIMS", (render_module.MARKDOWN_TRIMS[-1],))
        m.setattr(render_module, "MARKDOWN_BUDGET", 10**9)
        whole = render(several, Format.MARKDOWN)
    first_finding = whole.index("\n#### 1. ")
    budget = first_finding + 1_500
    monkeypatch.setattr(render_module, "MARKDOWN_BUDGET", budget)
    md = render(several, Format.MARKDOWN)
    assert len(md) < budget and "65,536-character limit" in md
    assert _table_rows(md) == _table_rows(whole)
    for t in several.targets:
        assert t.name in md


def test_markdown_stops_a_rendering_at_the_budget_and_picks_the_same_trim(several, monkeypatch):
    """A rendering that does not fit is abandoned at the budget, not rendered to its end;
    the report chosen is the one the first fitting trim renders in full."""
    import diagnose.render as render_module
    from diagnose.render import templates

    rendered: list[int] = []
    original = templates.render_within

    def counting(name, budget, **context):
        text = original(name, budget, **context)
        rendered.append(-1 if text is None else len(text))
        return text

    def whole(trim):  # the report rendered to its end with this trim
        with monkeypatch.context() as m:
            m.setattr(render_module, "MARKDOWN_TRIMS", (trim,))
            m.setattr(render_module, "MARKDOWN_BUDGET", 10**9)
            return render(several, Format.MARKDOWN)

    renderings = [whole(trim) for trim in render_module.MARKDOWN_TRIMS]
    monkeypatch.setattr(templates, "render_within", counting)
    # The first trim fits; only the last does; none does (cut).
    for budget, tries in ((60_000, 1), (20_000, len(renderings)), (9_000, len(renderings))):
        rendered.clear()
        monkeypatch.setattr(render_module, "MARKDOWN_BUDGET", budget)
        got = render(several, Format.MARKDOWN)
        fitting = next((t for t in renderings if len(t) < budget), None)
        assert got == (fitting if fitting is not None
                       else templates.cut_markdown(renderings[-1], budget))
        assert rendered[-1] == (len(fitting) if fitting is not None else -1)
        assert all(n == -1 for n in rendered[:-1])  # the longer ones were given up early
        assert len(rendered) == tries


def test_the_views_of_one_report_share_its_document_made_visible(several, monkeypatch):
    """stdout's display and the files' are two views of one report: its every string is made
    visible once for both (a walk of the whole report), and each view is what it was."""
    from diagnose.model import escape
    from diagnose.render import Display

    expected = {fmt: render(several, fmt, display=Display(verbose=False))
                for fmt in (Format.TEXT, Format.MARKDOWN)}
    expected[Format.HTML] = render(several, Format.HTML)
    report = type(several)(several.targets, several.run_outcomes, dict(several.meta),
                           services=several.services)  # a new report: nothing prepared yet
    walks: list[int] = []
    walk = escape.visible_all
    depth = [0]

    def counted(value):
        walks.extend([1] if not depth[0] else [])  # a walk, not its nested calls
        depth[0] += 1
        try:
            return walk(value)
        finally:
            depth[0] -= 1

    monkeypatch.setattr(escape, "visible_all", counted)
    assert render(report, Format.TEXT, display=Display(verbose=False)) == expected[Format.TEXT]
    assert render(report, Format.HTML) == expected[Format.HTML]
    assert render(report, Format.MARKDOWN, display=Display(verbose=False)) == \
        expected[Format.MARKDOWN]
    assert walks == [1]
