"""The report as JUnit XML test suites, for a CI system's test view (`--format junit`).

One `<testsuite>` per target (and one for the run's own checks, and one per Swarm service),
one `<testcase>` per check that ran on it.  A check whose findings reach `--fail-on` is a
`<failure>` (its most severe finding's title as the message, every finding with facts,
evidence and fix as the text); findings below that threshold pass and are kept in
`<system-out>`; a skipped check is `<skipped>`, a check that crashed is `<error>`.  So a
pipeline's test view shows the same pass/fail line as diagnose's exit code.

Pure: built from the visible document (render/view.py: control characters made visible, so
nothing the XML 1.0 character set forbids reaches the template; the template autoescapes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from diagnose.model.findings import Severity

_RANK = {s.label: int(s) for s in Severity}


def suites(r: Mapping[str, Any], fail_on: str) -> list[dict[str, Any]]:
    """The test suites of report document `r` (made visible) at threshold `fail_on`."""
    out = [_suite(t["name"], t["checks"], t["findings"], fail_on) for t in r["targets"]]
    if r["run"]["checks"]:
        out.append(_suite("(run)", r["run"]["checks"], r["run"]["findings"], fail_on))
    out += [_suite(f"service {s['name']}", s["checks"], s["findings"], fail_on)
            for s in r.get("services") or ()]
    return out


def totals(all_suites: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Counts of every suite together (the `<testsuites>` attributes)."""
    keys = ("tests", "failures", "errors", "skipped")
    listed = list(all_suites)
    return {k: sum(int(s[k]) for s in listed) for k in keys}


def _suite(name: str, checks: Iterable[Mapping[str, Any]],
           findings: Iterable[Mapping[str, Any]], fail_on: str) -> dict[str, Any]:
    by_check: dict[str, list[Mapping[str, Any]]] = {}
    for f in findings:
        by_check.setdefault(str(f["id"]), []).append(f)
    cases = [_case(name, o, by_check.get(str(o["id"]), []), fail_on) for o in checks]
    return {"name": name, "cases": cases, "tests": len(cases),
            "failures": sum(1 for c in cases if c["failure"]),
            "errors": sum(1 for c in cases if c["error"]),
            "skipped": sum(1 for c in cases if c["skipped"] is not None)}


def _case(suite: str, outcome: Mapping[str, Any], findings: list[Mapping[str, Any]],
          fail_on: str) -> dict[str, Any]:
    threshold = _RANK.get(fail_on, int(Severity.ERROR))
    failing = [f for f in findings if _RANK.get(str(f["severity"]), 0) >= threshold]
    failing.sort(key=lambda f: _RANK.get(str(f["severity"]), 0), reverse=True)
    status = str(outcome["status"])
    return {
        "classname": f"diagnose.{suite}",
        "name": f"{outcome['code']} {outcome['id']}",
        "failure": ({"message": str(failing[0]["title"]), "type": str(failing[0]["severity"]),
                     "text": "\n\n".join(_details(f) for f in failing)} if failing else None),
        "error": ({"message": str(outcome.get("reason") or "the check crashed"),
                   "type": "errored"} if status == "errored" else None),
        "skipped": str(outcome.get("reason") or "") if status == "skipped" else None,
        "out": "\n\n".join(_details(f) for f in findings if f not in failing),
    }


def _details(f: Mapping[str, Any]) -> str:
    """One finding as plain text: the line diagnose prints, facts, evidence, fix."""
    lines = [f"[{str(f['severity']).upper()}] {f['code']} {f['id']} on {f['target']}: "
             f"{f['title']}"]
    lines += [f"    {fact['name']}: {fact['value']}" for fact in f.get("facts") or ()]
    for e in f.get("evidence") or ():
        lines.append(f"  evidence: {e['ref']}")
        lines += [f"    | {line}" for line in str(e.get("excerpt") or "").splitlines()]
    fix = f.get("remediation") or {}
    if fix.get("summary"):
        lines.append(f"  fix: {fix['summary']}")
    lines += [f"    $ {c}" for c in fix.get("commands") or ()]
    return "\n".join(lines)
