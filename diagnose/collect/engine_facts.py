"""Engine-wide facts: `docker version`, `docker info` (with its Warnings), `docker system df`."""

from __future__ import annotations

from typing import Any

import docker

from diagnose.collect.record import Piece, dump_json
from diagnose.evidence import layout


def collect_version(api: Any) -> tuple[dict[str, Any], Piece]:
    """Server version document, plus the API version this client negotiated and the newest
    one it speaks (what `engine-api-skew` compares)."""
    version = dict(api.version())
    version["NegotiatedAPIVersion"] = getattr(api, "api_version", None)
    version["ClientMaxAPIVersion"] = docker.constants.DEFAULT_DOCKER_API_VERSION
    version["ClientSDK"] = f"docker-py {docker.__version__}"
    return version, Piece({layout.ENGINE_VERSION: dump_json(version)})


def collect_info(api: Any) -> tuple[dict[str, Any], Piece]:
    """`docker info`."""
    info = api.info()
    return info, Piece({layout.ENGINE_INFO: dump_json(info)},
                       detail={"warnings": len(info.get("Warnings") or [])})


def collect_df(api: Any) -> Piece:
    """`docker system df` (images, containers, volumes, build cache)."""
    df = api.df()
    return Piece({layout.ENGINE_DF: dump_json(df)})
