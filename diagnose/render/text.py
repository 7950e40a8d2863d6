"""Plain-text report for terminals and pasting: verdict first, then a table, then details."""

from __future__ import annotations

import textwrap
from typing import Any

from tabulate import tabulate

from diagnose.analyse import Report
from diagnose.render.document import build

_COLORS = {"critical": "1;31", "error": "31", "warning": "33", "info": "36"}


def _paint(text: str, severity: str | None, color: bool) -> str:
    if not color or not severity:
        return text
    return f"\033[{_COLORS.get(severity, '0')}m{text}\033[0m"


def _bold(text: str, color: bool) -> str:
    return f"\033[1m{text}\033[0m" if color else text


def render(report: Report, color: bool = False) -> str:
    """Render the report as text."""
    doc = build(report)
    out: list[str] = []
    for t in doc["targets"]:
        v = t["verdict"]
        head = f"{t['name']} ({t['id'][:12]}): {t['state']['summary']}"
        if v:
            sev = v["severity"]
            out.append(_bold(head, color))
            out.append("  verdict: " + _paint(f"{sev.upper()} {v['code']} {v['id']}", sev, color)
                       + f": {v['title']}")
        else:
            out.append(_bold(head, color))
            out.append("  verdict: no problem found")
    run_findings = doc["run"]["findings"]
    if not doc["targets"]:
        out.extend(_engine_head(doc, color))
    findings = [f for t in doc["targets"] for f in t["findings"]] + run_findings
    if findings:
        out.append("")
        rows = [
            [_paint(f["severity"].upper(), f["severity"], color), f["code"], f["id"], f["target"],
             f["title"]]
            for f in findings
        ]
        out.append(tabulate(rows, headers=["severity", "code", "id", "target", "title"],
                            tablefmt="simple"))
    for f in findings:
        out.append("")
        out.extend(_finding(f, color))
    for t in doc["targets"]:
        out.append("")
        out.append(_bold(f"Decision path for {t['name']}:", color))
        for i, step in enumerate(t["path"], 1):
            wrapped = textwrap.fill(step["answer"], width=100, initial_indent="     ",
                                    subsequent_indent="     ")
            out.append(f"  {i}. {step['question']}")
            out.append(wrapped)
    out.append("")
    out.extend(_footer(doc))
    return "\n".join(out) + "\n"


def _engine_head(doc: dict[str, Any], color: bool) -> list[str]:
    """`diagnose engine` (no targets): the engine in one line, its verdict and disk usage."""
    e = doc["engine"]
    head = (f"engine {e.get('endpoint') or '?'}: Docker {e.get('version') or '?'} "
            f"(API {e.get('api_version') or '?'}), storage {e.get('storage_driver') or '?'}, "
            f"data root {e.get('data_root') or '?'}")
    v = doc["verdict"]
    verdict = ("  verdict: " + _paint(f"{v['severity'].upper()} {v['code']} {v['id']}",
                                      v["severity"], color) + f": {v['title']}"
               if v else "  verdict: no problem found")
    lines = [_bold(head, color), verdict]
    if e.get("disk_usage"):
        lines.append(f"  disk: {e['disk_usage']}")
    return lines


def _finding(f: dict[str, Any], color: bool) -> list[str]:
    sev = f["severity"]
    lines = [_paint(f"[{sev.upper()}] {f['code']} {f['id']}", sev, color)
             + f" ({f['target']}): {f['title']}"]
    if f["facts"]:
        table = tabulate([[x["name"], x["value"]] for x in f["facts"]], tablefmt="plain")
        lines.extend("    " + ln for ln in table.splitlines())
    for ev in f["evidence"]:
        lines.append(f"  evidence: {ev['ref']}")
        excerpt = ev.get("excerpt") or ""
        for ln in excerpt.splitlines()[:12]:
            lines.append(f"    | {ln[:200]}")
    rem = f.get("remediation")
    if rem:
        lines.append("  fix: " + rem["summary"])
        for cmd in rem["commands"]:
            lines.append(f"    $ {cmd}")
    return lines


def _footer(doc: dict[str, Any]) -> list[str]:
    lines = []
    counts = doc["counts"]
    lines.append("findings: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    failed = doc["collectors_failed"]
    if failed:
        lines.append("collectors that failed (recorded in the bundle): " + "; ".join(
            f"{c['owner']}/{c['name']}: {c['reason']}" for c in failed[:8]))
    for p in doc["problems"]:
        lines.append(f"warning: {p['source']}: {p['message']}")
    red = doc["redaction"]
    if red.get("enabled") is False:
        lines.append("WARNING: redaction was OFF; this bundle may contain secrets")
    elif red.get("counts"):
        total = sum(c["count"] for c in red["counts"])
        lines.append(f"redacted: {total} secret value(s) replaced by placeholders")
    if doc["bundle"]:
        label = "bundle" if doc["mode"] == "live" else "analysed bundle"
        lines.append(f"{label}: {doc['bundle']}")
    return lines
