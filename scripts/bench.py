#!/usr/bin/env python3
"""Benchmark diagnose against the manual procedure, in the same run, on the real engine.

For each N it creates N real containers (half running, half exited, each with about
--log-lines lines of log), then times:

  manual:   a shell loop over the docker CLI, per container `docker inspect`, `docker logs`
            (stdout and stderr to separate files), `docker top` (running ones),
            `docker image history --no-trunc`, `docker events --since/--until`, `docker diff`,
            then `tar czf` of the lot -- what an engineer does by hand;
  diagnose: `diagnose --quiet --exit-zero` on the same containers, one bundle;

  engine floor: the manual procedure's Engine API calls, asked concurrently with nothing
            done to the answers -- no tool that asks the engine can beat it here, so
            manual / floor is the highest ratio this machine allows;

and prints the times, the ratios and diagnose's peak RSS.  `--huge` adds one container with
a 1 GB log (diagnose with the default caps and with `--tail all`).  `--version` timing is the
median of repeated `diagnose --version` runs; next to it, the median of starting Python and
importing the docker SDK (what every run on an engine pays first).  This is a script, not a
test: the goals are ratios measured in one invocation, never wall-clock asserts.

    .venv/bin/python scripts/bench.py --n 1,50,200 --huge
"""

from __future__ import annotations

import argparse
import calendar
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIAGNOSE = [str(ROOT / ".venv" / "bin" / "diagnose")]
BENCH_VENV = ROOT / ".bench-venv"
IMAGE = "diagnose-test/busybox:latest"


def installed_diagnose() -> list[str]:
    """diagnose as users get it: the project built as a wheel and pip-installed (bytecode
    compiled at install) into .bench-venv, rebuilt when the sources changed."""
    import hashlib

    digest = hashlib.sha256()
    for base in ("pyproject.toml", "diagnose", "checks", "templates"):
        for path in sorted((ROOT / base).rglob("*")) if (ROOT / base).is_dir() else [ROOT / base]:
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(ROOT).as_posix().encode())
                digest.update(path.read_bytes())
    stamp = BENCH_VENV / ".sources-sha256"
    exe = BENCH_VENV / "bin" / "diagnose"
    if exe.exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
        return [str(exe)]
    with tempfile.TemporaryDirectory() as wheels:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels,
                        str(ROOT)], check=True, capture_output=True)
        if not (BENCH_VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        wheel = next(Path(wheels).glob("diagnose-*.whl"))
        subprocess.run([str(BENCH_VENV / "bin" / "python"), "-m", "pip", "install", "-q",
                        "--force-reinstall", "--no-cache-dir", str(wheel)], check=True,
                       capture_output=True)
    stamp.write_text(digest.hexdigest())
    return [str(exe)]


def sh(*args: str, check: bool = True) -> str:
    """Run a command, return stdout."""
    proc = subprocess.run(args, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise SystemExit(f"{' '.join(args[:4])}...: {proc.stderr.strip()}")
    return proc.stdout


def measured(argv: list[str], cwd: Path) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MiB) of the command's process tree, exit code.

    Run through a fresh Python wrapper so RUSAGE_CHILDREN covers exactly this command.
    """
    wrapper = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "dt = time.perf_counter() - t\n"
        "print(json.dumps([dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
        " p.returncode]))\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *argv], cwd=cwd, capture_output=True,
                         text=True, check=True).stdout
    dt, rss_kb, code = json.loads(out)
    return dt, rss_kb / 1024, code


def make_containers(n: int, lines: int, label: str) -> list[str]:
    """N containers, half running and half exited, each having printed `lines` lines."""
    names = []
    script = (f"i=0; while [ $i -lt {lines} ]; do "
              "echo \"$(date) worker[$$]: processed request id=$i status=200 bytes=1234\"; "
              "i=$((i+1)); done")
    for i in range(n):
        name = f"bench-{label[:6]}-{i}"
        tail = "; exec sleep 100000" if i % 2 == 0 else "; exit 1"
        sh("docker", "run", "-d", "--label", f"diagnose.bench={label}", "--name", name,
           IMAGE, "sh", "-c", script + tail)
        names.append(name)
    deadline = time.monotonic() + 300
    for name in names:
        while True:
            got = int(sh("sh", "-c", f"docker logs {name} 2>&1 | wc -l").strip() or 0)
            if got >= lines:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} did not print {lines} lines")
            time.sleep(0.2)
    return names


def manual_script(names: list[str], tail: int) -> str:
    """The by-hand procedure as one bash loop."""
    # --until is now, as written: a future --until makes `docker events` wait for that time
    # (a whole second rounded up made the one-container baseline swing by up to 1 s).
    now = f"{time.time():.3f}"
    running = {n for n in names
               if sh("docker", "inspect", "-f", "{{.State.Running}}", n).strip() == "true"}
    # Events since each container was created, as diagnose asks (a fixed window would make
    # the engine replay everything else that happened in it).
    created = {n: sh("docker", "inspect", "-f", "{{.Created}}", n).strip() for n in names}
    lines = ["set -e", "mkdir -p out"]
    for n in names:
        top = f"docker top {n} > out/{n}/top.txt" if n in running else ":"
        lines.append(
            f"mkdir -p out/{n}; docker inspect {n} > out/{n}/inspect.json; "
            f"docker logs --timestamps --tail {tail} {n} > out/{n}/stdout.log "
            f"2> out/{n}/stderr.log; {top}; "
            f"docker image history --no-trunc {IMAGE} > out/{n}/history.txt; "
            f"docker events --since {created[n]} --until {now} --filter container={n} "
            f"> out/{n}/events.txt; docker diff {n} > out/{n}/diff.txt"
        )
    lines.append("tar czf manual.tar.gz out")
    return "\n".join(lines) + "\n"


def engine_floor(names: list[str], tail: int, workers: int = 16) -> float:
    """Seconds the engine itself needs to answer the manual procedure's API calls (inspect,
    logs, top, history, events, diff per container), asked concurrently through the SDK's
    low-level client with nothing done to the answers.  No tool that gets its evidence from
    the Engine API can be faster than this on this machine: manual / floor is the ceiling
    for the ratio."""
    import concurrent.futures as cf

    import docker

    api = docker.from_env(max_pool_size=workers).api
    try:
        started = time.perf_counter()
        until = f"{time.time():.9f}"
        with cf.ThreadPoolExecutor(workers) as pool:
            inspects = list(pool.map(api.inspect_container, names))
            calls: list[tuple[str, str, dict[str, Any]]] = []
            for ins in inspects:
                cid = ins["Id"]
                created = calendar.timegm(time.strptime(ins["Created"][:19],
                                                        "%Y-%m-%dT%H:%M:%S"))
                calls += [("/containers/{0}/json", cid, {}),
                          ("/containers/{0}/logs", cid, {"stdout": 1, "stderr": 1,
                                                         "timestamps": 1, "tail": tail}),
                          ("/images/{0}/history", ins["Image"], {}),
                          ("/events", "", {"since": created - 1, "until": until,
                                           "filters": json.dumps({"container": [cid]})}),
                          ("/containers/{0}/changes", cid, {})]
                if ins["State"]["Running"]:
                    calls.append(("/containers/{0}/top", cid, {}))

            def get(call: tuple[str, str, dict[str, Any]]) -> int:
                path, arg, params = call
                url = api._url(path, arg) if arg else api._url(path)
                return len(api._get(url, params=params).content)

            sum(pool.map(get, calls))
        return time.perf_counter() - started
    finally:
        api.close()


def cleanup(label: str) -> None:
    """Remove the benchmark's containers."""
    ids = sh("docker", "ps", "-aq", "--filter", f"label=diagnose.bench={label}").split()
    if ids:
        sh("docker", "rm", "-f", *ids, check=False)


