#!/usr/bin/env python3
"""Benchmark `diagnose watch` on the real engine: what it costs while nothing fails, and how
soon a failure's bundle is on disk.

It starts `diagnose watch` on a label of its own (so other containers on the engine are not
its business), lets it sit idle for --idle seconds and reports the CPU time it used (user +
system, as a share of one CPU) and its RSS before and after; then it runs --crashes
containers that exit 1 one after another and reports, for each, the time from its `die`
event (the incident's time, from the engine) to the moment its bundle's line arrived on
watch's stdout (the bundle is renamed into place before that line is printed): median and
worst, and its RSS every 10 crashes.  A script, not a test: it prints measurements and
asserts nothing.  Its containers carry the label diagnose.bench=<run id> and are removed at
the end.

    .venv/bin/python scripts/bench_watch.py --idle 60 --crashes 10
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psutil


def _ts(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--idle", type=float, default=60.0, help="idle seconds measured")
    ap.add_argument("--crashes", type=int, default=10, help="crashing containers")
    args = ap.parse_args()
    run = uuid.uuid4().hex[:10]
    label = f"diagnose.bench={run}"
    out = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    proc = subprocess.Popen([sys.executable, "-m", "diagnose", "watch", "--filter",
                             f"label={label}", "--format", "json", "-o", str(out),
                             "--journal", str(out / "journal"), "--rate", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        ps = psutil.Process(proc.pid)
        time.sleep(10)  # started (imports done) and blocked on the event stream
        rss0 = ps.memory_info().rss
        cpu0 = sum(ps.cpu_times()[:2])
        t0 = time.monotonic()
        time.sleep(args.idle)
        cpu = sum(ps.cpu_times()[:2]) - cpu0
        span = time.monotonic() - t0
        print(f"idle: {cpu:.3f} s CPU over {span:.0f} s = {100 * cpu / span:.3f} % of one CPU; "
              f"RSS {rss0 / 2**20:.1f} MiB -> {ps.memory_info().rss / 2**20:.1f} MiB")
        delays = []
        assert proc.stdout is not None
        for n in range(args.crashes):
            subprocess.run(["docker", "run", "-d", "--label", label, "--name",
                            f"bench-watch-{run}-{n}", "diagnose-test/busybox:latest", "sh",
                            "-c", "echo 'fatal: bench'; exit 1"], check=True,
                           capture_output=True)
            line = json.loads(proc.stdout.readline())
            delays.append(time.time() - _ts(line["time"]))
            if (n + 1) % 10 == 0:  # memory stays flat: the caches are bounded
                print(f"after {n + 1} crashes: RSS {ps.memory_info().rss / 2**20:.1f} MiB")
        if delays:
            print(f"die -> bundle written: median {statistics.median(delays):.2f} s, "
                  f"worst {max(delays):.2f} s over {len(delays)} crashes; RSS "
                  f"{ps.memory_info().rss / 2**20:.1f} MiB")
    finally:
        proc.terminate()
        proc.wait(30)
        ids = subprocess.run(["docker", "ps", "-aq", "--filter", f"label={label}"],
                             capture_output=True, text=True).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
