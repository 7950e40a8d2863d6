"""Building blocks of the start-stage (D1xx) findings: shared facts, evidence and commands.

Every finding of the "why did it not start" branch carries the ready-to-paste entrypoint
override (`docker run --rm -it --entrypoint sh IMAGE`, with the target's user and mounts where
that matters), and points at the `--probe` output (probe.json) when that was collected.
Pure functions of one container's evidence.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.entrypoint import ProbedFile
from diagnose.evidence.readings.common import (
    inspect_evidence,
    log_evidence,
    override_command,
    q,
)
from diagnose.evidence.readings.exec_failure import ExecDiagnosis, exec_diagnosis
from diagnose.evidence.readings.start import StartFailure, start_failure
from diagnose.model.causes import Cause
from diagnose.model.findings import Evidence, fact
from diagnose.model.text import excerpt


def entrypoint_evidence(c: ContainerEvidence, pointer: str) -> Evidence:
    """Evidence pointing into the static entrypoint probe (entrypoint.json)."""
    return Evidence(file=c.path(layout.ENTRYPOINT), pointer=pointer,
                    excerpt=excerpt(c.entrypoint.at(pointer), ascii_only=False))


def probe_doc(c: ContainerEvidence) -> Mapping[str, Any]:
    """The `--probe` throwaway's record (probe.json), or {} when it did not run."""
    doc = c.json(layout.PROBE)
    return doc if isinstance(doc, Mapping) else {}


def probe_evidence(c: ContainerEvidence, *prefixes: str) -> list[Evidence]:
    """Evidence for the `--probe` outputs whose step name starts with one of `prefixes`."""
    out = []
    for i, step in enumerate(probe_doc(c).get("probes") or ()):
        name = str(step.get("name", ""))
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            out.append(Evidence(file=c.path(layout.PROBE), pointer=f"/probes/{i}",
                                excerpt=f"$ {step.get('command', '')}\n{step.get('output', '')}"))
    return out


def state_facts(c: ContainerEvidence, sf: StartFailure | None = None) -> list[tuple[str, str]]:
    """Status, exit code and (for start failures) the engine's error."""
    facts = [fact("status", c.status), fact("exit code", c.exit_code)]
    if sf is not None and sf.source != "State.Error":
        facts[1] = fact("exit code", f"{c.exit_code} (Podman records neither an exit code nor "
                        "State.Error for a failed start)")
    if sf is not None:
        facts.append(fact(sf.source, sf.error))
        if sf.ever_ran:
            facts.append(fact("ran before", f"yes, last started {c.state.get('StartedAt')}"))
    return facts


def start_evidence(c: ContainerEvidence) -> list[Evidence]:
    """The start error (State.Error, or Podman's OCI runtime log) and the status it left."""
    rel, pointer = c.start_error_pointer
    if rel == layout.RUNTIME:
        return [Evidence(file=c.path(rel), pointer=pointer, excerpt=excerpt(c.start_error)),
                inspect_evidence(c, "/State/Status")]
    return [inspect_evidence(c, "/State/Error"), inspect_evidence(c, "/State/Status")]


def exec_facts(c: ContainerEvidence, ed: ExecDiagnosis) -> list[tuple[str, str]]:
    """How an exec failure showed: the decisive line, the exit code and what printed it."""
    via = {"runc": "runc could not exec it (the container's first and only output)",
           "env": "`env` from the shebang line could not find its program",
           "shell": "the shell of the shell-form command could not execute it"}[ed.via]
    return [fact("status", c.status), fact("exit code", c.exit_code), fact("failed", via),
            fact("log line", ed.line.text.replace("\r", "\\r"))]


def exec_evidence(c: ContainerEvidence, ed: ExecDiagnosis) -> list[Evidence]:
    """The log line and the probed file's facts."""
    out = log_evidence(c, [ed.line], limit=1)
    out.append(inspect_evidence(c, "/State/ExitCode"))
    if ed.facts(c):
        out.append(entrypoint_evidence(c, ed.probe_pointer))
    return out


