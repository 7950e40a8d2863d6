"""Resolve what the user named (a name, a full or short ID, or a unique ID prefix) to containers.

The engine resolves exact IDs, names and unique prefixes itself; we only add the explanations
a person needs: close matches for a typo, the candidates of an ambiguous prefix.
"""

from __future__ import annotations

import concurrent.futures as cf
import difflib
import re
import time
from collections.abc import Sequence
from typing import Any

from docker.errors import APIError, NotFound

from diagnose.model.errors import AmbiguousTarget, TargetNotFound, UsageError

_HEX = re.compile(r"^[0-9a-f]+$")


def _listing(api: Any, **filters: Any) -> list[dict[str, Any]]:
    # The low-level list never inspects each container (the SDK's high-level list does, N+1).
    return list(api.containers(all=True, filters=filters or None))


def _label(c: dict[str, Any]) -> str:
    names = ",".join(n.lstrip("/") for n in c.get("Names") or ())
    return f"{names or '?'} ({str(c.get('Id', ''))[:12]}, {c.get('State', '?')})"


#: Podman's inspect of a container whose process just exited (a restart loop) can fail for
#: a moment: `read /proc/PID/cgroup: no such process`.  Asked again, it answers.
_PROCESS_GONE = "no such process"
_INSPECT_TRIES = 5


def inspect_settled(api: Any, ref: str) -> dict[str, Any]:
    """`docker inspect` of one container, asked again (briefly) while the engine says the
    process it was reading has just gone."""
    tries = 0
    while True:
        try:
            return dict(api.inspect_container(ref))
        except APIError as exc:
            tries += 1
            gone = _PROCESS_GONE in str(exc.explanation or exc).lower()
            if isinstance(exc, NotFound) or not gone or tries == _INSPECT_TRIES:
                raise
            time.sleep(0.05 * tries)


def resolve_one(api: Any, ref: str) -> dict[str, Any]:
    """Inspect one container, or raise TargetNotFound / AmbiguousTarget with guidance."""
    ref = ref.strip()
    if not ref:
        raise TargetNotFound("an empty container name was given", "name a container")
    try:
        return inspect_settled(api, ref)
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
            return inspect_settled(api, matches[0]["Id"])
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


#: The `docker ps --filter` keys the Engine API accepts for containers.
FILTER_KEYS = frozenset({"ancestor", "before", "expose", "exited", "health", "id", "isolation",
                         "is-task", "label", "name", "network", "publish", "since", "status",
                         "volume"})


def parse_filters(items: Sequence[str]) -> dict[str, list[str]]:
    """`KEY=VALUE` strings (repeatable keys) as the Engine API filter mapping."""
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            raise UsageError(f"--filter {item!r} is not KEY=VALUE",
                             "e.g. --filter status=exited --filter label=app=web")
        if key not in FILTER_KEYS:
            raise UsageError(f"--filter key {key!r} is not a docker ps filter",
                             f"use one of: {', '.join(sorted(FILTER_KEYS))}")
        out.setdefault(key, []).append(value)
    return out


def select(api: Any, all_containers: bool, filters: Sequence[str]) -> list[str]:
    """IDs of the containers chosen by --all and/or --filter, stopped ones included.

    Unlike `docker ps`, stopped containers are always considered: they are the ones that need
    a diagnosis (sos report's docker plugin skips them by default; we don't).
    """
    mapping = parse_filters(filters)
    try:
        listing = api.containers(all=True, filters=mapping or None)
    except APIError as exc:
        if exc.status_code == 400:
            raise UsageError(f"the engine rejected the filter: {exc.explanation or exc}",
                             "check the --filter values") from exc
        raise
    if not listing and (all_containers or mapping):
        what = "the filter " + " ".join(f"--filter {f}" for f in filters) if filters else "--all"
        raise TargetNotFound(f"no container matches {what}", "`docker ps -a` lists containers")
    # Oldest first, like a person reading `docker ps -a` from the bottom.
    return [c["Id"] for c in sorted(listing, key=lambda c: c.get("Created", 0))]


def inspect_many(api: Any, ids: Sequence[str], jobs: int) -> list[dict[str, Any]]:
    """Inspect containers concurrently; ones that vanished meanwhile are left out."""
    def one(cid: str) -> dict[str, Any] | None:
        try:
            return inspect_settled(api, cid)
        except NotFound:
            return None

    with cf.ThreadPoolExecutor(max(1, jobs), thread_name_prefix="inspect") as pool:
        return [d for d in pool.map(one, ids) if d is not None]


def resolve(api: Any, refs: Sequence[str], all_containers: bool = False,
            filters: Sequence[str] = (), jobs: int = 8) -> list[dict[str, Any]]:
    """Resolve names/IDs/prefixes and the --all/--filter selection, once each, in order."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for ref in refs:
        data = resolve_one(api, ref)
        if data["Id"] not in seen:
            seen.add(data["Id"])
            out.append(data)
    if all_containers or filters:
        ids = [i for i in select(api, all_containers, filters) if i not in seen]
        out.extend(inspect_many(api, ids, jobs))
    return out