def bench_n(n: int, lines: int, work: Path, repeat: int) -> dict[str, Any]:
    """One N: manual vs diagnose on the same containers, alternating `repeat` times (medians:
    one run of a sub-second command says more about the machine than about the command)."""
    label = uuid.uuid4().hex[:10]
    try:
        names = make_containers(n, lines, label)
        manual_times, diag_times, floor_times, peaks, sizes = [], [], [], [], []
        for i in range(repeat):
            floor_times.append(engine_floor(names, lines))
            mdir = work / f"manual-{n}-{label}-{i}"
            mdir.mkdir()
            (mdir / "manual.sh").write_text(manual_script(names, lines))
            t_manual, _, code = measured(["bash", "manual.sh"], mdir)
            assert code == 0, "manual procedure failed"
            ddir = work / f"diagnose-{n}-{label}-{i}"
            ddir.mkdir()
            t_diag, rss, code = measured([*DIAGNOSE, "--quiet", "--exit-zero", "--tail",
                                          str(lines), "-o", str(ddir), *names], ddir)
            assert code == 0, f"diagnose exited {code}"
            bundle = next(ddir.glob("diagnose-*.tar.gz"))
            manual_times.append(t_manual)
            diag_times.append(t_diag)
            peaks.append(rss)
            sizes.append(bundle.stat().st_size / 2**20)
            shutil.rmtree(mdir, ignore_errors=True)
            shutil.rmtree(ddir, ignore_errors=True)
        t_manual, t_diag = statistics.median(manual_times), statistics.median(diag_times)
        t_floor = statistics.median(floor_times)
        return {"n": n, "repeat": repeat, "manual_s": t_manual, "diagnose_s": t_diag,
                "ratio": t_manual / t_diag, "engine_floor_s": t_floor,
                "ceiling": t_manual / t_floor, "rss_mib": max(peaks),
                "bundle_mib": max(sizes)}
    finally:
        cleanup(label)


