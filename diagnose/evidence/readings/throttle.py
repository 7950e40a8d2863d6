"""CPU throttling of a container with a CPU quota, and health probes that time out under it.

A container with `--cpus` (NanoCpus) or `--cpu-quota`/`--cpu-period` gets that much CPU time
per period (100 ms by default) and is stopped for the rest of the period once it has used it:
the period is *throttled*.  A busy application under a tight quota leaves no CPU for the
health probe the engine runs inside it (`runc exec` of `wget`, `curl`...), which then exceeds
its timeout (`Health check exceeded timeout`, exit -1) although the application would answer
with CPU to spare.  The stats API reports `cpu_stats.throttling_data` (`periods`,
`throttled_periods`, `throttled_time`; cgroup v2's `nr_periods`, `nr_throttled` map to the
same keys).  Even a healthy container under a quota is throttled now and then (the probes'
own bursts), so throttling alone means nothing: it is timeouts *and* a quota *and* most
periods throttled (docs/taxonomy-notes.md, section 7).
Pure functions of one container's evidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from diagnose.evidence.container import ContainerEvidence
from diagnose.model.lazyre import lazy_compile

#: The share of CPU periods throttled from which a timing-out probe is starved of CPU.
STARVED_SHARE = 0.5

_TIMEOUT = lazy_compile(r"Health check exceeded timeout", re.IGNORECASE)


@dataclass(frozen=True)
class Throttle:
    """The container's CPU quota and how much of the time it was throttled (None: no stats)."""

    cpus: float
    periods: int | None
    throttled: int | None
    throttled_seconds: float | None

    @property
    def share(self) -> float | None:
        """Throttled periods / periods, when the stats say."""
        if not self.periods or self.throttled is None:
            return None
        return self.throttled / self.periods


def cpu_quota(c: ContainerEvidence) -> float | None:
    """The container's CPU limit in CPUs (`--cpus`, or quota/period), None when unlimited."""
    hc = c.host_config
    nano = hc.get("NanoCpus")
    if isinstance(nano, int) and nano > 0:
        return nano / 1e9
    quota, period = hc.get("CpuQuota"), hc.get("CpuPeriod") or 100_000
    if isinstance(quota, int) and quota > 0 and isinstance(period, int) and period > 0:
        return quota / period
    return None


def throttle(c: ContainerEvidence) -> Throttle | None:
    """The quota and the stats' throttling counters (None when no CPU quota is set)."""
    cpus = cpu_quota(c)
    if cpus is None:
        return None
    data: Mapping[str, Any] = (c.stats.get("cpu_stats") or {}).get("throttling_data") or {}
    periods, throttled = data.get("periods"), data.get("throttled_periods")
    time_ns = data.get("throttled_time")
    return Throttle(cpus, periods if isinstance(periods, int) else None,
                    throttled if isinstance(throttled, int) else None,
                    time_ns / 1e9 if isinstance(time_ns, int) else None)


def probe_timeouts(c: ContainerEvidence) -> tuple[int, int]:
    """(probes that timed out, probes recorded) in State.Health.Log."""
    log = list((c.state.get("Health") or {}).get("Log") or [])
    timeouts = sum(1 for e in log if e.get("ExitCode") == -1
                   and _TIMEOUT.search(str(e.get("Output") or "")))
    return timeouts, len(log)


def probe_starved(c: ContainerEvidence) -> bool:
    """The health probe times out because the container is throttled (the stats show most
    periods throttled under a quota, and most recorded probes timed out)."""
    t = throttle(c)
    timeouts, total = probe_timeouts(c)
    share = t.share if t is not None else None
    return share is not None and share >= STARVED_SHARE and timeouts * 2 > total > 0
