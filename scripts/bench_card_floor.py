"""The card floor: the least any tool built to diagnose's product card needs to put one
bundle's engine evidence into a compressed archive.

`scripts/bench.py` runs this file as a fresh process, as a user runs diagnose, and times it
whole.  It does what every such tool must and nothing more:

- start Python and import the libraries the product card makes every run use (the docker
  SDK, typer, jinja2, psutil, tabulate);
- ask the engine what the bundle holds of it and of each container: version and info; then
  per container inspect, logs (with timestamps, under the tail), image history, past events,
  the filesystem diff, and for a running one top and a one-shot stats sample.  The calls are
  asked concurrently over one pool of reused connections to the engine's socket, as
  diagnose's are;
- deflate every answer into one archive, with the deflate diagnose writes its bundles with.

Nothing is redacted, analysed or rendered.  So diagnose's time over this floor is what
redacting, analysing and reporting cost, and a goal set against the engine floor leaves
diagnose (goal x engine floor) - card floor for all of that.

Usage (what bench.py runs): bench_card_floor.py TAIL CONTAINER...
"""

from __future__ import annotations

import calendar
import concurrent.futures as cf
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

#: One engine call: (path template, its argument, query parameters).
Call = tuple[str, str, dict[str, Any]]


def container_calls(inspects: Iterable[Mapping[str, Any]], tail: int, until: str) -> list[Call]:
    """The manual procedure's calls per container, from its first inspect: inspect again,
    logs, image history, past events, diff, and top if it is running."""
    calls: list[Call] = []
    for ins in inspects:
        cid = ins["Id"]
        created = calendar.timegm(time.strptime(ins["Created"][:19], "%Y-%m-%dT%H:%M:%S"))
        calls += [("/containers/{0}/json", cid, {}),
                  ("/containers/{0}/logs", cid, {"stdout": 1, "stderr": 1, "timestamps": 1,
                                                 "tail": tail}),
                  ("/images/{0}/history", ins["Image"], {}),
                  ("/events", "", {"since": created - 1, "until": until,
                                   "filters": json.dumps({"container": [cid]})}),
                  ("/containers/{0}/changes", cid, {})]
        if ins["State"]["Running"]:
            calls.append(("/containers/{0}/top", cid, {}))
    return calls


def stats_calls(inspects: Iterable[Mapping[str, Any]]) -> list[Call]:
    """A one-shot stats sample of each running container (diagnose's bundle holds it)."""
    return [("/containers/{0}/stats", ins["Id"], {"stream": 0, "one-shot": 1})
            for ins in inspects if ins["State"]["Running"]]


#: Stats requests asked at once, on a pool of their own, all when the collection starts:
#: dockerd answers each at its stats collector's next once-a-second sample, every waiting
#: request at once (diagnose does the same: 8 x its 8 jobs; diagnose/collect/runner.py).
STATS_AT_ONCE = 64


def ask(api: Any, pool: cf.ThreadPoolExecutor, calls: Iterable[Call]) -> Iterator[bytes]:
    """Every call's answer, as bytes, asked on `pool` through the SDK's low-level client."""

    def get(call: Call) -> bytes:
        path, arg, params = call
        url = api._url(path, arg) if arg else api._url(path)
        return bytes(api._get(url, params=params).content)

    return pool.map(get, calls)


def collect(api: Any, names: list[str], tail: int, workers: int, stats: bool,
            keep: Callable[[bytes], object] = len) -> None:
    """Ask the engine for every container's evidence (inspect first, for the ids, then the
    rest at once; with `stats`, every running container's stats sample too, on a pool of its
    own) and hand each answer to `keep`."""
    until = f"{time.time():.9f}"
    with cf.ThreadPoolExecutor(workers) as pool, \
            cf.ThreadPoolExecutor(STATS_AT_ONCE) as stats_pool:
        inspects = list(pool.map(api.inspect_container, names))
        samples = ask(api, stats_pool, stats_calls(inspects) if stats else [])
        for answer in ask(api, pool, container_calls(inspects, tail, until)):
            keep(answer)
        for answer in samples:
            keep(answer)


def main() -> None:
    """Collect and deflate the evidence of the containers named on the command line."""
    import docker
    import jinja2  # noqa: F401  # the product card's libraries: what every run imports
    import psutil  # noqa: F401
    import tabulate  # noqa: F401
    import typer  # noqa: F401

    from diagnose.bundle.writer import deflate_module
    from diagnose.collect.connect import one_pool_per_socket

    tail, names = int(sys.argv[1]), sys.argv[2:]
    workers = 16
    api = docker.from_env(max_pool_size=workers + STATS_AT_ONCE).api
    one_pool_per_socket(api)
    deflate, level = deflate_module()
    packer = deflate.compressobj(level, deflate.DEFLATED, 31)  # a gzip stream
    with tempfile.TemporaryFile() as out, cf.ThreadPoolExecutor(1) as side:
        # The engine's facts are asked meanwhile, as diagnose asks them.
        facts = side.submit(lambda: json.dumps([api.version(), api.info()]).encode())
        collect(api, names, tail, workers, stats=True,
                keep=lambda data: out.write(packer.compress(data)))
        out.write(packer.compress(facts.result()))
        out.write(packer.flush())
    api.close()


if __name__ == "__main__":
    main()
