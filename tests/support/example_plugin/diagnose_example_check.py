"""X001: The container exited with an error and nothing will restart it.

An example of a third-party check (README, "Writing a check"): it imports from `diagnose.api`
only, is found through the entry-point group `diagnose.checks`, and uses its own code prefix
(`X`).  This module docstring is what `diagnose explain stays-down` prints: what the finding
means, how to confirm it by hand, and what to do.

Confirm by hand
    docker inspect -f '{{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}' NAME

Fix
    Fix the cause of the exit first (see the other findings); then, for a service that must
    stay up, give it a restart policy: `docker update --restart unless-stopped NAME`.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (
    ContainerEvidence,
    Finding,
    Remediation,
    Severity,
    check,
    ended,
    exit_evidence,
    fact,
    inspect_evidence,
    q,
    run_facts,
)


@check("X001", "stays-down", severity=Severity.INFO, requires=("inspect",))
def stays_down(c: ContainerEvidence) -> Iterator[Finding]:
    """A failed run with the restart policy `no`: the container stays down."""
    policy = str((c.host_config.get("RestartPolicy") or {}).get("Name") or "no")
    if not ended(c) or not c.exit_code or policy != "no":
        return
    yield Finding(
        title=f"exited {c.exit_code} and stays down: its restart policy is `no`",
        facts=(*run_facts(c), fact("restart policy", policy)),
        evidence=(*exit_evidence(c), inspect_evidence(c, "/HostConfig/RestartPolicy/Name")),
        remediation=Remediation(
            "Fix the cause of the exit; give a service that must stay up a restart policy.",
            (f"docker update --restart unless-stopped {q(c.name)}",)),
    )
