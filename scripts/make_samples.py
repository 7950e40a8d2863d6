"""Make the sample bundles in samples/ and their committed renderings.

    scripts/make-samples.sh            # break real containers, diagnose them, store the bundles,
                                       # then render each as .txt, .json, .md and .html
    scripts/make-samples.sh --render   # only re-render from the committed bundles (offline)
    scripts/make-samples.sh --no-service   # as the first, but keep the committed Swarm
                                       # sample (no `docker swarm init` on a shared engine)
    scripts/make-samples.sh --only web-pair   # collect one sample again, keep the others

`diagnose diff` has samples too: samples/diff-web.* compares the two containers of
samples/web-pair.tar.gz (a web app, and the same app without its DATABASE_URL), exactly as
`diagnose diff samples/web-pair.tar.gz:sample-web-ok samples/web-pair.tar.gz:sample-web-broken`
prints it.

Bundles keep STABLE names (samples/oom-killed.tar.gz, ...).  Each rendering is exactly what
`diagnose analyze samples/NAME.tar.gz --format F --no-color --no-plugins` prints, run from the
repository root, so it is reproducible offline and byte for byte: the report document holds no
value that changes from one analysis of the same bundle to the next (see
diagnose/render/document.py).  tests/unit/test_samples.py fails when a committed rendering
differs from what the code renders now; after changing checks or renderers, run
`scripts/make-samples.sh --render` and commit the result.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
IMAGE = "diagnose-test/busybox:latest"
LABEL = "diagnose.samples=1"
PREFIX = "sample-"

#: Rendered file extension of each --format.
FORMATS = {"text": "txt", "json": "json", "markdown": "md", "html": "html"}

#: The command that regenerates renderings (quoted by the drift test's failure message).
RENDER_COMMAND = "scripts/make-samples.sh --render"

# An app that crashes the way a Python program does, from a plain sh script (the test image has
# no Python).  Its last line quotes odd input on purpose: HTML, a pipe, backticks and emphasis
# must come out inert and intact in every format.
CRASH_IMAGE = "diagnose-samples/app-crash:1"
CRASH_SCRIPT = r"""#!/bin/sh
echo 'worker 1.4.2 starting (pid 1)'
echo 'connecting to queue amqp://queue:5672/'
sleep 0.2
{
echo 'Traceback (most recent call last):'
echo '  File "/app/worker.py", line 41, in <module>'
echo '    main()'
echo '  File "/app/worker.py", line 37, in main'
echo '    handle(parse_header(raw))'
echo '  File "/app/proto.py", line 12, in parse_header'
echo '    raise ValueError(f"bad header: {raw!r}")'
echo "ValueError: bad header: '<script>alert(1)</script> | \`id\` | **x**'"
} >&2
exit 1
"""


def docker(*args: str, check: bool = True) -> str:
    """Run the docker CLI; its stdout."""
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False,
                          timeout=120)
    if check and proc.returncode != 0:
        raise SystemExit(f"make-samples: docker {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def inspect(name: str) -> dict[str, object]:
    """`docker inspect` of one container."""
    data = json.loads(docker("inspect", name))[0]
    assert isinstance(data, dict)
    return data


def wait(what: str, predicate: Callable[[], bool], timeout: float = 60) -> None:
    """Poll until `predicate()` holds."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise SystemExit(f"make-samples: timed out waiting for {what}")
        time.sleep(0.2)


def status(name: str) -> str:
    """The container's State.Status."""
    state = inspect(name)["State"]
    assert isinstance(state, dict)
    return str(state["Status"])


def clean() -> None:
    """Remove the containers (by label) and the image this script made."""
    ids = docker("ps", "-aq", "--filter", f"label={LABEL}").split()
    if ids:
        docker("rm", "-f", *ids, check=False)
    docker("rmi", "-f", CRASH_IMAGE, check=False)


