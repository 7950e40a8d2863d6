"""Resolve what the user named (a name, a full or short ID, or a unique ID prefix) to containers.

The engine resolves exact IDs, names and unique prefixes itself; we only add the explanations
a person needs: close matches for a typo, the candidates of an ambiguous prefix.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from docker.errors import APIError, NotFound

from diagnose.errors import AmbiguousTarget, TargetNotFound

_HEX = re.compile(r"^[0-9a-f]+$")


def _listing(api: Any, **filters: Any) -> list[dict[str, Any]]:
    # The low-level list never inspects each container (the SDK's high-level list does, N+1).
    return list(api.containers(all=True, filters=filters or None))


def _label(c: dict[str, Any]) -> str:
    names = ",".join(n.lstrip("/") for n in c.get("Names") or ())
    return f"{names or '?'} ({str(c.get('Id', ''))[:12]}, {c.get('State', '?')})"


def resolve_one(api: Any, ref: str) -> dict[str, Any]:
    """Inspect one container, or raise TargetNotFound / AmbiguousTarget with guidance."""
    ref = ref.strip()
    if not ref:
        raise TargetNotFound("an empty container name was given", "name a container")
    try:
        return dict(api.inspect_container(ref))
    except NotFound:
        pass
    except APIError as exc:
        if "multiple" not in str(exc.explanation or exc).lower():
            raise
    if _HEX.match(ref):
        matches = [c for c in _listing(api) if str(c.get("Id", "")).startswith(ref)]
        if len(matches) > 1:
            shown = "; ".join(_label(c) for c in matches[:10])
            raise AmbiguousTarget(
                f"container ID prefix {ref!r} is ambiguous: it matches {len(matches)} containers: "
                f"{shown}",
                "give more characters of the ID, or the name",
            )
        if len(matches) == 1:
            return dict(api.inspect_container(matches[0]["Id"]))
    names = [n.lstrip("/") for c in _listing(api) for n in (c.get("Names") or ())]
    close = difflib.get_close_matches(ref, names, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "`docker ps -a` lists containers"
    raise TargetNotFound(f"no such container: {ref}", hint)


def resolve(api: Any, refs: Sequence[str]) -> list[dict[str, Any]]:
    """Resolve several references, once each, in the order given."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for ref in refs:
        data = resolve_one(api, ref)
        if data["Id"] not in seen:
            seen.add(data["Id"])
            out.append(data)
    return out
