"""Reach the engine the way the docker CLI does, through the docker SDK.

Precedence (docker/cli): `--host`, then `--context`, then DOCKER_HOST (with DOCKER_TLS_VERIFY
and DOCKER_CERT_PATH), then DOCKER_CONTEXT, then `currentContext` in ~/.docker/config.json
(DOCKER_CONFIG honoured), then the default local socket.  The API version is negotiated.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.tls
from docker.errors import DockerException
from docker.transport.unixconn import UnixHTTPAdapter

from diagnose.model.errors import EngineError, UsageError

DEFAULT_HOST = "unix:///var/run/docker.sock"
SOCKET_POOL = "http+docker://localhost"  # the one key of the socket's connection pool


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


def config_dir(environ: Mapping[str, str]) -> Path:
    """The docker CLI's configuration directory: $DOCKER_CONFIG, else ~/.docker."""
    return Path(environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def current_context(environ: Mapping[str, str]) -> str:
    """`currentContext` from config.json ('default' when absent or unreadable)."""
    try:
        data = json.loads((config_dir(environ) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "default"
    return str(data.get("currentContext") or "default") if isinstance(data, dict) else "default"


def context_names(environ: Mapping[str, str]) -> list[str]:
    """Every docker context's name (`default` first, then the store's, sorted), as `docker
    context ls` lists them; unreadable entries are left out."""
    names = set()
    for meta in (config_dir(environ) / "contexts" / "meta").glob("*/meta.json"):
        try:
            name = json.loads(meta.read_text(encoding="utf-8")).get("Name")
        except (OSError, ValueError, AttributeError):
            continue
        if isinstance(name, str) and name:
            names.add(name)
    return ["default", *sorted(names - {"default"})]


def load_context(name: str, environ: Mapping[str, str]) -> tuple[str, Any]:
    """(host, TLS config) of a docker context, read from the CLI's context store.

    The store is `<config dir>/contexts/meta/<sha256(name)>/meta.json` plus TLS material under
    `contexts/tls/<same id>/docker/`.  (docker-py's ContextAPI looks for the store next to
    config.json and so misses it when config.json does not exist; the CLI does not.)
    """
    cid = hashlib.sha256(name.encode("utf-8")).hexdigest()
    root = config_dir(environ) / "contexts"
    try:
        meta = json.loads((root / "meta" / cid / "meta.json").read_text(encoding="utf-8"))
    except OSError:
        raise UsageError(f"docker context {name!r} not found",
                         "see `docker context ls`") from None
    except ValueError as exc:
        raise UsageError(f"docker context {name!r} has an unreadable meta.json: {exc}") from exc
    endpoint = ((meta.get("Endpoints") or {}).get("docker") or {})
    host = endpoint.get("Host")
    if not host:
        raise UsageError(f"docker context {name!r} has no docker endpoint",
                         "see `docker context inspect`")
    tls_dir = root / "tls" / cid / "docker"
    tls: Any = None
    if tls_dir.is_dir():
        cert, key, ca = (tls_dir / "cert.pem", tls_dir / "key.pem", tls_dir / "ca.pem")
        tls = docker.tls.TLSConfig(
            client_cert=(str(cert), str(key)) if cert.exists() and key.exists() else None,
            ca_cert=str(ca) if ca.exists() else None,
            verify=not endpoint.get("SkipTLSVerify", False),
        )
    return str(host), tls


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
        return _from_context(context, f"--context {context}", env)
    if env.get("DOCKER_HOST"):
        kwargs = docker.utils.kwargs_from_env(environment=dict(env))
        base = kwargs.get("base_url", env["DOCKER_HOST"])
        return Endpoint(base, "DOCKER_HOST", kwargs.get("tls"))
    if env.get("DOCKER_CONTEXT"):
        name = env["DOCKER_CONTEXT"]
        return _from_context(name, f"DOCKER_CONTEXT={name}", env)
    name = current_context(env)
    if name != "default":
        return _from_context(name, f"context {name} (docker config)", env)
    return Endpoint(DEFAULT_HOST, "default")


def _from_context(name: str, source: str, env: Mapping[str, str]) -> Endpoint:
    if name == "default":
        return Endpoint(env.get("DOCKER_HOST") or DEFAULT_HOST, source)
    host, tls = load_context(name, env)
    return Endpoint(host, source, tls)


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
    # docker-py switches the socket timeout off for streamed responses (logs, archives), made
    # for `follow`, which we never use: keep --timeout on every read, so an engine that stops
    # answering in the middle of a log cannot hang the run.
    client.api._disable_socket_timeout = lambda _sock: None  # type: ignore[method-assign]
    _timeout_every_call(client.api)
    one_pool_per_socket(client.api)
    if not endpoint.host.startswith(("tcp://", "http://", "https://")):
        # HTTP(S)_PROXY and .netrc mean nothing to a local socket or an ssh tunnel, and
        # requests would read the environment again on every call (a third of its cost).
        client.api.trust_env = False
    return client


def one_pool_per_socket(api: Any) -> None:
    """One connection pool for the engine's socket.  docker-py's socket adapter keys its pools
    by the request's whole URL (path and query), so nearly every call of a run (each
    container's inspect, logs, top, diff... is a URL of its own) opened a new connection to
    the engine, and closed the least recently used pool's when the 26th URL came.  The pool
    does not depend on the URL (the socket is its address), so one pool serves them all and
    keeps its connections for the next calls, as requests does for TCP (a pool per host)."""
    adapter = api.adapters.get("http+docker://")
    if isinstance(adapter, UnixHTTPAdapter):
        get = adapter.get_connection
        adapter.get_connection = lambda _url, proxies=None: get(SOCKET_POOL, proxies)


def _timeout_every_call(api: Any) -> None:
    """docker-py asks for no timeout at all on some reads (`events`, for `docker events`
    without --until); ours always have an end, so --timeout applies to them too."""
    get = api._get

    def timed_get(url: str, **kwargs: Any) -> Any:
        if "timeout" in kwargs and kwargs["timeout"] is None:
            kwargs["timeout"] = api.timeout
        return get(url, **kwargs)

    api._get = timed_get


def engine_error(endpoint: Endpoint, exc: BaseException) -> EngineError:
    """Turn a low-level failure into a one-line message that says what to do."""
    text = str(exc)
    cause = _root_cause(exc)
    where = f"{endpoint.host} (from {endpoint.source})"
    if isinstance(cause, PermissionError) or "Permission denied" in text:
        return EngineError(
            f"permission denied on the Docker engine socket {where}",
            "add your user to the docker group (then log in again) or run it with sudo",
        )
    if isinstance(cause, FileNotFoundError) or (
        isinstance(cause, OSError) and cause.errno in (errno.ENOENT, errno.ECONNREFUSED)
    ) or "No such file or directory" in text or "Connection refused" in text:
        return EngineError(
            f"no Docker engine answers at {where}",
            "start dockerd (or Docker Desktop), or point --host/--context at one",
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
