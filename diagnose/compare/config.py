"""What decides a container's behaviour, read from its inspect document one category at a
time: command, environment, user, working directory, mounts, ports, networks, restart
policy, resource limits, healthcheck, capabilities, security options, read-only root, labels.

Each reader returns the category's fields (:class:`~diagnose.compare.items.Item`), keyed so
that the same thing on both sides has the same name (a mount by its destination, a port by
the container port, a variable by its name).  What always differs between two containers
(IDs, names, hostnames, IP and MAC addresses, PIDs, times, anonymous volume names, the
container's own short-ID alias, HOSTNAME in the environment) is never read here; only
`--all-fields` adds it (:func:`all_fields`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from diagnose.compare.items import Fields, Item, escape_pointer
from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.model.diff import Category
from diagnose.model.jsonview import as_list, as_map
from diagnose.model.text import option_size

#: A volume Docker named itself (an anonymous volume): 64 hex digits, new for every container.
_ANONYMOUS = re.compile(r"^[0-9a-f]{64}$")
#: Variables and labels that differ between any two containers.
VOLATILE_ENV = frozenset({"HOSTNAME"})
VOLATILE_LABELS = frozenset({"com.docker.compose.container-number"})


@dataclass(frozen=True)
class Reading:
    """How fields are read: which names are secret, and whether volatile fields count."""

    secret: Callable[[str], bool]
    all_fields: bool = False


class _Fields:
    """Builds one category's fields of one container (pointers into its inspect.json)."""

    def __init__(self, c: ContainerEvidence) -> None:
        self.c, self.file, self.out = c, c.path(layout.INSPECT), dict[str, Item]()

    def add(self, name: str, value: Any, pointer: str, *, same: str | None = None,
            subjects: Iterable[str] = (), secret: bool = False, keep_empty: bool = False
            ) -> None:
        if value in (None, "", [], {}) and not keep_empty:
            return
        self.out[name] = Item(str(value), same, self.file, pointer, tuple(subjects), secret)


def command(c: ContainerEvidence, r: Reading) -> Fields:
    """Entrypoint, command, stop signal and timeout, init."""
    f = _Fields(c)
    f.add("entrypoint", _argv(c.config.get("Entrypoint")), "/Config/Entrypoint")
    f.add("command", _argv(c.config.get("Cmd")), "/Config/Cmd")
    f.add("stop signal", c.config.get("StopSignal"), "/Config/StopSignal")
    f.add("stop timeout", c.config.get("StopTimeout"), "/Config/StopTimeout")
    f.add("init", "yes" if c.host_config.get("Init") else None, "/HostConfig/Init")
    return f.out


def _argv(value: Any) -> str:
    if isinstance(value, str):
        return value
    return shlex.join(str(x) for x in as_list(value))


def env(c: ContainerEvidence, r: Reading) -> Fields:
    """Config.Env by variable name; secret names compared by value, never shown."""
    f = _Fields(c)
    for i, item in enumerate(as_list(c.config.get("Env"))):
        name, _, value = str(item).partition("=")
        if name in VOLATILE_ENV and not r.all_fields:
            continue
        f.add(name, value, f"/Config/Env/{i}", subjects=(name,), secret=r.secret(name),
              keep_empty=True)
    return f.out


def image_env(c: ContainerEvidence) -> Mapping[str, str]:
    """The variables the image itself sets (Config.Env of the image)."""
    out = {}
    for item in as_list(as_map(c.image.get("Config")).get("Env")):
        name, _, value = str(item).partition("=")
        out[name] = value
    return out


def user(c: ContainerEvidence, r: Reading) -> Fields:
    """Config.User (empty: the image's default, root unless the image says otherwise)."""
    f = _Fields(c)
    name = str(c.config.get("User") or "")
    f.add("user", name or "(default: root)", "/Config/User", subjects=(name,) if name else ())
    return f.out


def workdir(c: ContainerEvidence, r: Reading) -> Fields:
    """Config.WorkingDir (empty: /)."""
    f = _Fields(c)
    path = str(c.config.get("WorkingDir") or "")
    f.add("working dir", path or "/ (default)", "/Config/WorkingDir",
          subjects=(path,) if path else ())
    return f.out


