"""Host-side facts via psutil: the machine, and a container's real process tree.

`docker top` runs ps through the engine and cannot show zombies as children of PID 1; reading
/proc through psutil from the host can, when the engine runs on this host.
"""

from __future__ import annotations

import collections
import os
import platform
import time
from collections.abc import Mapping
from typing import Any

import psutil

from diagnose.collect.record import Piece, Skip, dump_json
from diagnose.evidence import layout

MAX_PROCESSES = 2000


def collect_host(data_root: str | None, local: bool) -> Piece:
    """CPUs, load, memory, swap, uptime and free space on the engine's data root."""
    vm = psutil.virtual_memory()
    sw = psutil.swap_memory()
    facts: dict[str, Any] = {
        "hostname": platform.node(),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "cpus_logical": psutil.cpu_count(),
        "cpus_physical": psutil.cpu_count(logical=False),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "memory": {"total": vm.total, "available": vm.available, "percent": vm.percent},
        "swap": {"total": sw.total, "used": sw.used, "percent": sw.percent},
        "boot_time": psutil.boot_time(),
        "engine_local": local,
    }
    if local and data_root:
        try:
            du = psutil.disk_usage(data_root)
            facts["data_root"] = {
                "path": data_root,
                "total": du.total,
                "used": du.used,
                "free": du.free,
                "percent": du.percent,
            }
            # Inodes run out too ("no space left on device" with free bytes to spare).
            st = os.statvfs(data_root)
            if st.f_files:
                facts["data_root"]["inodes_total"] = st.f_files
                facts["data_root"]["inodes_free"] = st.f_favail
        except OSError as exc:
            facts["data_root"] = {"path": data_root, "error": str(exc)}
    return Piece({layout.HOST_FACTS: dump_json(facts)})


def _flag(argv: list[str], *names: str) -> str | None:
    """The value of a `--name value` / `--name=value` command-line flag, if given."""
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg[len(name) + 1:]
    return None


def collect_engine_process(data_root: str | None, local: bool) -> Piece:
    """When the local engine's dockerd started: the Engine API gives no start time, and a
    container that ended when the engine went down is told apart by it (issue 16).  The
    dockerd is the one whose `--data-root` is the engine's data root (or the only dockerd
    without one)."""
    if not local or not data_root:
        raise Skip("the engine is not on this host")
    loose = []
    # Only the name of every process of the host (one read each); the rest of a dockerd's.
    for proc in psutil.process_iter(["name"]):
        if proc.info.get("name") != "dockerd":
            continue
        try:
            more = proc.as_dict(["cmdline", "create_time"])  # None: not ours to read
        except psutil.NoSuchProcess:
            continue
        argv = more.get("cmdline") or []
        root = _flag(argv, "--data-root", "-g", "--graph")
        doc = {"pid": proc.pid, "started_at": more.get("create_time"),
               "matched_by": f"--data-root {root}" if root else "the only dockerd"}
        if root is None:
            loose.append(doc)
        elif os.path.normpath(root) == os.path.normpath(data_root):
            return Piece({layout.ENGINE_PROCESS: dump_json(doc)})
    if len(loose) == 1:
        return Piece({layout.ENGINE_PROCESS: dump_json(loose[0])})
    raise Skip(f"no dockerd process with the data root {data_root} on this host")


def _in_container(proc: psutil.Process, container_id: str) -> bool:
    try:
        with open(f"/proc/{proc.pid}/cgroup", encoding="utf-8", errors="replace") as fh:
            return container_id in fh.read()
    except OSError:
        return False


def _describe(proc: psutil.Process) -> dict[str, Any]:
    info: dict[str, Any] = {"pid": proc.pid}
    try:
        with proc.oneshot():
            info["ppid"] = proc.ppid()
            info["status"] = proc.status()
            info["name"] = proc.name()
            try:
                info["cmdline"] = proc.cmdline()
            except (psutil.ZombieProcess, psutil.AccessDenied):
                info["cmdline"] = []
            info["create_time"] = proc.create_time()
            try:
                info["username"] = proc.username()
            except (KeyError, psutil.AccessDenied):
                info["username"] = None
            try:
                info["rss"] = proc.memory_info().rss
                info["threads"] = proc.num_threads()
            except (psutil.ZombieProcess, psutil.AccessDenied):
                pass
    except psutil.NoSuchProcess:
        info["status"] = "gone"
    return info


def _children_files_work() -> bool:
    me = os.getpid()
    return os.path.exists(f"/proc/{me}/task/{me}/children")


_CHILDREN_FILES = _children_files_work()


def _descendants(root: psutil.Process) -> list[psutil.Process]:
    """Every process below `root`, breadth first (at most MAX_PROCESSES + 1).

    Read from the kernel's /proc/PID/task/TID/children lists: one read per process of this
    tree.  psutil's `children(recursive=True)` reads the parent of every process on the host
    instead, once per container: with a hundred running containers that walk, repeated for
    each, was the largest cost of collecting a fleet.  Kernels without those files
    (CONFIG_PROC_CHILDREN unset) get psutil's walk.
    """
    if not _CHILDREN_FILES:
        try:
            return list(root.children(recursive=True))
        except psutil.NoSuchProcess:
            return []
    out: list[psutil.Process] = []
    seen = {root.pid}
    todo = collections.deque([root.pid])
    while todo and len(out) <= MAX_PROCESSES:
        pid = todo.popleft()
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:  # gone meanwhile
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", encoding="ascii") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except (OSError, ValueError):
                continue
            for kid in kids:
                if kid in seen:
                    continue
                seen.add(kid)
                try:
                    out.append(psutil.Process(kid))
                except psutil.NoSuchProcess:
                    continue
                todo.append(kid)
    return out


def collect_processes(inspect: Mapping[str, Any], local: bool) -> Piece:
    """PID 1 of the container and all its descendants, with status (zombies show)."""
    state = inspect.get("State") or {}
    pid = int(state.get("Pid") or 0)
    if not local:
        raise Skip("engine is not on this host: its processes are not visible here")
    if not state.get("Running") or pid <= 0:
        raise Skip(f"container is {state.get('Status')}, no process to read")
    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess as exc:
        raise Skip(f"PID {pid} is not visible from this host (another PID namespace?)") from exc
    if not _in_container(root, str(inspect.get("Id", ""))):
        raise Skip(f"PID {pid} on this host is not in the container's cgroup")
    procs = [_describe(root)]
    children = _descendants(root)
    truncated = len(children) > MAX_PROCESSES
    procs.extend(_describe(c) for c in children[:MAX_PROCESSES])
    zombies = sum(1 for p in procs if p.get("status") == psutil.STATUS_ZOMBIE)
    doc = {"pid1": pid, "sampled_at": time.time(), "processes": procs}
    return Piece(
        {layout.PROCESSES: dump_json(doc)},
        truncated=truncated,
        detail={"processes": len(procs), "zombies": zombies},
    )
