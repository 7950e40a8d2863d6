"""D306: The health probe times out because the container's CPU quota starves it.

What went wrong
    The container runs under a CPU quota (`--cpus 0.25`, `--cpu-quota`, Compose
    `deploy.resources.limits.cpus`) and uses all of it: the kernel throttles it for the rest of
    most periods.  The health probe runs *inside* the container, in the same cgroup, so it
    waits for CPU too and exceeds its timeout (`Health check exceeded timeout (1s)`, exit -1)
    although the application might answer if it had the CPU: the container turns unhealthy,
    and Compose dependants, Swarm or a load balancer act on it.

    Told by three things together: the probes time out, a CPU quota is set, and the stats
    API's `cpu_stats.throttling_data` shows most CPU periods throttled.  Throttling alone is
    no finding (even an idle container under a quota is throttled during its probes' bursts).
    Without a stats sample (not collected, or the container is no longer running) the
    throttling cannot be read: the finding says so (confidence medium).

How to confirm by hand
    docker inspect -f '{{.HostConfig.NanoCpus}} {{.HostConfig.CpuQuota}}' NAME
    docker stats --no-stream NAME                  (CPU % pinned at the quota)
    docker inspect -f '{{json .State.Health}}' NAME
    curl -s --unix-socket /var/run/docker.sock \\
      http://localhost/containers/NAME/stats?stream=false | jq .cpu_stats.throttling_data

Look-alikes told apart
    `unhealthy` alone: a probe that times out with no CPU quota (the application hangs), or a
    probe that fails fast (connection refused, HTTP 500, a missing probe program).

Fix
    Give the container more CPU (`docker update --cpus 1 NAME`), make the application use
    less, or give the probe room: a longer `--health-timeout` and `--health-interval`, a
    cheaper probe (a file the app touches instead of an HTTP request through a busy server).
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (Confidence, inspect_evidence, probe_starved, probe_timeouts, q,
                          throttle, Cause, check, ContainerEvidence, Evidence, fact, Finding,
                          layout, Remediation, Severity)


@check("D306", Cause.HEALTH_CHECK_TIMEOUT, severity=Severity.ERROR, requires=("inspect",))
def health_check_timeout(c: ContainerEvidence) -> Iterator[Finding]:
    """Probes time out, a CPU quota is set, and most CPU periods are throttled."""
    health = c.state.get("Health") or {}
    if c.status not in ("running", "paused") or not (
            health.get("Status") == "unhealthy" or health.get("FailingStreak")):
        return
    t = throttle(c)
    timeouts, total = probe_timeouts(c)
    if t is None or not timeouts * 2 > total > 0:
        return
    starved = probe_starved(c)
    if t.share is not None and not starved:
        return  # the stats show CPU to spare: the application itself hangs (`unhealthy`)
    facts = [fact("CPU quota", f"{t.cpus:g} CPUs"),
             fact("probes timed out", f"{timeouts} of the last {total}"),
             fact("health", f"{health.get('Status')}, failing streak "
                  f"{health.get('FailingStreak', 0)}")]
    evidence = [inspect_evidence(c, "/State/Health/Log"),
                inspect_evidence(c, "/HostConfig/NanoCpus"),
                inspect_evidence(c, "/HostConfig/CpuQuota")]
    confidence = Confidence.HIGH
    if t.share is not None:
        facts.append(fact("throttled CPU periods", f"{t.throttled} of {t.periods} "
                          f"({t.share:.0%}), {t.throttled_seconds or 0:.1f} s throttled"))
        evidence.append(Evidence(file=c.path(layout.STATS),
                                 pointer="/cpu_stats/throttling_data",
                                 excerpt=f"periods {t.periods}, throttled_periods {t.throttled}"))
        title = (f"the health probe times out because the container uses all of its "
                 f"{t.cpus:g}-CPU quota: {t.share:.0%} of its CPU periods were throttled")
    else:
        confidence = Confidence.MEDIUM
        facts.append(fact("still possible", "the application hangs whatever its CPU (no stats "
                          "sample, so the throttling could not be read); `docker stats "
                          "--no-stream` pinned at the quota tells them apart"))
        title = (f"the health probe times out under a {t.cpus:g}-CPU quota: most likely "
                 "starved of CPU (the throttling could not be read)")
    n = q(c.name)
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Give the container more CPU or make it use less; or give the probe room (longer "
            "--health-timeout, a cheaper probe).",
            (f"docker stats --no-stream {n}",
             f"docker update --cpus {max(1.0, t.cpus * 4):g} {n}",
             f"docker inspect -f '{{{{json .State.Health}}}}' {n}"),
        ),
        confidence=confidence,
    )
