"""What the human formats (text, Markdown, HTML) show besides the document itself.

`build` returns the document with control characters made visible (a log line holding
`ESC ]0;...` must not retitle a terminal, a CR must not overwrite a line, a bidi override must
not reorder what a reader sees) and a few derived views: every finding in verdict order,
targets in verdict order (the target the verdict names first), totals, and the split a reader
at 3 a.m. needs: the problems (warning and up, and the verdict), then the advisories (security
and hygiene at info) grouped by check with the targets each applies to.  Pure functions of
the document; no I/O.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from diagnose.model.escape import visible_all
from diagnose.model.findings import Finding, Status
from diagnose.model.report import verdict_key

SEVERITIES = ("critical", "error", "warning", "info")
_RANK = {s: i for i, s in enumerate(reversed(SEVERITIES))}


def _rank(target: dict[str, Any]) -> int:
    verdict = target["verdict"]
    return _RANK.get(verdict["severity"], -1) if verdict else -1


def _order(target: dict[str, Any]) -> tuple[int, tuple[int, int, str]]:
    """Targets in the order their verdicts would be chosen: the run's verdict is the first
    target's (the first of equals in run order: the sort is stable)."""
    v = target["verdict"]
    if not v:
        return (1, (0, 0, ""))
    own = next((f for f in target["findings"] if f["id"] == v["id"] and f["code"] == v["code"]),
               None)
    return (0, verdict_key(Finding.from_dict(own)) if own else (0, -_rank(target), v["code"]))


def is_problem(f: dict[str, Any], verdict: dict[str, Any] | None) -> bool:
    """A problem is shown in full: warning and up, or the verdict itself; the rest (info
    advice on security and hygiene) is an advisory, one line per check."""
    if _RANK.get(f["severity"], -1) >= _RANK["warning"]:
        return True
    return verdict is not None and (f["id"], f["code"], f["target"]) == (
        verdict["id"], verdict["code"], verdict["target"])


def advisories(findings: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Advisories grouped by check, in the order first seen: `{code, id, severity, title,
    targets, findings}` with the names of the targets each applies to."""
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in findings:
        g = groups.setdefault((f["code"], f["id"], f["severity"]), {
            "code": f["code"], "id": f["id"], "severity": f["severity"], "title": f["title"],
            "stage": f["stage"], "targets": [], "findings": []})
        name = names.get(f["target"], f["target"])
        if name not in g["targets"]:
            g["targets"].append(name)
        g["findings"].append(f)
    return list(groups.values())


def repeated(problems: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """The problems as the text report shows them without --verbose: the first finding of a
    check in full, the same check on other targets named after it (`others`)."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for f in problems:
        key = (f["code"], f["id"], f["severity"])
        if key in out:
            out[key]["others"].append(names.get(f["target"], f["target"]))
        else:
            out[key] = {"f": f, "others": []}
    return list(out.values())


def build(doc: dict[str, Any], min_severity: str = "info",
          verbose: bool = True, visible: dict[str, Any] | None = None) -> dict[str, Any]:
    """(document made visible, derived view) for the templates of the human formats.

    `min_severity`: findings below it are left out of the lists (and counted as hidden);
    `verbose`: the advisories and decision paths are shown in full; `visible`: the document
    made visible already (:func:`visible_all`; views of one document share it, and nothing
    here changes it)."""
    r = visible if visible is not None else visible_all(doc)
    swarm = r.get("services") or []  # `diagnose service`
    names = {t["key"]: t["name"] for t in r["targets"]} | {s["key"]: s["name"] for s in swarm}
    every = [f for t in r["targets"] for f in t["findings"]] + list(r["run"]["findings"])
    every += [f for s in swarm for f in s["findings"]]
    floor = _RANK.get(min_severity, 0)
    suppressed = [f for f in every if f.get("suppressed")]
    every = [f for f in every if not f.get("suppressed")]
    findings = [f for f in every if _RANK.get(f["severity"], -1) >= floor]
    # Most severe first; within one severity, verdict order (a cause before hygiene advice).
    findings.sort(key=lambda f: verdict_key(Finding.from_dict(f)))
    findings.sort(key=lambda f: _RANK.get(f["severity"], -1), reverse=True)
    targets = sorted(r["targets"], key=_order)
    by_verdict = Counter(t["verdict"]["severity"] if t["verdict"] else "ok" for t in targets)
    checks = Counter[str]()
    for t in r["targets"]:
        checks.update(t["check_counts"])
    checks.update(r["run"]["check_counts"])
    for s in swarm:
        checks.update(s["check_counts"])
    target_keys = {t["key"] for t in r["targets"]}
    return {
        "r": r,
        "v": {
            "findings": findings,
            **(parts := split(findings, r["verdict"], names, sum(checks.values()))),
            "problem_groups": [{"f": f, "others": []} for f in parts["problems"]] if verbose
            else repeated(parts["problems"], names),
            "hidden": len(every) - len(findings),
            "suppressed": suppressed,
            "min_severity": min_severity,
            "verbose": verbose,
            "targets": targets,
            "single": len(targets) == 1,
            # A target column is noise when every finding is about the one target.
            "target_column": len(targets) != 1 or any(f["target"] not in target_keys
                                                      for f in findings),
            "with_findings": [t for t in targets if t["findings"]],
            "without_findings": [t for t in r["targets"] if not t["findings"]],
            "targets_by_verdict": {s: by_verdict.get(s, 0) for s in (*SEVERITIES, "ok")},
            "checks": {s.value: checks.get(s.value, 0) for s in Status},
            "checks_total": sum(checks.values()),
            "severities": SEVERITIES,
            "services": services(r["targets"]),
            "engines": r.get("engines", []) if len(r.get("engines", [])) > 1 else [],
            "swarm": swarm,
        },
    }


def split(findings: list[dict[str, Any]], verdict: dict[str, Any] | None,
          names: dict[str, str], checks_total: int) -> dict[str, Any]:
    """The problems (shown in full), the advisories (grouped by check) and the verdict when
    nothing is wrong, in the same words in every format."""
    problems = [f for f in findings if is_problem(f, verdict)]
    # The verdict leads (for `diagnose service` it is the service's, not the most severe).
    problems.sort(key=lambda f: verdict is None or (f["id"], f["code"], f["target"]) != (
        verdict["id"], verdict["code"], verdict["target"]))
    shown_in_full = {id(f) for f in problems}
    n_advice = len(findings) - len(problems)
    return {
        "problems": problems,
        "advisories": advisories([f for f in findings if id(f) not in shown_in_full], names),
        "advisory_count": n_advice,
        "no_problem": (f"no problem found; {n_advice} advisor"
                       f"{'y' if n_advice == 1 else 'ies'}" if n_advice else
                       f"no problem found: none of the {checks_total} checks that ran matched"),
    }


def services(targets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Compose services of the run (project, service, its containers, worst verdict), in
    the order first seen; empty when no target belongs to a Compose project."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for t in targets:
        if not t.get("project"):
            continue
        key = (t["project"], t.get("service", ""))
        entry = out.setdefault(key, {"project": key[0], "service": key[1], "containers": [],
                                     "verdict": None})
        entry["containers"].append(t["name"])
        v = t["verdict"]
        if v and (entry["verdict"] is None
                  or _RANK.get(v["severity"], -1) > _RANK.get(entry["verdict"]["severity"], -1)):
            entry["verdict"] = v
    return list(out.values())
