"""What a matched log line is about, what the rest of the evidence says about it, and the
facts and quoted evidence every log finding carries.

Log-signature checks quote a line; these helpers pull the object of the error out of it (a path,
a host and port, a variable name) and join it with inspect: which mount a path lives on and
whether it is writable, which container owns an IP, which ports are published.  All pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.logs import LogLine
from diagnose.evidence.readings.common import log_evidence
from diagnose.evidence.readings.log_signatures import BARE_MISSING, Hits, strip_stamp
from diagnose.model.findings import Evidence, fact
from diagnose.model.lazyre import lazy_compile
from diagnose.model.text import option_size

# -- paths -------------------------------------------------------------------------------------

_QUOTED_PATH = lazy_compile(r"['\"`‘“](/[^'\"`’”\n]*)['\"`’”]")
_BARE_PATH = lazy_compile(r"(?<![\w.~:/-])(/(?:[\w.@%+=,~-]+/?)+)")


def paths_in(text: str) -> list[str]:
    """Absolute paths named in a line, quoted ones first (`'/data/x'`, `"/var/cache/nginx"`)."""
    text = text.replace("unix://", " ")
    out = [m.group(1) for m in _QUOTED_PATH.finditer(text)]
    out += [m.group(1).rstrip(".,") for m in _BARE_PATH.finditer(text)]
    seen: dict[str, None] = {}
    for p in out:
        if p not in ("/", "") and not p.startswith("//"):
            seen.setdefault(p.rstrip("/") or "/", None)
    return list(seen)


@dataclass(frozen=True)
class MountHit:
    """The mount (or the root filesystem) a path lives on, as inspect describes it."""

    kind: str  # rootfs, bind, volume, tmpfs, shm
    destination: str
    writable: bool
    source: str = ""
    options: str = ""
    pointer: str = ""

    def describe(self) -> str:
        """`tmpfs /data (size=64k)`, `bind /srv/data -> /data (read-only)` and so on."""
        mode = "" if self.writable else ", read-only"
        if self.kind == "rootfs":
            how = "read-only: --read-only" if not self.writable else "writable layer"
            return f"the container's root filesystem ({how})"
        if self.kind == "shm":
            return f"shared memory /dev/shm ({self.options}{mode})"
        if self.kind == "tmpfs":
            opts = f" ({self.options})" if self.options else " (no size: half of host RAM)"
            return f"tmpfs {self.destination}{opts}{mode.replace(', ', ' ')}"
        src = f"{self.source} -> " if self.source else ""
        return f"{self.kind} {src}{self.destination}{' (read-only)' if not self.writable else ''}"


def _under(path: str, dest: str) -> bool:
    dest = dest.rstrip("/") or "/"
    return path == dest or path.startswith(dest + "/") or dest == "/"




def mount_kind(mount: Mapping[str, Any]) -> str:
    """The kind of one of inspect's Mounts (`bind`, `volume`, `tmpfs`...): a bind when the
    engine gave no Type."""
    return str(mount.get("Type") or "bind")


def mount_for(c: ContainerEvidence, path: str) -> MountHit:
    """The innermost mount holding `path`: inspect Mounts, HostConfig.Tmpfs, /dev/shm, or the
    root filesystem (writable unless HostConfig.ReadonlyRootfs)."""
    hc = c.host_config
    best: MountHit | None = None
    for i, m in enumerate(c.inspect.get("Mounts") or ()):
        dest = str(m.get("Destination") or "")
        if not dest or not _under(path, dest):
            continue
        kind = mount_kind(m)
        source = str(m.get("Name") if kind == "volume" else m.get("Source") or "")
        hit = MountHit(kind, dest, bool(m.get("RW", True)), source, str(m.get("Mode") or ""),
                       f"/Mounts/{i}")
        if best is None or len(dest) > len(best.destination):
            best = hit
    for dest, opts in (hc.get("Tmpfs") or {}).items():
        if _under(path, dest) and (best is None or len(dest) > len(best.destination)):
            ro = "ro" in str(opts).split(",")
            best = MountHit("tmpfs", dest, not ro, "", str(opts),
                            "/HostConfig/Tmpfs/" + dest.replace("~", "~0").replace("/", "~1"))
    if _under(path, "/dev/shm") and (best is None or len(best.destination) < len("/dev/shm")):
        shm = int(hc.get("ShmSize") or 0)
        best = MountHit("shm", "/dev/shm", True, "",
                        f"shm-size {option_size(shm)}" if shm else f"ipc {hc.get('IpcMode')}",
                        "/HostConfig/ShmSize")
    if best is not None:
        return best
    return MountHit("rootfs", "/", not hc.get("ReadonlyRootfs"),
                    pointer="/HostConfig/ReadonlyRootfs")


# -- network endpoints -------------------------------------------------------------------------

LOOPBACK_NAMES = ("localhost", "ip6-localhost", "ip6-loopback", "::1", "0.0.0.0")


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8, ::1 (and 0.0.0.0, which connects to the local host)."""
    h = host.strip("[]").lower()
    return h in LOOPBACK_NAMES or h.startswith("127.")