def bench_huge(work: Path) -> list[dict[str, Any]]:
    """One container with a 1 GB log: default caps and --tail all."""
    label = uuid.uuid4().hex[:10]
    name = f"bench-{label[:6]}-huge"
    try:
        sh("docker", "run", "-d", "--label", f"diagnose.bench={label}", "--name", name, IMAGE,
           "sh", "-c", "yes 'x' | tr -d '\\n' | fold -w 200 | head -c 1073741824; "
           "exec sleep 100000")
        log_path = sh("docker", "inspect", "-f", "{{.LogPath}}", name).strip()
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            size = os.path.getsize(log_path) if os.path.exists(log_path) else 0
            if size >= 2**30:
                break
            time.sleep(1)
        else:
            raise SystemExit("1 GB log not reached")
        time.sleep(2)
        out: list[dict[str, Any]] = []
        for label_, extra in (("huge, default caps", []),
                              ("huge, --tail all", ["--tail", "all"])):
            d = work / f"huge-{len(out)}"
            d.mkdir()
            mdir = work / f"manual-huge-{len(out)}"
            mdir.mkdir()
            tail = "all" if extra else "2000"
            (mdir / "m.sh").write_text(
                f"mkdir -p out; docker inspect {name} > out/inspect.json; docker logs "
                f"--timestamps --tail {tail} {name} > out/stdout.log 2> out/stderr.log; "
                f"tar czf m.tar.gz out\n")
            t_manual, rss_manual, _ = measured(["bash", "m.sh"], mdir)
            t, rss, code = measured([*DIAGNOSE, "--quiet", "--exit-zero", *extra, "-o", str(d),
                                     name], d)
            assert code == 0
            shutil.rmtree(mdir)
            out.append({"case": label_, "log_bytes": os.path.getsize(log_path),
                        "manual_s": t_manual, "diagnose_s": t, "ratio": t_manual / t,
                        "rss_mib": rss})
        return out
    finally:
        cleanup(label)


def bench_version(runs: int = 21) -> float:
    """Median wall time of `diagnose --version`, in milliseconds."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([*DIAGNOSE, "--version"], capture_output=True, check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bench_sdk_import(runs: int = 21) -> float:
    """Median wall time, in milliseconds, of starting diagnose's Python and importing the
    docker SDK: what any run that asks an engine pays before its first call (the floor of
    the one-container case, next to the engine floor)."""
    python = str(Path(DIAGNOSE[0]).with_name("python"))
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([python, "-c", "import docker"], capture_output=True, check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    """Run the selected benchmarks and print a table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", default="1,50,200", help="comma-separated container counts")
    ap.add_argument("--log-lines", type=int, default=2000)
    ap.add_argument("--huge", action="store_true", help="add the 1 GB log case")
    ap.add_argument("--repeat", type=int, default=0,
                    help="runs per N, medians reported (default: 7 for N <= 10, else 1)")
    ap.add_argument("--json", action="store_true", help="print results as JSON")
    ap.add_argument("--editable", action="store_true",
                    help="time the project's .venv (editable install) instead of a wheel")
    args = ap.parse_args()
    if not args.editable:
        DIAGNOSE[:] = installed_diagnose()
    machine = f"{os.cpu_count()} CPUs, {sh('uname', '-m').strip()}, engine " + sh(
        "docker", "version", "--format", "{{.Server.Version}}").strip()
    results: dict[str, Any] = {"machine": machine}
    with tempfile.TemporaryDirectory(prefix="diagnose-bench-") as tmp:
        work = Path(tmp)
        results["version_ms_median"] = bench_version()
        results["sdk_import_ms_median"] = bench_sdk_import()
        results["runs"] = [
            bench_n(int(n), args.log_lines, work, args.repeat or (7 if int(n) <= 10 else 1))
            for n in args.n.split(",")]
        if args.huge:
            results["huge"] = bench_huge(work)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    from tabulate import tabulate

    print(f"machine: {machine}")
    print(f"diagnose --version: {results['version_ms_median']:.0f} ms median")
    print(f"python + import docker (floor of any engine run): "
          f"{results['sdk_import_ms_median']:.0f} ms median")
    rows = [[r["n"], r["repeat"], f"{r['manual_s']:.2f}", f"{r['diagnose_s']:.2f}",
             f"{r['ratio']:.1f}x", f"{r['engine_floor_s']:.2f}", f"{r['ceiling']:.1f}x",
             f"{r['rss_mib']:.0f} MiB"]
            for r in results["runs"]]
    print(tabulate(rows, ["N", "runs", "manual s", "diagnose s", "manual/diagnose",
                          "engine floor s", "manual/floor", "peak RSS"],
                   colalign=("right",) * 8))
    huge = [[r["case"], f"{r['log_bytes'] / 2**30:.2f} GiB", f"{r['manual_s']:.2f}",
             f"{r['diagnose_s']:.2f}", f"{r['ratio']:.1f}x", f"{r['rss_mib']:.0f} MiB"]
            for r in results.get("huge", [])]
    if huge:
        print()
        print(tabulate(huge, ["case", "log", "manual s", "diagnose s", "manual/diagnose",
                              "peak RSS"]))


if __name__ == "__main__":
    main()