def mounts(c: ContainerEvidence, r: Reading) -> Fields:
    """Mounts by destination: type, source and read-only; tmpfs mounts too."""
    f = _Fields(c)
    for i, m in enumerate(as_list(c.inspect.get("Mounts"))):
        m = as_map(m)
        dest, kind = str(m.get("Destination") or ""), str(m.get("Type") or "")
        source = str(m.get("Name") or "") if kind == "volume" else str(m.get("Source") or "")
        if kind == "volume" and _ANONYMOUS.match(source) and not r.all_fields:
            source = "(anonymous)"
        mode = "read-write" if m.get("RW", True) else "read-only"
        f.add(f"mount {dest}", f"{kind} {source} ({mode})".replace("  ", " "), f"/Mounts/{i}",
              subjects=tuple(s for s in (dest, source) if s.startswith("/") or kind == "volume"))
    for dest, opts in sorted(as_map(c.host_config.get("Tmpfs")).items()):
        f.add(f"mount {dest}", f"tmpfs {opts}".strip(),
              f"/HostConfig/Tmpfs/{escape_pointer(dest)}", subjects=(dest,))
    return f.out


def ports(c: ContainerEvidence, r: Reading) -> Fields:
    """Published ports by container port (HostConfig.PortBindings)."""
    f = _Fields(c)
    for port, binds in sorted(as_map(c.host_config.get("PortBindings")).items()):
        hosts = [as_map(b) for b in as_list(binds)]
        shown = ", ".join(f"{b.get('HostIp') or '*'}:{b.get('HostPort') or 'random'}"
                          for b in hosts)
        numbers = [str(port).split("/")[0]] + [str(b.get("HostPort")) for b in hosts
                                               if b.get("HostPort")]
        f.add(f"port {port}", shown or "published", "/HostConfig/PortBindings/"
              + escape_pointer(str(port)), subjects=numbers)
    f.add("publish all ports", "yes" if c.host_config.get("PublishAllPorts") else None,
          "/HostConfig/PublishAllPorts")
    return f.out


def networks(c: ContainerEvidence, r: Reading) -> Fields:
    """Network mode, the networks attached with their aliases, DNS and extra hosts."""
    f = _Fields(c)
    mode = str(c.host_config.get("NetworkMode") or "")
    f.add("network mode", "bridge" if mode == "default" else mode, "/HostConfig/NetworkMode",
          subjects=(mode,))
    own = {c.id[:12], c.name, str(c.config.get("Hostname") or "")}
    for name, net in sorted(as_map(as_map(c.inspect.get("NetworkSettings")).get("Networks"))
                            .items()):
        aliases = sorted({str(a) for a in as_list(as_map(net).get("Aliases"))}
                         - (set() if r.all_fields else own))
        shown = "attached" + (f", aliases {', '.join(aliases)}" if aliases else "")
        f.add(f"network {name}", shown, "/NetworkSettings/Networks/" + escape_pointer(name),
              subjects=(name, *aliases))
    for key, label in (("Dns", "dns servers"), ("DnsSearch", "dns search"),
                       ("DnsOptions", "dns options"), ("ExtraHosts", "extra hosts"),
                       ("Links", "links")):
        f.add(label, ", ".join(str(x) for x in as_list(c.host_config.get(key))),
              f"/HostConfig/{key}")
    return f.out


def restart(c: ContainerEvidence, r: Reading) -> Fields:
    """Restart policy (and its retry count)."""
    f = _Fields(c)
    policy = as_map(c.host_config.get("RestartPolicy"))
    name = str(policy.get("Name") or "no")
    retries = policy.get("MaximumRetryCount")
    f.add("restart policy", f"{name}:{retries}" if name == "on-failure" and retries else name,
          "/HostConfig/RestartPolicy")
    return f.out


_LIMITS = (  # (field, HostConfig key, how it reads)
    ("memory", "Memory", "size"), ("memory+swap", "MemorySwap", "swap"),
    ("memory reservation", "MemoryReservation", "size"), ("CPUs", "NanoCpus", "cpus"),
    ("CPU shares", "CpuShares", "number"), ("CPU quota", "CpuQuota", "number"),
    ("CPU period", "CpuPeriod", "number"), ("cpuset", "CpusetCpus", "text"),
    ("pids limit", "PidsLimit", "number"), ("shm size", "ShmSize", "size"),
    ("OOM killer disabled", "OomKillDisable", "flag"), ("blkio weight", "BlkioWeight", "number"),
)


def _limit(value: Any, how: str) -> str:
    if how == "flag":
        return "yes" if value else "no"
    if how == "text":
        return str(value or "") or "none"
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        return "unlimited" if how == "swap" and value == -1 else "none"
    if how in ("size", "swap"):
        return option_size(int(value))
    return f"{value / 1e9:g}" if how == "cpus" else str(value)


