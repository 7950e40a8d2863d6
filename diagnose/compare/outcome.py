"""How each side is doing, as differences: state and exit, findings on one side only, and the
log lines whose shapes only the failing side printed.

These are what a failure looks like, not why it happened, so they rank after everything that
decides behaviour (:mod:`diagnose.compare.rank`).  Log lines are compared by shape as the log
checks read them: the application's own leading timestamp, pids and durations dropped
(:func:`~diagnose.evidence.readings.log_signatures.message_key`), every digit read as 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from diagnose.compare.items import Fields, Item, differ
from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.logs import LogLine, shape
from diagnose.evidence.readings.exit import decisive_lines
from diagnose.evidence.readings.log_signatures import message_key
from diagnose.model.diff import Category, Change, Difference
from diagnose.model.findings import Evidence, Finding
from diagnose.model.report import TargetReport

#: Log lines listed per failing side.
MAX_LOG_LINES = 10


def state_fields(c: ContainerEvidence, report: TargetReport) -> Fields:
    """Status, exit code, OOM, health, restarts (times and PIDs always differ: left out)."""
    file = c.path(layout.INSPECT)
    state = c.state
    out: dict[str, Item] = {"status": Item(c.status or "unknown", file=file,
                                           pointer="/State/Status")}
    if c.ever_started and c.status not in ("running", "paused", "restarting"):
        out["exit code"] = Item(str(c.exit_code), file=file, pointer="/State/ExitCode")
    if state.get("OOMKilled"):
        out["OOM-killed"] = Item("yes", file=file, pointer="/State/OOMKilled")
    health = (state.get("Health") or {}).get("Status") if isinstance(
        state.get("Health"), dict) else None
    if health:
        out["health"] = Item(str(health), file=file, pointer="/State/Health/Status")
    restarts = c.inspect.get("RestartCount")
    if isinstance(restarts, int) and restarts:
        out["restarts"] = Item(str(restarts), file=file, pointer="/RestartCount")
    error = str(state.get("Error") or "")
    if error:
        out["start error"] = Item(error, file=file, pointer="/State/Error")
    out["verdict"] = Item(_verdict(report), file=layout.FINDINGS)
    return out


def _verdict(report: TargetReport) -> str:
    v = report.verdict
    return f"{v.code} {v.id}" if v is not None else "no problem found"


def state(a: ContainerEvidence, ra: TargetReport, b: ContainerEvidence, rb: TargetReport
          ) -> list[Difference]:
    """Differences in how each side is doing (both are redacted by now: compared as is)."""
    found, _ = differ(Category.STATE, state_fields(a, ra), state_fields(b, rb), True,
                      "how each side ended up: what a failure looks like, not its cause")
    return found


def findings(ra: TargetReport, rb: TargetReport) -> list[Difference]:
    """Findings on one side only, by check id (most severe first, as the reports list them)."""
    ids_a = {f.id for f in ra.findings}
    ids_b = {f.id for f in rb.findings}
    out: list[Difference] = []
    for f in ra.findings:
        if f.id not in ids_b and f.id not in {d.field for d in out}:
            out.append(_finding(f, Change.REMOVED))
    for f in rb.findings:
        if f.id not in ids_a and f.id not in {d.field for d in out}:
            out.append(_finding(f, Change.ADDED))
    return out


def _finding(f: Finding, change: Change) -> Difference:
    sev = f.severity.label if f.severity else "info"
    text = f"{f.code} {sev}: {f.title}"
    ev = (Evidence(layout.FINDINGS, excerpt=text),)
    on_a = change is Change.REMOVED
    return Difference(Category.FINDINGS, f.id, change, text if on_a else None,
                      None if on_a else text, "diagnose found this on one side only",
                      evidence_a=ev if on_a else (), evidence_b=() if on_a else ev)


def line_shape(text: str) -> str:
    """A log line as the log checks group it: no timestamp, pid or duration; digits as 0."""
    return shape(message_key(text))


def logs(failing: ContainerEvidence, other: ContainerEvidence, on_b: bool
         ) -> list[Difference]:
    """Lines whose shape only the failing side printed: its decisive lines (the traceback's
    exception, the panic, the error lines near the end) first, then the others in order."""
    known = {line_shape(ln.text) for ln in other.log_lines}
    seen: set[str] = set()
    new: list[LogLine] = []
    for ln in failing.log_lines:
        key = line_shape(ln.text)
        if key not in known and key not in seen and ln.text.strip():
            seen.add(key)
            new.append(ln)
    if not new:
        return []
    first = {id(ln) for ln in decisive_lines(new)}
    ordered: Sequence[LogLine] = ([ln for ln in new if id(ln) in first]
                                  + [ln for ln in new if id(ln) not in first])
    out = []
    for ln in ordered[:MAX_LOG_LINES]:
        ev = (Evidence(failing.path(ln.file), lines=(ln.number, ln.number), excerpt=ln.text),)
        out.append(Difference(
            Category.LOGS, f"{ln.stream} line {ln.number}",
            Change.ADDED if on_b else Change.REMOVED, None if on_b else ln.text,
            ln.text if on_b else None, "printed only by the failing side",
            evidence_a=() if on_b else ev, evidence_b=ev if on_b else ()))
    if len(ordered) > MAX_LOG_LINES:
        rest = f"{len(ordered) - MAX_LOG_LINES} more lines of new shapes"
        out.append(Difference(Category.LOGS, "more lines", Change.ADDED if on_b
                              else Change.REMOVED, None if on_b else rest,
                              rest if on_b else None, "printed only by the failing side"))
    return out
