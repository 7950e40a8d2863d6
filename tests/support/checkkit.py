"""Helpers for the decision-tree check tests: run diagnose, read findings, rebuild evidence.

Conditions are produced on the real engine and diagnosed right away: the engine keeps only
about 256 events engine-wide and other tests churn them.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from diagnose.analysis.registry import load_registry
from diagnose.analysis.targets import analyse_container
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.records import CollectorRecord
from diagnose.model.findings import Finding
from tests.support.engine import docker, wait_for
from tests.support.evidence import make_container, make_engine
from tests.support.runs import ADVICE_STAGES, Result, cause_ids, findings

SEVERITY_RANK = {"info": 10, "warning": 20, "error": 30, "critical": 40}


def report(diagnose: Callable[..., Result], *names: str) -> Result:
    """Run the real tool on `names` (JSON on stdout); it must not fail for usage reasons."""
    r = diagnose(*names, "--format", "json", "--quiet", "--exit-zero")
    assert r.code == 0, r.stderr
    assert r.bundle is not None, r.stderr
    return r


def ids(result: Result, name: str) -> set[str]:
    """Finding ids of one target's diagnosis (hygiene and engine advice left out)."""
    return cause_ids(result, name)


def only(result: Result, name: str, slug: str) -> dict[str, Any]:
    """The finding `slug` of `name`, asserting it is there."""
    found = [f for f in findings(result, name) if f["id"] == slug]
    assert found, f"{slug} not reported for {name}; got {sorted(ids(result, name))}"
    assert len(found) == 1, found
    return found[0]


def facts(f: dict[str, Any]) -> dict[str, str]:
    """A finding's facts as a dict."""
    return {x["name"]: x["value"] for x in f["facts"]}


def none_of(result: Result, name: str, slugs: Iterable[str]) -> None:
    """Assert none of `slugs` is reported for `name`."""
    got = ids(result, name) & set(slugs)
    assert not got, f"look-alikes reported for {name}: {sorted(got)}"


def worst(result: Result, name: str) -> int:
    """The rank of the worst severity of `name`'s diagnosis (0 when nothing; hygiene and engine
    advice left out)."""
    return max((SEVERITY_RANK[f["severity"]] for f in findings(result, name)
                if f["stage"] not in ADVICE_STAGES), default=0)


def verdict(result: Result, name: str) -> str | None:
    """The verdict (first finding, verdict order) id of one target."""
    doc = result.json()
    target = next(t for t in doc["targets"] if t["name"] == name)
    return target["verdict"]["id"] if target["verdict"] else None


def evidence_from_bundle(result: Result, name: str,
                         drop: Iterable[str] = ()) -> ContainerEvidence:
    """The container's evidence read back from the bundle, with the files in `drop` left out
    (e.g. `events.json`: the same run as if the engine's event ring had moved on)."""
    members = result.members()
    manifest = json.loads(members["manifest.json"])
    prefix = f"containers/{name}/"
    dropped = set(drop)
    files = {k[len(prefix):]: v for k, v in members.items()
             if k.startswith(prefix) and k[len(prefix):] not in dropped}
    records = {r["name"]: CollectorRecord.from_dict(r) for r in manifest["collectors"]
               if r["owner"] == name and not set(r.get("files") or ()) & dropped}
    engine = make_engine(files={k: v for k, v in members.items() if k.startswith("engine/")},
                         records={r["name"]: CollectorRecord.from_dict(r)
                                  for r in manifest["collectors"] if r["owner"] == "engine"})
    return make_container(name, files=files, records=records, engine=engine,
                          collected_at=str(manifest.get("started_at", "")))


def analyse(c: ContainerEvidence) -> list[Finding]:
    """Run every built-in container check on `c` (the same pipeline as the CLI)."""
    report_, errors = analyse_container(c, load_registry(plugins=False))
    assert not errors, errors
    return list(report_.findings)


def wait_process(name: str, command: str) -> None:
    """Wait until `command` runs in the container (a signal sent earlier could hit the init
    before it started its child)."""
    wait_for(lambda: command in docker("top", name, check=False).stdout, timeout=20,
             what=f"{command} running in {name}")


def compile_c(tmp: Path, name: str, source: str, *flags: str) -> bytes:
    """Build a tiny C program with the host's gcc; returns the ELF bytes."""
    src = tmp / f"{name}.c"
    out = tmp / name
    src.write_text(source)
    subprocess.run(["gcc", "-O0", "-o", str(out), str(src), *flags], check=True,
                   capture_output=True, timeout=120)
    return out.read_bytes()


def strip_volatile(doc: dict[str, Any]) -> dict[str, Any]:
    """A JSON report without what legitimately differs between a live run and `analyze`: the
    mode and the bundle path (check timings are not in reports; collector timings come from
    the bundle itself)."""
    doc = json.loads(json.dumps(doc))
    for key in ("mode", "bundle"):
        doc.pop(key, None)
    return doc