@dataclass(frozen=True)
class Endpoint:
    """Where a failed connection went (host may be a name or an IP; port may be unknown)."""

    host: str
    port: str = ""
    ip: str = ""
    socket: str = ""

    def __str__(self) -> str:
        if self.socket:
            return f"unix socket {self.socket}"
        host = self.host + (f" ({self.ip})" if self.ip and self.ip != self.host else "")
        return f"{host}:{self.port}" if self.port else host

    @property
    def loopback(self) -> bool:
        """The connection went to the container itself."""
        return bool(self.socket) or is_loopback(self.host) or is_loopback(self.ip)


_IP = r"(?:\d{1,3}\.){3}\d{1,3}"
_ENDPOINT_RES = (
    # libpq >= 14: connection to server at "localhost" (127.0.0.1), port 5432 failed
    lazy_compile(r"server at \"(?P<host>[^\"]+)\"(?: \((?P<ip>[^)]+)\))?, port (?P<port>\d+)"),
    # libpq <= 13 (continuation line): Is the server running on host "db" (172.18.0.3) and
    # accepting TCP/IP connections on port 5432?
    lazy_compile(r"on host \"(?P<host>[^\"]+)\"(?: \((?P<ip>[^)]+)\))?(?:.*?port (?P<port>\d+))?"),
    lazy_compile(r"MySQL server on '(?P<host>[^':]+)(?::(?P<port>\d+))?'"),
    # curl: Failed to connect to localhost port 8080
    lazy_compile(r"connect to (?P<host>[\w.-]+) port (?P<port>\d+)"),
    # busybox nc/telnet: can't connect to remote host (127.0.0.1)
    lazy_compile(r"remote host \((?P<host>[^)]+)\)"),
    lazy_compile(rf"\[?(?P<host>{_IP}|::1|[0-9a-fA-F:]+:[0-9a-fA-F]*)\]?:(?P<port>\d{{1,5}})\b"),
    lazy_compile(r"(?<![\w/.-])(?P<host>localhost|[A-Za-z][\w-]*(?:\.[\w-]+)*):(?P<port>\d{2,5})\b"
                 r"(?!:\d)"),
)
_SOCKET_RES = (
    lazy_compile(r"through socket '(?P<socket>[^']+)'"),
    lazy_compile(r"Unix domain socket \"(?P<socket>[^\"]+)\""),
)
_NOT_HOSTS = {"tcp", "udp", "http", "https", "unix", "tcp4", "tcp6", "line", "port"}


def endpoint_in(lines: Sequence[LogLine]) -> Endpoint | None:
    """The endpoint a failed connection named, read from a line and its continuation lines
    (joined: libpq names the host on one line and the port on the next)."""
    text = " ".join(strip_stamp(ln.text) for ln in lines)
    for rx in _SOCKET_RES:
        m = rx.search(text)
        if m:
            return Endpoint("localhost", socket=m.group("socket"))
    for rx in _ENDPOINT_RES:
        for m in rx.finditer(text):
            host = m.group("host")
            if host.lower() in _NOT_HOSTS:
                continue
            groups = m.groupdict()
            return Endpoint(host, groups.get("port") or "", groups.get("ip") or "")
    return None


def continuation(c: ContainerEvidence, line: LogLine, limit: int = 3) -> list[LogLine]:
    """`line` plus the indented or "Is the server running..." lines that follow it in its
    stream (libpq, Java and Python print the useful detail on the next lines)."""
    out = [line]
    for ln in c.lines_after(line, limit):
        if ln.text[:1] in (" ", "\t") or ln.text.startswith(("Is the server", "DETAIL", "HINT")):
            out.append(ln)
        else:
            break
    return out


def container_with_ip(c: ContainerEvidence, ip: str) -> tuple[str, str] | None:
    """(container name, network) of the container that owns `ip` on one of c's networks."""
    for net_name, net in (c.networks or {}).items():
        members = ((net or {}).get("inspect") or {}).get("Containers") or {}
        for member in members.values():
            addr = str(member.get("IPv4Address") or "").split("/")[0]
            if addr and addr == ip:
                return str(member.get("Name") or "?"), net_name
    return None


def network_members(c: ContainerEvidence) -> dict[str, list[str]]:
    """Network name -> names of the containers attached to it (from networks.json)."""
    out: dict[str, list[str]] = {}
    for net_name, net in (c.networks or {}).items():
        members = ((net or {}).get("inspect") or {}).get("Containers") or {}
        out[net_name] = sorted(str(m.get("Name") or "?") for m in members.values())
    return out


def network_others(c: ContainerEvidence) -> dict[str, int]:
    """Network name -> how many containers attached to it are not named in networks.json
    (not targets of the run: counted at collection, never named)."""
    return {net_name: int((net or {}).get("other_containers") or 0)
            for net_name, net in (c.networks or {}).items()}


def network_mode(c: ContainerEvidence) -> str:
    """HostConfig.NetworkMode (`default` means the default bridge)."""
    return str(c.host_config.get("NetworkMode") or "default")


# -- ports -------------------------------------------------------------------------------------

