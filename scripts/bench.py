#!/usr/bin/env python3
"""Benchmark diagnose against the manual procedure, in the same run, on the real engine.

For each N it creates N real containers (half running, half exited, each with about
--log-lines lines of log), then times, alternating, on the same containers:

  manual:   a bash loop over the docker CLI, per container `docker inspect`, `docker logs`
            (stdout and stderr to separate files), `docker top` (running ones),
            `docker image history --no-trunc`, `docker events --since/--until`, `docker diff`,
            then `tar czf` of the lot -- what an engineer does by hand;
  parallel: the same per-container shell function, run --parallel (8) containers at a time
            by `xargs -P 8 -L 1`, then the same `tar czf` -- the fastest a shell user gets;
  diagnose: `diagnose --quiet --exit-zero` on the same containers, one bundle;

  engine floor: the manual procedure's Engine API calls, asked concurrently with nothing
            done to the answers -- no tool that asks the engine can beat it here;
  card floor: a fresh process that imports the product card's libraries, asks those calls
            and what else a bundle holds (version, info, a stats sample of each running
            container) and deflates the answers, doing nothing else
            (scripts/bench_card_floor.py) -- the least any tool built to the card needs to
            write this evidence; a speed goal set against the engine floor leaves diagnose
            (goal - card floor) for redacting, analysing and reporting;

and prints the times, every ratio against diagnose and diagnose's peak RSS, and where
diagnose's time goes: its CPU and the engine's (dockerd and containerd with their children,
from /proc around each run), and the least wall time that CPU allows on this machine's CPUs.  Each
timed diagnose run starts at least STATS_PAUSE after the previous one ended, as a user's run
does: dockerd answers stats at its next once-a-second sample, so a run right after another's
stats request would wait for it (`stats after stats` measures that wait).  Both manual
procedures get each container's creation time and state before the clock starts (events
since creation until the loop's start; `top` for running ones).  `--huge` adds one container
with a 1 GB log (diagnose with the default caps and with `--tail all`).  `--version` timing is
the median of repeated `diagnose --version` runs; next to it, the median of starting Python
and importing the docker SDK (what every run on an engine pays first: N=1's floor is that
plus the engine floor), and of importing the product card's libraries (the SDK, typer,
jinja2, psutil, tabulate), which every diagnose loads.  `--json PATH` writes the results and
the machine they were measured on; `--profile N` adds one untimed diagnose run at that N
under py-spy and writes the profile next to the JSON.  This is a script, not a test: the goals
are ratios measured in one invocation, never wall-clock asserts.  Its containers carry the
label diagnose.bench=<run id> and are removed at the end, on an error and on Ctrl-C or
SIGTERM too.

    .venv/bin/python scripts/bench.py --n 1,50,200 --huge --json bench.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any, NoReturn

import bench_card_floor as card_floor

ROOT = Path(__file__).resolve().parent.parent
DIAGNOSE = [str(ROOT / ".venv" / "bin" / "diagnose")]
BENCH_VENV = ROOT / ".bench-venv"
IMAGE = "diagnose-test/busybox:latest"
LABEL = "diagnose.bench"

# What the manual procedures do for one container ($1 name, $2 creation time, $3 running),
# defined once so the serial loop and the xargs run ask the engine exactly the same things.
COLLECT = """collect() {
  mkdir -p "out/$1"
  docker inspect "$1" > "out/$1/inspect.json"
  docker logs --timestamps --tail "$TAIL" "$1" > "out/$1/stdout.log" 2> "out/$1/stderr.log"
  if [ "$3" = true ]; then docker top "$1" > "out/$1/top.txt"; fi
  docker image history --no-trunc "$IMAGE" > "out/$1/history.txt"
  docker events --since "$2" --until "$UNTIL" --filter "container=$1" > "out/$1/events.txt"
  docker diff "$1" > "out/$1/diff.txt"
}"""


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
    """Wall seconds, peak RSS (MiB) of the command's process tree, exit code (its CPU
    seconds: :data:`LAST_CPU`, the engine's meanwhile: :data:`LAST_ENGINE_CPU`).

    Run through a fresh Python wrapper so RUSAGE_CHILDREN covers exactly this command.
    """
    wrapper = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "dt = time.perf_counter() - t\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps([dt, u.ru_maxrss, p.returncode, u.ru_utime + u.ru_stime]))\n"
    )
    engine, machine = engine_cpu(), machine_cpu()
    proc = in_group([sys.executable, "-c", wrapper, *argv], cwd)
    LAST_ENGINE_CPU[0] = engine_cpu() - engine
    LAST_IDLE[0], LAST_BUSY[0] = machine_use(machine, machine_cpu())
    if proc.returncode != 0:
        raise SystemExit(f"bench: measuring {' '.join(argv[:3])}... failed: {proc.stderr}")
    dt, rss_kb, code, cpu = json.loads(proc.stdout)
    LAST_CPU[0] = cpu
    return dt, rss_kb / 1024, code


#: CPU seconds (user + system) of the last measured command, and of the engine meanwhile;
#: and of the floor's own client (the SDK receiving the answers, nothing done with them).
LAST_CPU = [0.0]
LAST_ENGINE_CPU = [0.0]
LAST_FLOOR_CPU = [0.0]
#: The share of the machine's CPU time that was idle during the last measured command (or
#: floor), and the CPU seconds the machine was busy meanwhile: all of its CPUs, whoever used
#: them (diagnose, dockerd, containerd, the containers' shims, the kernel's workers: a
#: `docker top` costs a shim and the kernel more than dockerd, and anyone else).
LAST_IDLE = [0.0]
LAST_BUSY = [0.0]


def machine_cpu() -> tuple[float, float]:
    """(idle, total) CPU seconds of the whole machine so far, every CPU (/proc/stat through
    psutil; iowait counts as idle: a CPU waiting for a disk could have run something).
    Time the hypervisor took (steal) is in neither: nobody on this machine used it."""
    import psutil

    t = psutil.cpu_times()
    idle = t.idle + getattr(t, "iowait", 0.0)
    # guest and guest_nice are already counted in user and nice.
    total = sum(getattr(t, f) for f in t._fields if f not in ("guest", "guest_nice", "steal"))
    return idle, total


def machine_use(before: tuple[float, float], after: tuple[float, float]) -> tuple[float, float]:
    """(idle share of the machine's CPU time, busy CPU seconds) between two
    :func:`machine_cpu` readings."""
    total, idle = after[1] - before[1], after[0] - before[0]
    return (idle / total if total > 0 else 0.0), total - idle


def engine_cpu() -> float:
    """CPU seconds the engine has used so far: dockerd and containerd, with the children they
    waited for (`docker top` runs ps; runc and short-lived shims).  The containers' own shims
    are left out: they come and go (a sum over a changing set of processes can even fall)
    and copy the containers' output, which a diagnosis does not ask for."""
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["name"]):
        name = proc.info.get("name") or ""
        if name in ("dockerd", "containerd"):
            try:
                t = proc.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system + t.children_user + t.children_system
    return total


