"""Names in and of a bundle: the bundle's own file name, one safe directory per container, and
where `diagnose redact` writes its copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from diagnose.evidence import layout
from diagnose.model.errors import UsageError


def bundle_name(keys: list[str], started: float, redacted: bool, group: str | None = None
                ) -> str:
    """`diagnose-<who>-<UTC time>.tar.gz` (`-UNREDACTED` when redaction is off).

    <who> is the one target, else `group` when the run names one (the Compose project of
    `--project`, `all` for `--all`), else the first target and how many more
    (`web-and-2-more`): a name that says what the bundle is about."""
    who = keys[0] if len(keys) == 1 else group or several(keys)
    stamp = datetime.fromtimestamp(started, UTC).strftime("%Y%m%dT%H%M%SZ")
    suffix = "" if redacted else "-UNREDACTED"
    return f"diagnose-{layout.safe_component(who)}-{stamp}{suffix}.tar.gz"


def several(keys: list[str]) -> str:
    """`web-and-2-more` (`none` for no key)."""
    if not keys:
        return "none"
    return keys[0] if len(keys) == 1 else f"{keys[0]}-and-{len(keys) - 1}-more"


def unique_keys(inspects: Iterable[dict[str, Any]]) -> list[str]:
    """One safe, unique directory name per container (its name, else its short ID)."""
    keys: list[str] = []
    for ins in inspects:
        base = layout.safe_component(str(ins.get("Name", "")).lstrip("/"),
                                     str(ins.get("Id", ""))[:12] or "container")
        key = base
        if key in keys:
            key = f"{base}-{str(ins.get('Id', ''))[:12]}"
        keys.append(key)
    return keys


UNREDACTED_SUFFIX = "-UNREDACTED.tar.gz"


def output_path(src: Path, out: Path | None) -> Path:
    """Where the redacted copy goes: next to the input without -UNREDACTED (or with
    -redacted), or inside `out` when it is a directory, or `out` itself."""
    name = src.name
    if name.endswith(UNREDACTED_SUFFIX):
        default = name[: -len(UNREDACTED_SUFFIX)] + ".tar.gz"
    else:
        stem = name[:-7] if name.endswith(".tar.gz") else name
        default = f"{stem}-redacted.tar.gz"
    if out is None:
        dest = src.parent / default
    elif out.is_dir():
        dest = out / default
    else:
        dest = out
    if dest.resolve() == src.resolve():
        raise UsageError(f"refusing to overwrite the input bundle {src}",
                         "pass -o with another file name")
    return dest