def break_containers() -> dict[str, list[str]]:
    """Create the broken containers; sample name -> container names it diagnoses."""
    run = ["run", "-d", "--label", LABEL, "--name"]
    docker(*run, f"{PREFIX}oom-killed", "--memory", "32m", IMAGE,
           "sh", "-c", "echo 'loading cache'; x=a; while true; do x=$x$x; done")
    docker("create", "--label", LABEL, "--name", f"{PREFIX}created-not-started", IMAGE,
           "echo", "never started")
    with tempfile.TemporaryDirectory() as ctx:
        (Path(ctx) / "worker.sh").write_text(CRASH_SCRIPT)
        (Path(ctx) / "worker.sh").chmod(0o755)
        (Path(ctx) / "Dockerfile").write_text(
            f"FROM {IMAGE}\nCOPY worker.sh /app/worker.sh\nCMD [\"/app/worker.sh\"]\n")
        docker("build", "-q", "--force-rm", "--label", LABEL, "-t", CRASH_IMAGE, ctx)
    docker(*run, f"{PREFIX}app-crash", CRASH_IMAGE)
    docker(*run, f"{PREFIX}restart-loop", "--restart", "always", IMAGE, "sh", "-c",
           "echo 'reading /etc/app/app.conf'; "
           "echo 'fatal: open /etc/app/app.conf: no such file or directory' >&2; exit 2")
    docker(*run, f"{PREFIX}healthy", IMAGE, "sh", "-c", "echo ready; exec sleep 100000")
    # The `diagnose diff` sample: one app, run twice; the second lost its DATABASE_URL.
    docker(*run, f"{PREFIX}web-ok", "-e", f"DATABASE_URL={WEB_URL}", "-e", "LOG_LEVEL=info",
           IMAGE, "sh", "-c", WEB_SCRIPT)
    docker(*run, f"{PREFIX}web-broken", "-e", "LOG_LEVEL=debug", IMAGE, "sh", "-c", WEB_SCRIPT)
    wait("the OOM kill", lambda: status(f"{PREFIX}oom-killed") == "exited")
    wait("the crash", lambda: status(f"{PREFIX}app-crash") == "exited")
    wait("three restarts", lambda: int(str(inspect(f"{PREFIX}restart-loop")["RestartCount"]))
         >= 3)
    wait("the web app without its database URL",
         lambda: status(f"{PREFIX}web-broken") == "exited")
    wait("the web app to listen", lambda: "listening" in docker("logs", f"{PREFIX}web-ok"))
    singles = ["oom-killed", "created-not-started", "app-crash", "restart-loop"]
    samples = {name: [f"{PREFIX}{name}"] for name in singles}
    samples["several-targets"] = [f"{PREFIX}{n}" for n in (*singles, "healthy")]
    samples["web-pair"] = [f"{PREFIX}web-ok", f"{PREFIX}web-broken"]
    return samples


# The diff sample's app: it needs DATABASE_URL (whose password the bundle redacts; diff says
# the values differ without showing them).
WEB_URL = "postgres://app:Sample-Db-Pw-3141@db:5432/app"
WEB_SCRIPT = ("echo 'web 2.3.0 starting'; "
              "if [ -z \"$DATABASE_URL\" ]; then "
              "echo 'fatal: DATABASE_URL is not set' >&2; exit 1; fi; "
              "echo 'listening on :8080'; exec sleep 100000")

#: `diagnose diff` renderings: samples/NAME.<ext> compares two containers of a sample bundle.
DIFFS = {"diff-web": ("web-pair", f"{PREFIX}web-ok", f"{PREFIX}web-broken")}


SERVICE = f"{PREFIX}crashing-service"


def swarm_sample(joined: list[bool]) -> dict[str, list[str]]:
    """A single-node swarm (only when the engine is in none) with a service whose tasks keep
    crashing: the `diagnose service` sample.  `joined` records that the swarm is ours, for
    clean_swarm()."""
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").strip()
    if state != "inactive":
        print(f"make-samples: engine is in a swarm ({state}); no service sample",
              file=sys.stderr)
        return {}
    docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    joined.append(True)
    docker("service", "create", "--detach", "--name", SERVICE, "--label", LABEL,
           "--network", "host", "--replicas", "2", "--restart-max-attempts", "2", IMAGE,
           "sh", "-c", "echo 'migrating schema v41 -> v42'; "
           "echo 'error: relation \"orders\" does not exist' >&2; exit 3")

    def failed_tasks() -> int:
        out = docker("service", "ps", "--format", "{{.CurrentState}}", SERVICE, check=False)
        return sum(1 for line in out.splitlines() if line.startswith(("Failed", "Shutdown")))

    wait("failed tasks of the service", lambda: failed_tasks() >= 4, timeout=120)
    return {"crashing-service": ["service", SERVICE]}


def clean_swarm(joined: list[bool], had_gwbridge: bool) -> None:
    """Remove the sample service and leave the swarm this script joined (and the gateway
    bridge `swarm init` made, which leaving keeps)."""
    if not joined:
        return
    docker("service", "rm", SERVICE, check=False)
    docker("swarm", "leave", "--force", check=False)
    if not had_gwbridge:
        docker("network", "rm", "docker_gwbridge", check=False)


def collect(samples: dict[str, list[str]]) -> None:
    """Run the real tool on each sample's containers; keep the bundle under a stable name."""
    SAMPLES.mkdir(exist_ok=True)
    for sample, containers in samples.items():
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run(
                [sys.executable, "-m", "diagnose", *containers, "--output", tmp, "--quiet",
                 "--exit-zero", "--no-plugins", "--format", "json"],
                capture_output=True, text=True, check=False, cwd=ROOT, timeout=300,
            )
            bundles = list(Path(tmp).glob("diagnose-*.tar.gz"))
            if proc.returncode != 0 or len(bundles) != 1:
                raise SystemExit(f"make-samples: diagnose failed for {sample}: {proc.stderr}")
            shutil.copyfile(bundles[0], SAMPLES / f"{sample}.tar.gz")
        print(f"make-samples: samples/{sample}.tar.gz", file=sys.stderr)