def in_group(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command in a process group of its own, and kill the whole group if the bench is
    interrupted or fails meanwhile (SIGTERM reaches only the bench; a diagnose or docker CLI
    left running would keep working on containers being removed)."""
    with subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, process_group=0) as proc:
        try:
            out, err = proc.communicate()
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def make_containers(n: int, lines: int, label: str) -> list[str]:
    """N containers, half running and half exited, each having printed `lines` lines."""
    names = []
    script = (f"i=0; while [ $i -lt {lines} ]; do "
              "echo \"$(date) worker[$$]: processed request id=$i status=200 bytes=1234\"; "
              "i=$((i+1)); done")
    for i in range(n):
        name = f"bench-{label[:6]}-{i}"
        tail = "; exec sleep 100000" if i % 2 == 0 else "; exit 1"
        sh("docker", "run", "-d", "--label", f"{LABEL}={label}", "--name", name,
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


def container_facts(names: list[str]) -> list[tuple[str, str, bool]]:
    """(name, creation time, running) per container, asked once before any clock starts."""
    out = sh("docker", "inspect", "-f", "{{.Name}} {{.Created}} {{.State.Running}}", *names)
    facts = []
    for line in out.splitlines():
        name, created, running = line.split()
        facts.append((name.lstrip("/"), created, running == "true"))
    return facts


def manual_script(facts: list[tuple[str, str, bool]], tail: int, parallel: int) -> str:
    """The by-hand procedure as one bash script: the per-container function called in a loop
    (parallel=0) or by `xargs -P parallel` over targets.txt (one container a line)."""
    # --until is now, as written: a future --until makes `docker events` wait for that time
    # (a whole second rounded up made the one-container baseline swing by up to 1 s).
    # Events since each container was created, as diagnose asks (a fixed window would make
    # the engine replay everything else that happened in it).
    lines = ["set -e", f"TAIL={tail} IMAGE={IMAGE} UNTIL={time.time():.3f}", COLLECT,
             "mkdir -p out"]
    if parallel:
        lines += ["export -f collect; export TAIL IMAGE UNTIL",
                  f"xargs -P {parallel} -L 1 bash -ec 'collect \"$@\"' collect < targets.txt"]
    else:
        lines += [f"collect {name} {created} {str(running).lower()}"
                  for name, created, running in facts]
    lines.append("tar czf manual.tar.gz out")
    return "\n".join(lines) + "\n"


def run_manual(facts: list[tuple[str, str, bool]], tail: int, parallel: int, where: Path) -> float:
    """Seconds the manual procedure (serial, or `parallel` at a time) takes, in `where`."""
    where.mkdir()
    if parallel:
        (where / "targets.txt").write_text("".join(
            f"{name} {created} {str(running).lower()}\n" for name, created, running in facts))
    (where / "manual.sh").write_text(manual_script(facts, tail, parallel))
    took, _, code = measured(["bash", "manual.sh"], where)
    if code != 0:
        raise SystemExit(f"the {'parallel ' if parallel else ''}manual procedure exited {code}")
    shutil.rmtree(where, ignore_errors=True)
    return took


def run_diagnose(names: list[str], tail: int, where: Path) -> tuple[float, float, float]:
    """Seconds, peak RSS (MiB) and bundle size (MiB) of one diagnose run over `names`."""
    where.mkdir()
    took, rss, code = measured([*DIAGNOSE, "--quiet", "--exit-zero", "--tail", str(tail),
                                "-o", str(where), *names], where)
    if code != 0:
        raise SystemExit(f"diagnose exited {code}")
    size = next(where.glob("diagnose-*.tar.gz")).stat().st_size / 2**20
    shutil.rmtree(where, ignore_errors=True)
    return took, rss, size


def engine_floor(names: list[str], tail: int, workers: int = 16) -> float:
    """Seconds the engine itself needs to answer the manual procedure's API calls (inspect,
    logs, top, history, events, diff per container), asked concurrently through the SDK's
    low-level client with nothing done to the answers.  No tool that gets its evidence from
    the Engine API can be faster than this on this machine: manual / floor is the ceiling
    for the ratio."""
    import docker

    from diagnose.collect.connect import one_pool_per_socket

    api = docker.from_env(max_pool_size=workers).api
    one_pool_per_socket(api)  # connections reused, as diagnose's are
    engine, machine = engine_cpu(), machine_cpu()
    try:
        own = time.process_time()
        started = time.perf_counter()
        card_floor.collect(api, names, tail, workers, stats=False)
        took = time.perf_counter() - started
        LAST_FLOOR_CPU[0] = time.process_time() - own
        LAST_ENGINE_CPU[0] = engine_cpu() - engine
        LAST_IDLE[0], LAST_BUSY[0] = machine_use(machine, machine_cpu())
        return took
    finally:
        api.close()


def run_card_floor(names: list[str], tail: int, where: Path) -> float:
    """Seconds of the card floor (scripts/bench_card_floor.py): a fresh process that imports
    the product card's libraries, asks the engine everything a bundle holds of it and of
    these containers, and deflates the answers into an archive, doing nothing else.  Its CPU
    and the machine's meanwhile are in :data:`LAST_CPU`, :data:`LAST_ENGINE_CPU`,
    :data:`LAST_IDLE` and :data:`LAST_BUSY`, as for a diagnose run."""
    python = str(Path(DIAGNOSE[0]).with_name("python"))
    where.mkdir(parents=True, exist_ok=True)
    script = str(Path(card_floor.__file__).resolve())
    took, _rss, code = measured([python, script, str(tail), *names], where)
    if code != 0:
        raise SystemExit(f"bench: the card floor exited {code}")
    return took


def stats_back_to_back(names: list[str], times: int = 5) -> float:
    """Median seconds of a one-shot stats request asked right after another one was answered.
    dockerd samples the containers that someone asks stats of, then sleeps a second: a request
    that comes during that sleep waits for the next sample (up to a second).  A diagnose run
    that starts within a second of another's stats request (as the repeated runs of this
    benchmark would) pays that wait; so each timed diagnose run starts a second after the last
    one, as a user's run does, and this figure says what the wait costs otherwise."""
    import docker

    api = docker.from_env().api
    try:
        running = next(n for n in names if api.inspect_container(n)["State"]["Running"])
        waits = []
        for _ in range(times):
            api.stats(running, stream=False, one_shot=True)
            t = time.perf_counter()
            api.stats(running, stream=False, one_shot=True)
            waits.append(time.perf_counter() - t)
        return statistics.median(waits)
    finally:
        api.close()