def limits(c: ContainerEvidence, r: Reading) -> Fields:
    """Memory, swap, CPUs, pids, shm, OOM-killer and ulimits."""
    f = _Fields(c)
    for name, key, how in _LIMITS:
        # Every limit is read, unset ones as "none": a limit on one side only then shows as
        # `none` -> `32 MiB`, and equal ones (none on both) are no difference.
        f.add(name, _limit(c.host_config.get(key), how), f"/HostConfig/{key}")
    for i, u in enumerate(as_list(c.host_config.get("Ulimits"))):
        u = as_map(u)
        f.add(f"ulimit {u.get('Name')}", f"{u.get('Soft')}:{u.get('Hard')}",
              f"/HostConfig/Ulimits/{i}", subjects=(str(u.get("Name")),))
    return f.out


def healthcheck(c: ContainerEvidence, r: Reading) -> Fields:
    """The healthcheck's test and timings."""
    f = _Fields(c)
    hc = as_map(c.config.get("Healthcheck"))
    f.add("health test", _argv(hc.get("Test")), "/Config/Healthcheck/Test")
    for key, name in (("Interval", "health interval"), ("Timeout", "health timeout"),
                      ("StartPeriod", "health start period"), ("Retries", "health retries")):
        value = hc.get(key)
        if value:
            shown = f"{value / 1e9:g} s" if key != "Retries" else str(value)
            f.add(name, shown, f"/Config/Healthcheck/{key}")
    return f.out


def capabilities(c: ContainerEvidence, r: Reading) -> Fields:
    """Privileged, capabilities added and dropped, devices."""
    f = _Fields(c)
    f.add("privileged", "yes" if c.host_config.get("Privileged") else None,
          "/HostConfig/Privileged")
    for key, word in (("CapAdd", "added"), ("CapDrop", "dropped")):
        for i, cap in enumerate(as_list(c.host_config.get(key))):
            f.add(f"capability {cap}", word, f"/HostConfig/{key}/{i}", subjects=(str(cap),))
    for i, d in enumerate(as_list(c.host_config.get("Devices"))):
        d = as_map(d)
        f.add(f"device {d.get('PathInContainer')}", f"{d.get('PathOnHost')} "
              f"({d.get('CgroupPermissions')})", f"/HostConfig/Devices/{i}",
              subjects=(str(d.get("PathInContainer")),))
    return f.out


def security(c: ContainerEvidence, r: Reading) -> Fields:
    """Security options (seccomp, AppArmor, SELinux, no-new-privileges) and namespaces."""
    f = _Fields(c)
    for i, opt in enumerate(as_list(c.host_config.get("SecurityOpt"))):
        key = re.split(r"[=:]", str(opt), maxsplit=1)[0]
        f.add(f"security option {key}", opt, f"/HostConfig/SecurityOpt/{i}")
    for key, name in (("PidMode", "pid namespace"), ("IpcMode", "ipc namespace"),
                      ("UTSMode", "uts namespace"), ("UsernsMode", "user namespace")):
        f.add(name, c.host_config.get(key), f"/HostConfig/{key}")
    f.add("AppArmor profile", c.inspect.get("AppArmorProfile"), "/AppArmorProfile")
    return f.out


def read_only(c: ContainerEvidence, r: Reading) -> Fields:
    """Whether the root filesystem is read-only."""
    f = _Fields(c)
    f.add("read-only root", "yes" if c.host_config.get("ReadonlyRootfs") else "no",
          "/HostConfig/ReadonlyRootfs")
    return f.out


def labels(c: ContainerEvidence, r: Reading) -> Fields:
    """Config.Labels by name; secret names compared by value, never shown."""
    f = _Fields(c)
    for name, value in sorted(c.labels.items()):
        if name in VOLATILE_LABELS and not r.all_fields:
            continue
        f.add(f"label {name}", value, "/Config/Labels/" + escape_pointer(name),
              subjects=(name,), secret=r.secret(name), keep_empty=True)
    return f.out


#: The readers of the configuration categories, in the fixed order.
READERS: tuple[tuple[Category, Callable[[ContainerEvidence, Reading], Fields]], ...] = (
    (Category.COMMAND, command), (Category.ENV, env), (Category.USER, user),
    (Category.WORKDIR, workdir), (Category.MOUNTS, mounts), (Category.PORTS, ports),
    (Category.NETWORKS, networks), (Category.RESTART, restart), (Category.LIMITS, limits),
    (Category.HEALTHCHECK, healthcheck), (Category.CAPABILITIES, capabilities),
    (Category.SECURITY, security), (Category.READ_ONLY, read_only), (Category.LABELS, labels),
)
