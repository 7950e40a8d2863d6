"""D112: The container's logging driver could not be set up.

What went wrong
    Docker starts the logging driver before the process; when the driver cannot reach its
    endpoint (fluentd, gelf, syslog, splunk...) or its options are wrong, the start fails
    and the container stays `created` (exit code 128):

        failed to initialize logging driver: dial tcp 127.0.0.1:24224: connect: connection
        refused
        failed to initialize logging driver: dial unix /dev/log: connect: no such file or
        directory                                                             (syslog)

    HostConfig.LogConfig names the driver and its options.

How to confirm by hand
    docker inspect -f '{{json .HostConfig.LogConfig}} {{.State.Error}}' NAME

Fix
    Start or fix the log endpoint; make the driver not block the container
    (`--log-opt fluentd-async=true`, `--log-opt mode=non-blocking`); or use a local driver
    (`--log-driver local` / `json-file`), which also keeps `docker logs` working.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (failure_facts, failure_for, inspect_evidence, override_commands, q, Cause,
                          check, ContainerEvidence, fact, Finding, Remediation, Severity)

SLUG = Cause.LOGGING_DRIVER_FAILURE
_ASYNC = {"fluentd": "fluentd-async=true"}


@check("D112", SLUG, severity=Severity.CRITICAL, requires=("inspect",))
def logging_driver_failure(c: ContainerEvidence) -> Iterator[Finding]:
    """State.Error says the logging driver failed to initialize."""
    failure = failure_for(c, SLUG)
    if failure is None or failure[0] is None:
        return
    sf = failure[0]
    log_config = c.host_config.get("LogConfig") or {}
    driver = str(log_config.get("Type") or "?")
    options = log_config.get("Config") or {}
    facts, evidence = failure_facts(c, failure)
    facts.append(fact("logging driver", driver))
    if options:
        facts.append(fact("driver options", ", ".join(f"{k}={v}" for k, v in options.items())))
    evidence.append(inspect_evidence(c, "/HostConfig/LogConfig"))
    reason = sf.error.split("failed to initialize logging driver:", 1)[-1].strip()
    opt = _ASYNC.get(driver, "mode=non-blocking")
    yield Finding(
        title=f"the {driver} logging driver could not start: {reason}",
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            f"Start or fix the {driver} endpoint, then `docker start {c.name}`; or recreate "
            f"the container with `--log-opt {opt}` so it starts while the endpoint is down, or "
            "with a local driver (`--log-driver local`).",
            (f"docker inspect -f '{{{{json .HostConfig.LogConfig}}}}' {q(c.name)}",
             f"docker start {q(c.name)}   # once the endpoint answers",
             *override_commands(c)),
        ),
    )