#: Seconds between a diagnose run's end and the next one's start: more than the engine's
#: stats sampler sleeps (1 s), so no timed run waits for a sample the previous one caused.
STATS_PAUSE = 1.2


def cleanup(label: str) -> None:
    """Remove the benchmark's containers, Ctrl-C or not (a second Ctrl-C must not leave them:
    SIGINT is ignored meanwhile, and the docker CLI inherits that), then look once more for
    one whose `docker run` was cut short after the engine took the request."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for pause in (0.0, 1.0):
            time.sleep(pause)
            ids = sh("docker", "ps", "-aq", "--filter", f"label={LABEL}={label}",
                     check=False).split()
            if ids:
                sh("docker", "rm", "-f", *ids, check=False)
    finally:
        signal.signal(signal.SIGINT, previous)


def terminated(signum: int, _frame: object) -> NoReturn:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so every `finally` removes what it created."""
    raise KeyboardInterrupt(signal.Signals(signum).name)


def bench_n(n: int, lines: int, work: Path, repeat: int, parallel: int,
            profile: dict[str, Any] | None) -> dict[str, Any]:
    """One N: the engine floor, manual, parallel manual and diagnose on the same containers,
    alternating `repeat` times (medians: one run of a sub-second command says more about the
    machine than about the command); then, if asked, one untimed diagnose run profiled."""
    label = uuid.uuid4().hex[:10]
    try:
        names = make_containers(n, lines, label)
        facts = container_facts(names)
        runs: dict[str, list[float]] = {
            "engine_floor_s": [], "manual_s": [], "parallel_s": [], "diagnose_s": [],
            "engine_cpu_floor_s": [], "floor_cpu_s": [], "diagnose_cpu_s": [],
            "engine_cpu_diagnose_s": [], "idle_floor": [], "idle_diagnose": [],
            "machine_cpu_floor_s": [], "machine_cpu_diagnose_s": [],
            "card_floor_s": [], "card_floor_cpu_s": [], "idle_card_floor": [],
            "machine_cpu_card_floor_s": [], "rss_mib": [], "bundle_mib": []}
        last_stats = 0.0

        def stats_sampler_idle() -> None:
            """The engine's stats sampler idle, as for a user's run (see
            stats_back_to_back): the card floor and diagnose ask for stats."""
            time.sleep(max(0.0, last_stats + STATS_PAUSE - time.monotonic()))

        for i in range(repeat):
            runs["engine_floor_s"].append(engine_floor(names, lines))
            runs["engine_cpu_floor_s"].append(LAST_ENGINE_CPU[0])
            runs["floor_cpu_s"].append(LAST_FLOOR_CPU[0])
            runs["idle_floor"].append(LAST_IDLE[0])
            runs["machine_cpu_floor_s"].append(LAST_BUSY[0])
            stats_sampler_idle()
            runs["card_floor_s"].append(run_card_floor(names, lines, work / f"card-{n}-{i}"))
            last_stats = time.monotonic()
            runs["card_floor_cpu_s"].append(LAST_CPU[0])
            runs["idle_card_floor"].append(LAST_IDLE[0])
            runs["machine_cpu_card_floor_s"].append(LAST_BUSY[0])
            runs["manual_s"].append(run_manual(facts, lines, 0, work / f"manual-{n}-{i}"))
            runs["parallel_s"].append(run_manual(facts, lines, parallel,
                                                 work / f"parallel-{n}-{i}"))
            stats_sampler_idle()
            took, rss, size = run_diagnose(names, lines, work / f"diagnose-{n}-{i}")
            last_stats = time.monotonic()
            runs["diagnose_s"].append(took)
            runs["diagnose_cpu_s"].append(LAST_CPU[0])
            runs["engine_cpu_diagnose_s"].append(LAST_ENGINE_CPU[0])
            runs["idle_diagnose"].append(LAST_IDLE[0])
            runs["machine_cpu_diagnose_s"].append(LAST_BUSY[0])
            runs["rss_mib"].append(rss)
            runs["bundle_mib"].append(size)
        result: dict[str, Any] = {"n": n, "repeat": repeat, "parallel": parallel}
        result.update({key: statistics.median(values) for key, values in runs.items()
                       if key.endswith("_s") or key.startswith("idle_")})
        if n <= 10:
            result["stats_back_to_back_s"] = stats_back_to_back(names)
        result.update(rss_mib=max(runs["rss_mib"]), bundle_mib=max(runs["bundle_mib"]),
                      runs=runs)
        if profile is not None:
            result["profile"] = profile_diagnose(names, lines, work / f"profile-{n}", n,
                                                 profile)
        return result
    finally:
        cleanup(label)


