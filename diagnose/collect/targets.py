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
            more = f"; and {len(matches) - 10} more" if len(matches) > 10 else ""
            raise AmbiguousTarget(
                f"container ID prefix {ref!r} is ambiguous: it matches {len(matches)} containers: "
                f"{shown}{more}",
                "give more characters of the ID, or the name",
            )
        if len(matches) == 1:
            return dict(api.inspect_container(matches[0]["Id"]))
    close = suggestions(ref, _listing(api))
    hint = (f"did you mean {'; '.join(_label(c) for c in close)}? (`docker ps -a` lists them all)"
            if close else "`docker ps -a` lists containers")
    raise TargetNotFound(f"no such container: {ref}", hint)


def suggestions(ref: str, listing: Sequence[dict[str, Any]], limit: int = 5
                ) -> list[dict[str, Any]]:
    """Containers a person who typed `ref` probably meant: names containing it (Compose names
    like `shop-web-1` for `web`, shortest first), then names within a typo of it."""
    by_name: dict[str, dict[str, Any]] = {}
    for c in listing:
        for n in c.get("Names") or ():
            by_name.setdefault(n.lstrip("/"), c)
    low = ref.lower()
    containing = sorted((n for n in by_name if low in n.lower()), key=lambda n: (len(n), n))
    close = difflib.get_close_matches(ref, list(by_name), n=limit, cutoff=0.6)
    names = list(dict.fromkeys([*containing[:limit], *close]))[:limit]
    return [{**by_name[n], "Names": [n]} for n in names]


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