def _offline(args: list[str], ok: tuple[int, ...] = (0,)) -> str:
    """What `diagnose ARGS` prints, run from the repository root as a reader would (offline,
    no colour, no plugins, not a terminal: 80 columns, whoever renders them)."""
    env = {**os.environ, "NO_COLOR": "1", "DIAGNOSE_NO_PLUGINS": "1", "TERM": "dumb"}
    env.pop("COLUMNS", None)
    proc = subprocess.run([sys.executable, "-m", "diagnose", *args], capture_output=True,
                          check=False, cwd=ROOT, env=env, timeout=120)
    if proc.returncode not in ok:
        raise RuntimeError(f"diagnose {' '.join(args)} failed ({proc.returncode}): "
                           f"{proc.stderr.decode('utf-8', 'replace')}")
    return proc.stdout.decode("utf-8")


def render_one(bundle: Path, fmt: str) -> str:
    """What `diagnose analyze` prints for `bundle` in `fmt` (offline, no colour, no plugins)."""
    rel = bundle.resolve().relative_to(ROOT)
    return _offline(["analyze", str(rel), "--format", fmt, "--no-color", "--no-plugins",
                     "--exit-zero"])


def render_diff(name: str, fmt: str) -> str:
    """What `diagnose diff` prints for the sample diff `name` in `fmt` (offline: both sides
    read from one committed bundle, BUNDLE:NAME)."""
    bundle, a, b = DIFFS[name]
    rel = (SAMPLES / f"{bundle}.tar.gz").relative_to(ROOT)
    # Exit 1: something that matters differs (the point of the sample).
    return _offline(["diff", f"{rel}:{a}", f"{rel}:{b}", "--format", fmt, "--no-color"],
                    ok=(0, 1))


def diff_path(name: str, fmt: str) -> Path:
    """samples/NAME.<ext of fmt> of a sample diff."""
    return SAMPLES / f"{name}.{FORMATS[fmt]}"


def rendering_path(bundle: Path, fmt: str) -> Path:
    """samples/NAME.tar.gz -> samples/NAME.<ext of fmt>."""
    return bundle.with_name(bundle.name.removesuffix(".tar.gz") + "." + FORMATS[fmt])


def bundles() -> list[Path]:
    """The committed sample bundles."""
    return sorted(SAMPLES.glob("*.tar.gz"))


def render_all() -> None:
    """Write every rendering of every sample bundle."""
    jobs = [(b, f) for b in bundles() for f in FORMATS]
    if not jobs:
        raise SystemExit("make-samples: no bundles in samples/; run without --render first")
    with cf.ThreadPoolExecutor(4) as pool:
        texts = list(pool.map(lambda job: render_one(*job), jobs))
    for (bundle, fmt), text in zip(jobs, texts, strict=True):
        rendering_path(bundle, fmt).write_text(text, encoding="utf-8")
    diffs = [(name, f) for name in DIFFS for f in FORMATS]
    for name, fmt in diffs:
        diff_path(name, fmt).write_text(render_diff(name, fmt), encoding="utf-8")
    print(f"make-samples: rendered {len(jobs) + len(diffs)} files in samples/", file=sys.stderr)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render", action="store_true",
                        help="only re-render the committed bundles (offline, no engine)")
    parser.add_argument("--only", action="append", default=[], metavar="SAMPLE",
                        help="collect only this sample's bundle again (repeatable), keep the "
                        "other committed bundles; then render all")
    parser.add_argument("--no-service", action="store_true",
                        help="keep the committed service sample: never join a swarm (an "
                        "engine others use)")
    args = parser.parse_args()
    if not args.render:
        clean()
        had_gwbridge = docker("network", "ls", "-q", "--filter", "name=docker_gwbridge") != ""
        joined: list[bool] = []
        try:
            samples = break_containers()
            try:
                if not args.no_service and not args.only:
                    samples.update(swarm_sample(joined))
            except SystemExit as exc:  # a sample we cannot make is not a reason to stop
                print(f"make-samples: no service sample: {exc}", file=sys.stderr)
            unknown = set(args.only) - set(samples)
            if unknown:
                raise SystemExit(f"make-samples: no sample {', '.join(sorted(unknown))}")
            collect({k: v for k, v in samples.items() if not args.only or k in args.only})
        finally:
            clean()
            clean_swarm(joined, had_gwbridge)
    render_all()


if __name__ == "__main__":
    main()