def py_spy() -> str:
    """The py-spy executable; pip-installs it next to this Python the first time it is asked."""
    here = Path(sys.executable).with_name("py-spy")
    found = str(here) if here.exists() else shutil.which("py-spy")
    if found:
        return found
    print("bench: installing py-spy for --profile", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
    return str(here)


def own_code(where: str) -> bool:
    """Whether a profiled frame's file is diagnose's (installed: diagnose/checks/ too)."""
    return "diagnose/" in where or where.startswith("checks/") or "/checks/" in where


def profile_diagnose(names: list[str], tail: int, where: Path, n: int,
                     profile: dict[str, Any]) -> dict[str, Any]:
    """One more diagnose run on the same containers, untimed, under `py-spy record` (every
    thread, idle ones too, so waiting shows); the profile (collapsed stacks, which speedscope
    and flamegraph.pl read) is written into profile['dir'] and summarised.  py-spy stops the
    process for each sample (reading a hundred threads' stacks takes a while), which slows
    CPU-bound stages more than waiting ones: read the split of the run's time by stage as
    where it goes, not as how long each takes unprofiled."""
    where.mkdir()
    argv = ["--quiet", "--exit-zero", "--tail", str(tail), "-o", str(where), *names]
    out = profile["dir"] / f"{profile['stem']}.profile-n{n}.txt"
    cmd = [profile["exe"], "record", "--rate", str(profile["rate"]), "--format", "raw",
           "--threads", "--idle", "--function", "--output", str(out), "--", *DIAGNOSE, *argv]
    started = time.perf_counter()
    proc = in_group(cmd, where)
    took = time.perf_counter() - started
    shutil.rmtree(where, ignore_errors=True)
    if proc.returncode != 0 or not out.exists():
        raise SystemExit(f"profiled diagnose run failed: {proc.stderr.strip()[-300:]}")
    return {"tool": "py-spy", "path": str(out), "wall_s": took, "rate": profile["rate"],
            **pyspy_summary(out, profile["rate"])}


#: Stages of a live run, by a function on the run thread's stack (the first one found, outer
#: frames first, names the stage): how the profile summary splits the run's own time.
STAGES = (
    ("start-up: imports", "<module>"),
    ("connect and resolve the targets", "open_sessions"),
    ("wait for the check registry", "Warmup.registry"),
    ("wait for collection", "Queue.get"),
    ("redact a target", "Redactor.files"),
    ("analyse a target", "analyse_container"),
    ("compress a target into the bundle", "Pipeline.write"),
    ("run-scope checks", "LiveRun.finish"),
    ("report: scrub", "TextRedactor.scrub"),
    ("report: findings.json", "summary.json.j2"),
    ("report: summary.md", "summary.md.j2"),
    ("report: summary.html", "summary.html.j2"),
    ("bundle: manifest", "manifest.py"),
    ("bundle: head, rescan, rename", "BundleWriter.finish"),
    ("report on stdout", "Output.emit"),
)


def stage_of(frames: list[str]) -> str:
    """The stage a sample of the run's thread is in (see STAGES)."""
    for name, marker in STAGES:
        if any(marker in frame for frame in frames):
            return name
    return "other"


def pyspy_summary(path: Path, rate: int, limit: int = 20) -> dict[str, Any]:
    """Where the time went, from py-spy's collapsed stacks ("thread (tid): name;frame;...
    samples", idle threads included): the run's own wall seconds (the main thread until it
    hands the command to its `diagnose-run` thread, then that thread) by the innermost frame
    of diagnose's own code (and the function it was in when sampled), and the seconds each
    group of threads (named alike but for a trailing number) was alive."""
    main: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames, samples = stack.split(";"), int(count)
        group = frames[0].partition(": ")[2].rstrip("0123456789").rstrip("_-") or "(unnamed)"
        if len(frames) > 1 and frames[1].startswith("<module>"):
            group = "MainThread"
        own = [frame for frame in frames if own_code(frame.rpartition("(")[2])]
        # The main thread waiting for the run's thread is that thread's time, counted there.
        waiting = group == "MainThread" and bool(own) and "interrupts.py" in own[-1]
        if group in ("MainThread", "diagnose-run") and not waiting:
            where = own[-1] if own else "(outside diagnose's code)"
            leaf = frames[-1].partition(" (")[0]
            main[f"{where} > {leaf}" if own and own[-1] != frames[-1] else where] += samples
            stages[stage_of(frames[1:])] += samples
        threads[group] += samples
    return {"main_thread_s": [(k, v / rate) for k, v in main.most_common(limit)],
            "stages_s": [(k, v / rate) for k, v in stages.most_common()],
            "threads_s": [(k, v / rate) for k, v in threads.most_common()]}


def machine() -> dict[str, Any]:
    """What the figures were measured on: CPUs, kernel, engine, Python, diagnose, commit."""
    model = next((line.partition(":")[2].strip()
                  for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    version = json.loads(sh("docker", "version", "--format", "{{json .}}"))
    python = str(Path(DIAGNOSE[0]).with_name("python"))
    py_version, sdk = sh(python, "-c", "import platform, docker; "
                         "print(platform.python_version(), docker.__version__)").split()
    commit = sh("git", "-C", str(ROOT), "describe", "--always", "--dirty", check=False).strip()
    with open("/proc/meminfo") as meminfo:
        mem_kib = int(meminfo.readline().split()[1])
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": model, "arch": platform.machine(), "kernel": platform.release(),
        "memory_gib": round(mem_kib / 2**20, 1),
        "engine": version["Server"]["Version"], "engine_api": version["Server"]["ApiVersion"],
        "docker_cli": version["Client"]["Version"], "python": py_version, "docker_sdk": sdk,
        "diagnose": sh(*DIAGNOSE, "--version").strip(), "commit": commit,
        "load_average_at_start": os.getloadavg(),
    }


def bench_huge(work: Path) -> list[dict[str, Any]]:
    """One container with a 1 GB log: default caps and --tail all."""
    label = uuid.uuid4().hex[:10]
    name = f"bench-{label[:6]}-huge"
    try:
        sh("docker", "run", "-d", "--label", f"{LABEL}={label}", "--name", name, IMAGE,
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


def median_ms(argv: list[str], runs: int = 21) -> float:
    """Median wall time of a command, in milliseconds."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, capture_output=True, check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bench_version() -> float:
    """Median wall time of `diagnose --version`, in milliseconds."""
    return median_ms([*DIAGNOSE, "--version"])


def bench_sdk_import() -> float:
    """Median wall time, in milliseconds, of starting diagnose's Python and importing the
    docker SDK: what any run that asks an engine pays before its first call (the floor of
    the one-container case, next to the engine floor)."""
    return median_ms([str(Path(DIAGNOSE[0]).with_name("python")), "-c", "import docker"])


def bench_card_import() -> float:
    """Median wall time, in milliseconds, of starting diagnose's Python and importing the
    libraries the product card makes every diagnose use (the docker SDK, typer, jinja2,
    psutil and tabulate): what a one-container run of any tool built to that card pays
    before its first engine call, beyond the bare SDK."""
    return median_ms([str(Path(DIAGNOSE[0]).with_name("python")), "-c",
                      "import docker, typer, jinja2, psutil, tabulate"])


def goal_limit_s(n: int, import_s: float, floor: float) -> float:
    """The most a run over `n` containers may take under the speed goals (issue 18): 1.5x
    of (Python + `import docker`) + the engine floor for one container, 1.3x of the engine
    floor for more."""
    return 1.5 * (import_s + floor) if n == 1 else 1.3 * floor


def add_ratios(run: dict[str, Any], import_s: float, card_s: float, cpus: int,
               machine_cpus: int | None = None) -> None:
    """Every ratio against diagnose (and the floors') into one N's result.

    `machine_bound_s`: the same from every CPU second the machine was busy during the run
    (the containers' shims and the kernel's workers too; :data:`LAST_BUSY`):
    `machine_bound_over_floor` is the least diagnose / floor this machine allows for the CPU
    that diagnosing cost it, when the floor itself leaves no CPU idle.

    `room_under_goal_s`: what the goal (:func:`goal_limit_s`) leaves for redacting, analysing
    and reporting once the card floor is paid (negative: the floor alone misses the goal);
    `diagnose_over_card_floor_s` is what diagnose spends on them.

    `cpu_bound_s`: the least wall time diagnose's run could take on `cpus` CPUs given the CPU
    it and the engine used (their sum spread over every CPU; the engine's threads use them
    all, so its own CPU is no bound): diagnose / cpu_bound near 1 says the run is CPU-bound
    on this machine.  `floor_cpu_bound_s` is the same for the floor (its client's CPU and
    the engine's), and diagnose's CPU over the floor client's is what diagnosing costs on
    top of receiving the answers."""
    diag, floor = run["diagnose_s"], run["engine_floor_s"]
    engine, own = run["engine_cpu_diagnose_s"], run["diagnose_cpu_s"]
    bound = (engine + own) / max(1, cpus)
    floor_engine, floor_client = run["engine_cpu_floor_s"], run["floor_cpu_s"]
    run.update(manual_over_diagnose=run["manual_s"] / diag,
               parallel_over_diagnose=run["parallel_s"] / diag,
               diagnose_over_floor=diag / floor,
               diagnose_over_import_and_floor=diag / (import_s + floor),
               diagnose_over_card_import_and_floor=diag / (card_s + floor),
               cpu_bound_s=bound, diagnose_over_cpu_bound=diag / bound if bound else 0.0,
               floor_cpu_bound_s=(floor_engine + floor_client) / max(1, cpus),
               diagnose_cpu_over_floor_cpu=own / floor_client if floor_client else 0.0,
               manual_over_floor=run["manual_s"] / floor,
               parallel_over_floor=run["parallel_s"] / floor)
    if "card_floor_s" in run:  # nor a card floor
        card = run["card_floor_s"]
        limit = goal_limit_s(run["n"], import_s, floor)
        run.update(card_floor_over_floor=card / floor, diagnose_over_card_floor=diag / card,
                   goal_limit_s=limit, room_under_goal_s=limit - card,
                   diagnose_over_card_floor_s=diag - card)
    if "machine_cpu_diagnose_s" in run:  # JSON of an older benchmark has no machine figures
        every = max(1, machine_cpus or cpus)  # /proc/stat counts every CPU of the machine
        machine = run["machine_cpu_diagnose_s"] / every
        run.update(machine_bound_s=machine,
                   floor_machine_bound_s=run["machine_cpu_floor_s"] / every,
                   diagnose_over_machine_bound=diag / machine if machine else 0.0,
                   machine_bound_over_floor=machine / floor)


def report(results: dict[str, Any]) -> None:
    """Print the results as tables."""
    from tabulate import tabulate

    m = results["machine"]
    print(f"machine: {m['cpus']} CPUs ({m['cpus_usable']} usable, {m['cpu_model']}), "
          f"{m['memory_gib']} GiB, kernel {m['kernel']}, engine {m['engine']}, Python "
          f"{m['python']}, {m['diagnose']} ({m['commit']}), {m['date']}")
    print("load average at start / end: " + " / ".join(
        ", ".join(f"{x:.2f}" for x in m[k]) for k in ("load_average_at_start",
                                                       "load_average_at_end")))
    print(f"diagnose --version: {results['version_ms_median']:.0f} ms median")
    print(f"python + import docker (floor of any engine run): "
          f"{results['sdk_import_ms_median']:.0f} ms median; + typer, jinja2, psutil, "
          f"tabulate (the product card's): {results['card_import_ms_median']:.0f} ms median")
    rows = [[r["n"], r["repeat"], f"{r['manual_s']:.2f}", f"{r['parallel_s']:.2f}",
             f"{r['engine_floor_s']:.2f}", f"{r['diagnose_s']:.2f}",
             f"{r['manual_over_diagnose']:.2f}x", f"{r['parallel_over_diagnose']:.2f}x",
             f"{r['diagnose_over_floor']:.2f}x", f"{r['diagnose_over_import_and_floor']:.2f}x",
             f"{r['rss_mib']:.0f} MiB"]
            for r in results["runs"]]
    parallel = results["runs"][0]["parallel"] if results["runs"] else 8
    print(tabulate(rows, ["N", "runs", "manual s", f"xargs -P {parallel} s", "floor s",
                          "diagnose s", "manual/diag", "parallel/diag", "diag/floor",
                          "diag/(import+floor)", "peak RSS"], colalign=("right",) * 11,
                   disable_numparse=True))
    print("\nwhere diagnose's time goes: its CPU and the engine's (dockerd, containerd) "
          "during its run, the floor's client and the engine during the floor; CPU bound = "
          f"the least wall time that CPU allows on {m['cpus_usable']} CPUs")
    print(tabulate([[r["n"], f"{r['diagnose_cpu_s']:.2f}", f"{r['engine_cpu_diagnose_s']:.2f}",
                     f"{r['floor_cpu_s']:.2f}", f"{r['engine_cpu_floor_s']:.2f}",
                     f"{r['floor_cpu_bound_s']:.2f}", f"{r['cpu_bound_s']:.2f}",
                     f"{r['diagnose_over_cpu_bound']:.2f}x",
                     f"{r['diagnose_over_card_import_and_floor']:.2f}x",
                     f"{r['stats_back_to_back_s']:.2f}" if "stats_back_to_back_s" in r else "-"]
                    for r in results["runs"]],
                   ["N", "diagnose CPU s", "engine CPU s", "floor's client CPU s",
                    "engine CPU (floor) s", "floor's CPU bound s", "CPU bound s",
                    "diag/CPU bound", "diag/(card import+floor)", "stats after stats s"],
                   colalign=("right",) * 10, disable_numparse=True))
    machine = [r for r in results["runs"] if "machine_bound_s" in r]
    if machine:
        print("\nthe whole machine: CPU seconds it was busy (diagnose or the floor's client, the "
              "engine, the containers' shims, the kernel) during the floor and diagnose's run, "
              f"over its {m['cpus']} CPUs: the least wall time that CPU allows")
        print(tabulate([[r["n"], f"{r['machine_cpu_floor_s']:.2f}", f"{r['idle_floor']:.0%}",
                         f"{r['floor_machine_bound_s']:.2f}",
                         f"{r['machine_cpu_diagnose_s']:.2f}", f"{r['idle_diagnose']:.0%}",
                         f"{r['machine_bound_s']:.2f}", f"{r['diagnose_over_machine_bound']:.2f}x",
                         f"{r['machine_bound_over_floor']:.2f}x"] for r in machine],
                       ["N", "busy CPU s (floor)", "idle (floor)", "bound s (floor)",
                        "busy CPU s (diagnose)", "idle (diagnose)", "bound s (diagnose)",
                        "diag/its bound", "its bound/floor"],
                       colalign=("right",) * 9, disable_numparse=True))
    card = [r for r in results["runs"] if "card_floor_s" in r]
    if card:
        print("\nthe card floor: a fresh process that imports the product card's libraries, asks "
              "the engine what a bundle holds (the floor's calls, version, info, stats) and "
              "deflates the answers, nothing else; the goal's limit (1.5x import+floor at N=1, "
              "1.3x floor above) less it is the room left for redacting, analysing, reporting")
        print(tabulate([[r["n"], f"{r['card_floor_s']:.2f}", f"{r['card_floor_over_floor']:.2f}x",
                         f"{r['card_floor_cpu_s']:.2f}", f"{r['idle_card_floor']:.0%}",
                         f"{r['goal_limit_s']:.2f}", f"{r['room_under_goal_s']:.2f}",
                         f"{r['diagnose_over_card_floor_s']:.2f}",
                         f"{r['diagnose_over_card_floor']:.2f}x"] for r in card],
                       ["N", "card floor s", "card/floor", "its CPU s", "idle", "goal s",
                        "room s", "diagnose - card floor s", "diag/card floor"],
                       colalign=("right",) * 9, disable_numparse=True))
    huge = [[r["case"], f"{r['log_bytes'] / 2**30:.2f} GiB", f"{r['manual_s']:.2f}",
             f"{r['diagnose_s']:.2f}", f"{r['ratio']:.1f}x", f"{r['rss_mib']:.0f} MiB"]
            for r in results.get("huge", [])]
    if huge:
        print()
        print(tabulate(huge, ["case", "log", "manual s", "diagnose s", "manual/diagnose",
                              "peak RSS"]))
    for r in results["runs"]:
        if "profile" in r:
            p = r["profile"]
            print(f"\nprofile of one more run at N={r['n']} ({p['tool']}, {p['wall_s']:.2f} s "
                  f"under the profiler): {p['path']}")
            print("seconds each thread group was alive (idle too): " + ", ".join(
                f"{group} {s:.2f}" for group, s in p["threads_s"]))
            print("the run's thread by stage: " + ", ".join(
                f"{stage} {s:.2f}" for stage, s in p["stages_s"]))
            print(tabulate([[f"{s:.2f}", frame] for frame, s in p["main_thread_s"][:12]],
                           ["run's thread s", "innermost frame of diagnose > function sampled"],
                           colalign=("right", "left"), disable_numparse=True))


def arguments() -> argparse.Namespace:
    """The command line."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--n", default="1,50,200", help="comma-separated container counts")
    ap.add_argument("--log-lines", type=int, default=2000)
    ap.add_argument("--huge", action="store_true", help="add the 1 GB log case")
    ap.add_argument("--repeat", type=int, default=0,
                    help="runs per N, medians reported (default: 7 for N <= 10, else 1)")
    ap.add_argument("--parallel", type=int, default=8, metavar="P",
                    help="containers at a time in the parallel manual procedure (xargs -P)")
    ap.add_argument("--json", metavar="PATH",
                    help="also write the results and the machine as JSON to PATH (- : print "
                         "the JSON instead of the tables)")
    ap.add_argument("--profile", type=int, metavar="N",
                    help="one more, untimed, diagnose run at this N (one of --n) under py-spy "
                         "(pip-installed when first asked), written next to the JSON (or here)")
    ap.add_argument("--profile-rate", type=int, default=250, help="py-spy samples a second")
    ap.add_argument("--editable", action="store_true",
                    help="time the project's .venv (editable install) instead of a wheel")
    args = ap.parse_args()
    args.counts = [int(n) for n in args.n.split(",")]
    if args.json not in (None, "-") and not Path(args.json).resolve().parent.is_dir():
        ap.error(f"--json {args.json}: no such directory")
    if args.profile is not None and args.profile not in args.counts:
        ap.error(f"--profile {args.profile}: not one of --n {args.n}")
    return args


def run_all(args: argparse.Namespace) -> dict[str, Any]:
    """Every benchmark the command line asked for, in one invocation."""
    if not args.editable:
        DIAGNOSE[:] = installed_diagnose()
    profile: dict[str, Any] | None = None
    if args.profile is not None:
        to_file = args.json not in (None, "-")
        profile = {"rate": args.profile_rate, "exe": py_spy(),
                   "dir": Path(args.json).resolve().parent if to_file else Path.cwd(),
                   "stem": Path(args.json).stem if to_file else "bench"}
    settings = {k: v for k, v in vars(args).items() if k != "counts"}
    results: dict[str, Any] = {"machine": machine(), "settings": settings}
    with tempfile.TemporaryDirectory(prefix="diagnose-bench-") as tmp:
        work = Path(tmp)
        results["version_ms_median"] = bench_version()
        results["sdk_import_ms_median"] = bench_sdk_import()
        results["card_import_ms_median"] = bench_card_import()
        results["runs"] = [
            bench_n(n, args.log_lines, work, args.repeat or (7 if n <= 10 else 1),
                    args.parallel, profile if n == args.profile else None)
            for n in args.counts]
        for run in results["runs"]:
            add_ratios(run, results["sdk_import_ms_median"] / 1000,
                       results["card_import_ms_median"] / 1000,
                       results["machine"]["cpus_usable"], results["machine"]["cpus"])
        if args.huge:
            results["huge"] = bench_huge(work)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    return results


def main() -> None:
    """Run the selected benchmarks, print the tables, write the JSON if asked."""
    args = arguments()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, terminated)
    try:
        results = run_all(args)
    except KeyboardInterrupt as exc:
        print(f"bench: interrupted{f' by {exc}' if str(exc) else ''}; its containers were "
              "removed", file=sys.stderr)
        raise SystemExit(128 + (signal.Signals[str(exc)] if str(exc) else signal.SIGINT)) \
            from None
    if args.json == "-":
        print(json.dumps(results, indent=2))
        return
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    report(results)


if __name__ == "__main__":
    main()
