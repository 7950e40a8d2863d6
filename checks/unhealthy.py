"""D302: The container's healthcheck fails: it is unhealthy.

What went wrong
    The engine runs the healthcheck (`HEALTHCHECK` in the image, `--health-cmd`, Compose
    `healthcheck:`) inside the container every interval; after `retries` failures in a row
    (3 by default, failures during `start_period` not counted) `State.Health.Status` becomes
    `unhealthy`.  Plain Docker does not restart an unhealthy container, but Compose
    `depends_on: condition: service_healthy`, Swarm and load balancers act on it.  The last
    five probe results are in `State.Health.Log`: exit code and output.  (When a container
    stops, the engine sets its health to `unhealthy` whatever the probes said: only a running
    or paused container's health is read.)

    Two very different situations look the same in `docker ps`:
    - the probe itself is broken: its program is not in the image (`exec: "curl": executable
      file not found in $PATH`, exit -1, for the `CMD` form; `/bin/sh: curl: not found`,
      exit 127, for `CMD-SHELL`), so the application may be perfectly fine;
    - the probe runs and reports a failure (exit 1: connection refused, HTTP 500, a missing
      file) or times out (`Health check exceeded timeout`, exit -1): the application is
      really down, hung or too slow.
    The static probe of the container's filesystem (`entrypoint.json`, `healthcheck`) also
    records whether the probe's program exists.

How to confirm by hand
    docker inspect -f '{{json .State.Health}}' NAME
    docker inspect -f '{{json .Config.Healthcheck}}' NAME

Look-alikes told apart
    `health-check-timeout`: probes that time out because a CPU quota is used up (most CPU
    periods throttled); this finding is then a warning and that one names the cause.

Fix
    Broken probe: use a program the image has (busybox `wget -q -O- http://127.0.0.1:PORT/`,
    the application's own health command) or install it; probe `127.0.0.1` rather than
    `localhost` (which may resolve to ::1).  Application down: read its logs and the probe's
    output; if it is only slow, raise `--health-timeout` / `--health-start-period`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from diagnose.api import (inspect_evidence, lazy_compile, logs_command, probe_starved, q, check,
                          ContainerEvidence,
                          Evidence, fact, Finding, layout, Remediation, Severity)

_MISSING = lazy_compile(r"executable file not found|no such file or directory|: not found\s*$|"
                        r"command not found", re.IGNORECASE)
_TIMEOUT = lazy_compile(r"Health check exceeded timeout", re.IGNORECASE)


def probe_reading(entry: Mapping[str, Any], program_found: bool | None) -> str:
    """`probe-missing`, `timeout`, `probe-error` (could not exec) or `app-failing`."""
    code = entry.get("ExitCode")
    output = str(entry.get("Output") or "")
    if code == -1 and _TIMEOUT.search(output):
        return "timeout"
    if code in (-1, 126, 127) and _MISSING.search(output.strip()):
        return "probe-missing"
    if code in (-1, 127) and program_found is False:
        return "probe-missing"
    if code == -1:
        return "probe-error"
    return "app-failing"


def _ns(value: Any) -> str:
    return f"{int(value) / 1e9:g} s" if isinstance(value, int) and value else "default"


def _verdict(c: ContainerEvidence, reading: str, program: str, output: str,
             last: Mapping[str, Any]) -> tuple[Severity, str, str, tuple[str, ...]]:
    """(severity, title, what to do, commands) for what the failing probe says."""
    n = q(c.name)
    image = q(c.image_ref or "IMAGE")
    commands: tuple[str, ...]
    if reading == "probe-missing":
        severity = Severity.WARNING
        title = (f"unhealthy because the healthcheck's program `{program}` is not in the image "
                 "(the probe is broken; the application may be fine)")
        summary = ("Use a probe program the image has (busybox: `wget -q -O- "
                   "http://127.0.0.1:PORT/`), the application's own health command, or install "
                   "the program; the application itself may be healthy.")
        commands = (f"docker run --rm --entrypoint sh {image} -c "
                    + q("command -v curl wget nc || echo none of curl wget nc"),
                    f"docker inspect -f '{{{{json .State.Health}}}}' {n}")
    elif reading == "timeout":
        severity = Severity.ERROR
        title = f"unhealthy: the healthcheck times out ({output[:120]})"
        if probe_starved(c):
            # health-check-timeout names the cause (a CPU quota used up); this is its symptom.
            severity = Severity.WARNING
            title += ": the probe is starved of CPU (health-check-timeout)"
        summary = ("The application is hung or too slow to answer: read its logs; if it is only "
                   "slow, raise --health-timeout or --health-start-period.")
        commands = (logs_command(c), f"docker stats --no-stream {n}",
                    f"docker inspect -f '{{{{json .State.Health}}}}' {n}")
    else:
        severity = Severity.ERROR
        title = ("unhealthy: the healthcheck runs and fails"
                 + (f": {output.splitlines()[-1][:140]}" if output else
                    f" with exit code {last.get('ExitCode')}"))
        if reading == "probe-error":
            title = f"unhealthy: the engine could not run the healthcheck: {output[:140]}"
        summary = ("The probe ran and reports the application down: read the probe's output "
                   "and the application's logs, and run the probe by hand.")
        commands = (logs_command(c), f"docker inspect -f '{{{{json .State.Health}}}}' {n}")
    return severity, title, summary, commands


@check("D302", "unhealthy", severity=Severity.ERROR, requires=("inspect",))
def unhealthy(c: ContainerEvidence) -> Iterator[Finding]:
    """State.Health.Status unhealthy; the failing probe's output, broken probe vs app down."""
    health = c.state.get("Health") or {}
    # When a container stops the engine marks its health `unhealthy` whatever the probes said:
    # only a running (or paused, health frozen) container's status is the probes' verdict.
    if health.get("Status") != "unhealthy" or c.status not in ("running", "paused"):
        return
    log = list(health.get("Log") or [])
    failing = [(i, e) for i, e in enumerate(log) if e.get("ExitCode") != 0]
    if not failing and not health.get("FailingStreak"):
        return
    hc = c.config.get("Healthcheck") or {}
    test = [str(t) for t in hc.get("Test") or []]
    probe = c.entrypoint.healthcheck
    found: bool | None = None
    if isinstance(probe, Mapping) and "found" in probe:
        found = bool(probe.get("found"))
    idx, last = failing[-1] if failing else (len(log) - 1, log[-1] if log else {})
    reading = probe_reading(last, found) if last else "app-failing"
    output = str(last.get("Output") or "").strip()
    facts = [
        fact("health", f"unhealthy, failing streak {health.get('FailingStreak', 0)}"),
        fact("probe", " ".join(test) or "(unknown)"),
        fact("interval / timeout / retries",
             f"{_ns(hc.get('Interval'))} / {_ns(hc.get('Timeout'))} / {hc.get('Retries') or 3}"),
        fact("probe exit codes (latest last)", ", ".join(str(e.get("ExitCode")) for e in log)
             or "none recorded"),
        fact("last failing output", output[:300] or "(empty)"),
    ]
    if isinstance(probe, Mapping):
        facts.append(fact("probe program in the image",
                          f"{probe.get('program')}: "
                          + (f"found at {probe.get('found')}" if probe.get("found")
                             else "not found")))
    evidence = [inspect_evidence(c, "/State/Health/Status"),
                inspect_evidence(c, "/Config/Healthcheck/Test")]
    if last:
        evidence.append(inspect_evidence(c, f"/State/Health/Log/{idx}/Output"))
    if isinstance(probe, Mapping):
        evidence.append(Evidence(file=c.path(layout.ENTRYPOINT), pointer="/healthcheck",
                                 excerpt=f"{probe.get('program')} -> {probe.get('found')}"))
    program = (probe.get("program") if isinstance(probe, Mapping) else None) or (
        test[1].split()[0] if len(test) > 1 and test[1].split() else "PROGRAM")
    severity, title, summary, commands = _verdict(c, reading, program, output, last)
    facts.append(fact("reading", {
        "probe-missing": "the probe's program is missing: the probe is broken, not the app",
        "timeout": "the probe timed out: the application is hung or slow",
        "probe-error": "the engine could not run the probe",
        "app-failing": "the probe ran and failed: the application is down or failing",
    }[reading]))
    yield Finding(title=title, facts=tuple(facts), evidence=tuple(evidence),
                  remediation=Remediation(summary, commands), severity=severity)