def command_evidence(c: ContainerEvidence) -> list[Evidence]:
    """Config.Entrypoint and Config.Cmd."""
    return [inspect_evidence(c, "/Config/Entrypoint"), inspect_evidence(c, "/Config/Cmd")]


def shell_usable(c: ContainerEvidence) -> bool | None:
    """Whether the static probe found a shell an override can start (None: not probed)."""
    return c.entrypoint.shell_usable


def override_commands(c: ContainerEvidence, *, with_user: bool = True,
                      with_mounts: bool = True, look_at: Iterable[str] = ()) -> list[str]:
    """The entrypoint override (when the image has a shell), or `docker cp` of the files
    to look at when it has none."""
    paths = [p for p in look_at if p]
    if shell_usable(c) is False:
        return [f"docker cp {q(c.name + ':' + p)} - | tar -tvf -" for p in paths[:2]]
    return [override_command(c, with_mounts=with_mounts, with_user=with_user)]


def mount_over(c: ContainerEvidence, path: str) -> Mapping[str, Any] | None:
    """The mount whose destination contains `path` (the deepest one), if any."""
    if not path.startswith("/"):
        return None
    best: Mapping[str, Any] | None = None
    for m in c.inspect.get("Mounts") or ():
        dest = str(m.get("Destination") or "")
        if dest and (path == dest or path.startswith(dest.rstrip("/") + "/")) and (
                best is None or len(dest) > len(str(best.get("Destination")))):
            best = m
    return best


def image_ref(c: ContainerEvidence) -> str:
    """The image as the user named it, for commands."""
    return c.image_ref or str(c.inspect.get("Image") or "IMAGE")


def dockerfile_path(path: str) -> str:
    """A path as a Dockerfile line would name it (absolute, normalised)."""
    return posixpath.normpath(path) if path.startswith("/") else path


Failure = tuple[StartFailure | None, ExecDiagnosis | None]


def failure_for(c: ContainerEvidence, slug: Cause) -> Failure | None:
    """(start failure, None) or (None, exec diagnosis) when either names `slug` as the cause."""
    sf = start_failure(c)
    if sf is not None:
        return (sf, None) if sf.category == slug else None
    ed = exec_diagnosis(c)
    if ed is not None and ed.cause == slug:
        return None, ed
    return None


def failure_facts(c: ContainerEvidence, failure: Failure) -> tuple[list[tuple[str, str]],
                                                                   list[Evidence]]:
    """Facts and evidence of how the failure showed (State.Error, or the exec line)."""
    sf, ed = failure
    if sf is not None:
        return state_facts(c, sf), start_evidence(c)
    if ed is not None:
        return exec_facts(c, ed), exec_evidence(c, ed)
    return [], []


def probe_step(c: ContainerEvidence, name: str) -> Mapping[str, Any] | None:
    """One `--probe` step's record by name (None when it did not run)."""
    for step in probe_doc(c).get("probes") or ():
        if step.get("name") == name:
            return step
    return None


@dataclass
class ExecFacts:
    """An exec failure a check claims, with what every such finding starts from."""

    diagnosis: ExecDiagnosis
    #: The probe's facts about the file that failed, and its path.
    file: ProbedFile
    path: str
    facts: list[tuple[str, str]]
    evidence: list[Evidence]


def exec_facts_for(c: ContainerEvidence, slug: Cause, role: str) -> ExecFacts | None:
    """When the latest run's exec failure is `slug`'s: its facts and evidence, the file that
    failed named as `role` (`script`, `program`)."""
    failure = failure_for(c, slug)
    if failure is None or failure[1] is None:
        return None
    ed = failure[1]
    f = ed.facts(c)
    path = f.path or ed.path
    facts, evidence = failure_facts(c, failure)
    facts.append(fact(role, path))
    return ExecFacts(ed, f, path, facts, evidence)
