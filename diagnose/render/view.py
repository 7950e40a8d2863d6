"""What the human formats (text, Markdown, HTML) show besides the document itself.

`build` returns the document with control characters made visible (a log line holding
`ESC ]0;...` must not retitle a terminal, a CR must not overwrite a line, a bidi override must
not reorder what a reader sees) and a few derived views: every finding in verdict order,
targets worst first, totals.  Pure functions of the document; no I/O.
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


def build(doc: dict[str, Any]) -> dict[str, Any]:
    """(document made visible, derived view) for the templates of the human formats."""
    r = visible_all(doc)
    swarm = r.get("services") or []  # `diagnose service`
    findings = [f for t in r["targets"] for f in t["findings"]] + list(r["run"]["findings"])
    findings += [f for s in swarm for f in s["findings"]]
    # Most severe first; within one severity, verdict order (a cause before hygiene advice).
    findings.sort(key=lambda f: verdict_key(Finding.from_dict(f)))
    findings.sort(key=lambda f: _RANK.get(f["severity"], -1), reverse=True)
    targets = sorted(r["targets"], key=_rank, reverse=True)
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