_PORT_RES = (
    lazy_compile(r"\('[^']*', (?P<port>\d+)\)"),  # gunicorn Connection in use: ('0.0.0.0', 8000)
    lazy_compile(rf"(?:(?P<addr>{_IP}|\[[0-9a-fA-F:]*\]|\*|::|[A-Za-z][\w.-]*)|(?<![\d:]))"
                 r":(?P<port>\d{1,5})\b(?!:\d)"),
    lazy_compile(r"\bport (?P<port>\d{1,5})\b"),
)


def port_in(text: str) -> str:
    """The port a bind/listen line names ('' when it names none)."""
    text = strip_stamp(text)
    for rx in _PORT_RES:
        for m in rx.finditer(text):
            port = m.group("port")
            if 0 < int(port) < 65536:
                return port
    return ""


def published_ports(c: ContainerEvidence) -> dict[str, list[str]]:
    """Container port (`8080/tcp`) -> host bindings (`0.0.0.0:49153`), from HostConfig."""
    out: dict[str, list[str]] = {}
    for cport, binds in (c.host_config.get("PortBindings") or {}).items():
        out[str(cport)] = [f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort') or '(random)'}"
                           for b in binds or ()]
    return out


# -- environment ---------------------------------------------------------------------------------

_VAR_RES = (
    lazy_compile(r"\b(?P<var>[A-Za-z_]\w*): (?:unbound variable|parameter (?:null or )?not set)"),
    lazy_compile(r"\bKeyError: '(?P<var>[A-Z][A-Z0-9_]+)'"),
    lazy_compile(r"required key (?P<var>[A-Z_][A-Z0-9_]*) missing value"),
    lazy_compile(r"(?i:env(?:ironment)?(?: variable)?s?):? ['\"`]?(?P<var>[A-Z][A-Z0-9_]{2,})\b"),
    lazy_compile(BARE_MISSING, re.IGNORECASE),
)
#: Official images that print a fixed sentence instead of the variable's name.
IMAGE_VARS = {
    "superuser password is not specified": ("POSTGRES_PASSWORD",),
    "password option is not specified": ("MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD",
                                         "MYSQL_RANDOM_ROOT_PASSWORD"),
}


def env_vars_in(text: str, following: Sequence[LogLine] = ()) -> list[str]:
    """Variable names an error line (or, for the official images' sentences, the lines after
    it: `You need to specify one of MARIADB_ROOT_PASSWORD, ...`) names."""
    for phrase, default in IMAGE_VARS.items():
        if phrase in text.lower():
            named = re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]*\b",
                               " ".join(ln.text for ln in following))
            return list(dict.fromkeys(named)) or list(default)
    for rx in _VAR_RES:
        m = rx.search(text)
        if m:
            return [m.group("var")]
    return []


def env_state(env: Mapping[str, Any], var: str) -> str:
    """`not set`, `set but empty` or `set` (values may be redacted and are never quoted)."""
    if var not in env:
        return "not set"
    return "set but empty" if env[var] == "" else "set"


# -- what every log finding says ---------------------------------------------------------------


def hits_facts(hits: Hits) -> list[tuple[str, str]]:
    """How often, in how many runs, first and last seen: the repeat count of a restart loop."""
    facts = [fact("matching log lines", len(hits.lines))]
    if len(hits.groups) > 1:
        facts.append(fact("distinct messages", len(hits.groups)))
    if hits.runs_total > 1:
        facts.append(fact("runs that logged it",
                          f"{hits.runs_with} of {hits.runs_total}" if hits.runs_with is not None
                          else f"unknown of {hits.runs_total} (the engine no longer has the "
                          "events of the early runs)"))
    if hits.truncated:
        facts.append(fact("log", "truncated by --tail/--since/--max-log-bytes: earlier lines "
                          "are not counted"))
    if hits.unanalysed:
        facts.append(fact("not analysed", f"{hits.unanalysed} (only the first and last lines "
                          "of a long log are read): counts are lower bounds"))
    if hits.runs_total > 1 or not hits.latest_run:
        facts.append(fact("in the latest run", len(hits.latest_run)))
    first, last = hits.lines[0], hits.lines[-1]
    if first.timestamp:
        facts.append(fact("first seen", first.timestamp))
    if last.timestamp and len(hits.lines) > 1:
        facts.append(fact("last seen", last.timestamp))
    for g in sorted(hits.groups, key=lambda g: -len(g.lines))[:3]:
        if len(g.lines) > 1:
            runs = f" in {g.runs} runs" if g.runs > 1 else ""
            text = strip_stamp(g.latest.text)[:160]
            facts.append(fact("repeated", f"{len(g.lines)}x{runs}: {text}"))
    return facts


def hits_evidence(c: ContainerEvidence, hits: Hits, extra: Iterable[LogLine] = (),
                  limit: int = 4) -> list[Evidence]:
    """Quoted line ranges: the latest occurrence of each distinct message (plus `extra`
    context lines), never every repeat of a restart loop."""
    lines = dict.fromkeys(hits.quoted(limit))
    for ln in extra:
        lines.setdefault(ln, None)
    return log_evidence(c, list(lines), limit=limit + 2)
