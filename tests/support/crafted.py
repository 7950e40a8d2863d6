"""Crafted bundles: a real bundle (a committed sample) with its manifest or members rewritten,
as an attacker would hand one to `diagnose analyze`.

Checksums and sizes in the manifest follow the members that are replaced, so the bundle
passes the reader's integrity checks and reaches the renderers with the crafted content.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.reports import SAMPLES
from tests.support.runs import inside


def craft(dst: Path, sample: str = "app-crash", *,
          manifest: Callable[[dict[str, Any]], None] | None = None,
          members: dict[str, bytes] | None = None) -> Path:
    """Write `dst`: samples/SAMPLE.tar.gz with `members` replaced (same names) and then the
    parsed manifest edited in place by `manifest`."""
    entries: list[tuple[str, bytes]] = []
    with tarfile.open(SAMPLES / f"{sample}.tar.gz", "r:gz") as tf:
        for m in tf:
            fh = tf.extractfile(m) if m.isreg() else None
            entries.append((inside(m.name), fh.read() if fh is not None else b""))
    replaced = members or {}
    unknown = set(replaced) - {name for name, _ in entries}
    assert not unknown, f"no such member in {sample}: {sorted(unknown)}"
    entries = [(name, replaced.get(name, data)) for name, data in entries]
    assert entries[0][0] == "manifest.json"
    doc = json.loads(entries[0][1])
    for f in doc.get("files") or ():
        if f.get("path") in replaced:
            data = replaced[f["path"]]
            f["size"], f["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    if manifest is not None:
        manifest(doc)
    entries[0] = ("manifest.json", json.dumps(doc).encode("utf-8"))
    with tarfile.open(dst, "w:gz") as out:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            out.addfile(info, io.BytesIO(data))
    return dst
