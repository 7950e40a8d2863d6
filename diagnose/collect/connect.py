"""Reach the engine the way the docker CLI does, through the docker SDK.

Precedence (docker/cli): `--host`, then `--context`, then DOCKER_HOST (with DOCKER_TLS_VERIFY
and DOCKER_CERT_PATH), then DOCKER_CONTEXT, then `currentContext` in ~/.docker/config.json
(DOCKER_CONFIG honoured), then the default local socket.  The API version is negotiated.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import docker
from docker.context import ContextAPI
from docker.errors import ContextNotFound, DockerException

from diagnose.errors import EngineError, UsageError

DEFAULT_HOST = "unix:///var/run/docker.sock"


@dataclass(frozen=True)
class Endpoint:
    """Where the engine is and how we found out."""

    host: str
    source: str
    tls: Any = None

    @property
    def local(self) -> bool:
        """True for a unix socket: the engine shares this host (processes, paths, disks)."""
        return self.host.startswith("unix://") or self.host.startswith("/")


def resolve_endpoint(
    host: str | None = None, context: str | None = None, environ: Mapping[str, str] | None = None
) -> Endpoint:
    """Pick the engine endpoint exactly as the docker CLI would."""
    env = os.environ if environ is None else environ
    if host and context:
        raise UsageError("--host and --context are mutually exclusive", "give only one")
    if host:
        return Endpoint(host, "--host")
    if context:
        return _from_context(context, f"--context {context}")
    if env.get("DOCKER_HOST"):
        kwargs = docker.utils.kwargs_from_env(environment=dict(env))
        base = kwargs.get("base_url", env["DOCKER_HOST"])
        return Endpoint(base, "DOCKER_HOST", kwargs.get("tls"))
    if env.get("DOCKER_CONTEXT"):
        name = env["DOCKER_CONTEXT"]
        return _from_context(name, f"DOCKER_CONTEXT={name}")
    try:
        current = ContextAPI.get_current_context()
    except DockerException as exc:
        raise UsageError(f"cannot read the current docker context: {exc}") from exc
    if current is not None and current.Name != "default" and current.Host:
        return Endpoint(current.Host, f"context {current.Name} (docker config)", current.TLSConfig)
    return Endpoint(DEFAULT_HOST, "default")


def _from_context(name: str, source: str) -> Endpoint:
    try:
        ctx = ContextAPI.get_context(name)
    except (ContextNotFound, DockerException) as exc:
        raise UsageError(f"docker context {name!r} not found: {exc}",
                         "see `docker context ls`") from exc
    if ctx is None or not ctx.Host:
        raise UsageError(f"docker context {name!r} not found or has no docker endpoint",
                         "see `docker context ls`")
    return Endpoint(ctx.Host if name != "default" else DEFAULT_HOST, source, ctx.TLSConfig)


def connect(endpoint: Endpoint, timeout: float, pool_size: int = 16) -> docker.DockerClient:
    """A client with a negotiated API version; engine trouble becomes EngineError (exit 3)."""
    try:
        client = docker.DockerClient(
            base_url=endpoint.host,
            version="auto",
            timeout=max(1, round(timeout)),
            tls=endpoint.tls or False,
            max_pool_size=pool_size,
        )
    except DockerException as exc:
        raise engine_error(endpoint, exc) from exc
    return client


def engine_error(endpoint: Endpoint, exc: BaseException) -> EngineError:
    """Turn a low-level failure into a one-line message that says what to do."""
    text = str(exc)
    cause = _root_cause(exc)
    where = f"{endpoint.host} (from {endpoint.source})"
    if isinstance(cause, PermissionError) or "Permission denied" in text:
        return EngineError(
            f"permission denied on the Docker engine socket {where}",
            "run as root, or add your user to the docker group (then log in again)",
        )
    if isinstance(cause, FileNotFoundError) or (
        isinstance(cause, OSError) and cause.errno in (errno.ENOENT, errno.ECONNREFUSED)
    ) or "No such file or directory" in text or "Connection refused" in text:
        return EngineError(
            f"no Docker engine answers at {where}",
            "start dockerd (scripts/engine.sh does it here), or point --host/--context at one",
        )
    if "timed out" in text.lower() or "timeout" in text.lower():
        return EngineError(f"the Docker engine at {where} did not answer in time",
                           "the engine may be hung; raise --timeout or check dockerd")
    return EngineError(f"cannot talk to the Docker engine at {where}: {text}",
                       "check that dockerd is running and reachable")


def _root_cause(exc: BaseException) -> BaseException:
    seen = set()
    cur: BaseException | None = exc
    last = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        last = cur
        for arg in getattr(cur, "args", ()):
            if isinstance(arg, BaseException):
                inner = _root_cause(arg)
                if isinstance(inner, OSError):
                    return inner
        cur = cur.__cause__ or cur.__context__
    return last
