"""What shell completion asks the engine and the docker CLI's configuration: the names of the
containers, and of the docker contexts.

Completion runs on every TAB, so this must feel instant and must never print: one list call
with a one-second timeout, and any failure (no engine, a refused socket, a context that does
not resolve, a slow engine) is an empty answer, never a message.
"""

from __future__ import annotations

import os

from diagnose.collect.connect import connect, context_names, resolve_endpoint

#: Seconds the engine gets to answer a completion (a TAB that hangs is worse than none).
TIMEOUT = 1.0


def container_names(prefix: str, host: str | None = None, context: str | None = None
                    ) -> list[str]:
    """Names of the engine's containers (stopped ones too) that start with `prefix`, sorted;
    [] when no engine answers."""
    try:
        client = connect(resolve_endpoint(host, context), TIMEOUT, pool_size=1)
        try:
            listed = client.api.containers(all=True)
        finally:
            client.close()
    except Exception:  # noqa: BLE001 - completion must stay silent whatever went wrong
        return []
    names = {str(n).lstrip("/") for c in listed for n in c.get("Names") or ()}
    return sorted(n for n in names if n.startswith(prefix) and "/" not in n)


def contexts(prefix: str) -> list[str]:
    """Docker context names that start with `prefix` ([] when the store cannot be read)."""
    try:
        return [n for n in context_names(os.environ) if n.startswith(prefix)]
    except OSError:
        return []
