"""What Podman keeps off its Docker-compatible API, read from the host when the engine is local.

Podman (`podman system service`) answers the Docker Engine API, but two facts a diagnosis
needs never reach it (docs/podman-notes.md, D1 and D2):

- A failed start leaves `State.Error` empty and `ExitCode` 0.  The OCI runtime's own message
  (`exec: "/nope": stat /nope: no such file or directory`) is kept in a file named `oci-log`
  next to the container's `resolv.conf` (the directory of `ResolvConfPath`), one JSON object
  per line.
- An OOM kill leaves `State.OOMKilled` false (conmon writes its `oom` marker into its own
  working directory, where Podman does not look).  The kernel's log still says so: an
  `oom-kill:` record naming the container's cgroup (`libpod-<full id>`), then `Killed
  process ...`.  `/dev/kmsg` holds the kernel's ring; reading it needs root (or
  `dmesg_restrict=0`), like `dmesg`.

Both are host files, read like the processes collector reads /proc; nothing is run and the
container is not touched.  The result is `runtime.json` in the container's directory, with
what could not be read and why, so a check can say "could not confirm" instead of guessing.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from diagnose.collect.record import Piece, Skip, dump_json
from diagnose.evidence import layout
from diagnose.evidence.engine import PODMAN
from diagnose.model.times import utc_stamp

#: The OCI runtime's log is one short line per failed runtime call; more is not a log of ours.
MAX_OCI_LOG_BYTES = 64 * 1024
#: Kernel records kept per container (an OOM kill writes two that matter).
MAX_KERNEL_RECORDS = 20
KMSG = "/dev/kmsg"


def collect_runtime(inspect: Mapping[str, Any], product: str, local: bool) -> Piece:
    """`runtime.json`: the OCI runtime's log and the kernel's OOM records for one container."""
    if product != PODMAN:
        raise Skip(f"only Podman keeps these off its API (this engine is {product or 'unknown'})")
    if not local:
        raise Skip("the engine is not on this host: its files and kernel log cannot be read")
    doc: dict[str, Any] = {"engine": PODMAN,
                           "oci_log": oci_log(str(inspect.get("ResolvConfPath") or "")),
                           "kernel_oom": kernel_oom(str(inspect.get("Id") or ""))}
    return Piece({layout.RUNTIME: dump_json(doc)},
                 detail={"oci_log_entries": len(doc["oci_log"].get("entries", ())),
                         "kernel_oom_records": len(doc["kernel_oom"].get("records", ()))})


def oci_log(resolv_conf: str) -> dict[str, Any]:
    """The entries of `<dirname(ResolvConfPath)>/oci-log` (empty for a container that started)."""
    if not resolv_conf:  # set when Podman prepares a start: never asked to start it
        return {"entries": [], "note": "no ResolvConfPath: no start reached the runtime"}
    path = Path(resolv_conf).parent / "oci-log"
    out: dict[str, Any] = {"path": str(path)}
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_OCI_LOG_BYTES)
            out["mtime"] = utc_stamp(os.fstat(fh.fileno()).st_mtime)
    except FileNotFoundError:
        out["entries"] = []
        return out
    except OSError as exc:
        out["error"] = f"{type(exc).__name__}: {exc.strerror or exc}"
        return out
    entries = []
    for raw in data.decode("utf-8", "replace").splitlines():
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except ValueError:
            item = {"msg": raw}
        entries.append(item if isinstance(item, dict) else {"msg": str(item)})
    out["entries"] = entries
    return out


def kernel_oom(container_id: str) -> dict[str, Any]:
    """The kernel's OOM-kill records that name this container's cgroup, with the `Killed
    process` record that follows each, from /dev/kmsg (oldest first)."""
    out: dict[str, Any] = {"source": KMSG}
    if not container_id:
        out["error"] = "inspect names no Id"
        return out
    try:
        records = _kmsg_records()
    except OSError as exc:
        out["error"] = f"{KMSG}: {exc.strerror or exc}" + (
            " (needs root, or kernel.dmesg_restrict=0)" if exc.errno in (errno.EPERM,
                                                                       errno.EACCES) else "")
        return out
    boot = psutil.boot_time()
    kept: list[dict[str, Any]] = []
    follow = False
    for usec, text in records:
        hit = "oom-kill:" in text and container_id in text
        if hit or (follow and "Killed process" in text):
            kept.append({"time": _stamp(boot + usec / 1e6), "text": text})
        follow = hit
    out["records"] = kept[-MAX_KERNEL_RECORDS:]
    out["oldest"] = _stamp(boot + records[0][0] / 1e6) if records else ""
    return out


def _stamp(t: float) -> str:
    """RFC 3339 UTC with milliseconds (the kernel's clock is since boot: boot time + offset,
    good to about a second)."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


def _kmsg_records() -> list[tuple[int, str]]:
    """Every record the kernel's ring still holds: (microseconds since boot, message)."""
    fd = os.open(KMSG, os.O_RDONLY | os.O_NONBLOCK)
    records: list[tuple[int, str]] = []
    try:
        while True:
            try:
                raw = os.read(fd, 8192)
            except BlockingIOError:  # EAGAIN: the ring is read to its end
                break
            except OSError as exc:
                if exc.errno == errno.EPIPE:  # overwritten while we read: skip ahead
                    continue
                raise
            if not raw:
                break
            head, _, body = raw.decode("utf-8", "replace").partition(";")
            fields = head.split(",")
            usec = int(fields[2]) if len(fields) > 2 and fields[2].isdigit() else 0
            records.append((usec, body.split("\n", 1)[0]))
    finally:
        os.close(fd)
    return records
