"""Build a container's evidence from canned log lines, for unit tests of the log checks.

Only the shapes the real collectors produce: `docker inspect` fields, `docker logs
--timestamps` lines per stream, and engine events.  Times are synthetic and increasing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from tests.support.evidence import make_container, make_engine

T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def stamp(seconds: float) -> str:
    """RFC 3339 with nanoseconds, like `docker logs --timestamps`."""
    t = T0 + timedelta(seconds=seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in extra.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = v
    return out


def container(
    lines: Iterable[str | tuple[str, str]] = (),
    *,
    status: str = "running",
    exit_code: int = 0,
    inspect: Mapping[str, Any] | None = None,
    runs: Iterable[Iterable[str | tuple[str, str]]] | None = None,
    networks: Mapping[str, Any] | None = None,
    top: Mapping[str, Any] | None = None,
    engine_info: Mapping[str, Any] | None = None,
    truncated: bool = False,
) -> ContainerEvidence:
    """A container whose logs are `lines` (stderr unless given as ("stdout", text)).

    With `runs`, each run's lines are logged between a `start` and a `die` event (the last run
    has no `die` while the container is running), like a restart loop.
    """
    all_runs = [list(r) for r in runs] if runs is not None else [list(lines)]
    out: dict[str, list[str]] = {"stdout": [], "stderr": []}
    events: list[dict[str, Any]] = [{"Action": "create", "timeNano": _nano(0)}]
    t = 1.0
    for i, run in enumerate(all_runs):
        events.append({"Action": "start", "timeNano": _nano(t)})
        t += 0.01
        for item in run:
            stream, text = item if isinstance(item, tuple) else ("stderr", item)
            out[stream].append(f"{stamp(t)} {text}")
            t += 0.01
        last = i == len(all_runs) - 1
        if not last or status in ("exited", "restarting"):
            code = exit_code if last else (exit_code or 1)
            events.append({"Action": "die", "timeNano": _nano(t),
                           "Actor": {"Attributes": {"exitCode": str(code)}}})
        t += 1.0
    running = status in ("running", "paused")
    doc: dict[str, Any] = {
        "Id": "c0ffee" * 10 + "abcd",
        "Name": "/web",
        "RestartCount": len(all_runs) - 1,
        "State": {"Status": status, "Running": running, "Paused": status == "paused",
                  "ExitCode": exit_code, "Error": "", "OOMKilled": False,
                  "StartedAt": stamp(t - 1.0 - 0.01 * (len(all_runs[-1]) + 1)),
                  "FinishedAt": stamp(t - 0.5) if not running else "0001-01-01T00:00:00Z"},
        "Config": {"Image": "example/app:1", "User": "", "Env": ["PATH=/usr/bin:/bin"],
                   "Entrypoint": None, "Cmd": ["/app"]},
        "HostConfig": {"NetworkMode": "default", "ReadonlyRootfs": False, "Tmpfs": None,
                       "ShmSize": 67108864, "PortBindings": {}, "Ulimits": None,
                       "PidsLimit": None},
        "Mounts": [],
        "NetworkSettings": {"Networks": {"bridge": {"NetworkID": "n1"}}},
    }
    doc = _deep_merge(doc, inspect or {})
    files = {
        layout.LOG_STDOUT: "".join(ln + "\n" for ln in out["stdout"]),
        layout.LOG_STDERR: "".join(ln + "\n" for ln in out["stderr"]),
        layout.EVENTS: events,
        layout.NETWORKS: networks or {},
        layout.TOP: top or {},
    }
    return make_container("web", inspect=doc, files=files,
                          collected=("inspect", "logs", "events", "networks", "top"),
                          truncated=("logs",) if truncated else (),
                          engine=make_engine(engine_info or {}))


def _nano(seconds: float) -> int:
    return int((T0 + timedelta(seconds=seconds)).timestamp() * 1e9)
