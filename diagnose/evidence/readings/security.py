"""Shared readings for the security and hygiene checks (D7xx): image references, privileges,
namespaces, capabilities, users, and what an image's history says about how it was built.

Several checks ask the same question (is this image official? does this container already hand
root on the host away?), so the answers are written once here.  Everything is a pure function
of one container's evidence.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diagnose.evidence.container import ContainerEvidence
from diagnose.model.lazyre import lazy_compile

# -- image references ------------------------------------------------------------------------

DOCKER_HUB = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_HEX = lazy_compile(r"^(?:sha256:)?[0-9a-f]{6,64}$")


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference: `[registry/]repository[:tag][@digest]`.

    Normalised like the engine does it: no registry means Docker Hub, and a Docker Hub
    repository without a slash lives under `library/` (`nginx` = `docker.io/library/nginx`).
    """

    raw: str
    registry: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def official(self) -> bool:
        """An official-library name: `docker.io/library/NAME` (a bare `NAME` is short for it)."""
        head, _, rest = self.repository.partition("/")
        return self.registry in DOCKER_HUB and head == "library" and bool(rest) and "/" not in rest

    @property
    def pinned(self) -> bool:
        """Pinned by digest, or by a tag other than `latest` (tags can still be moved)."""
        return bool(self.digest) or (bool(self.tag) and self.tag != "latest")

    @property
    def name(self) -> str:
        """registry/repository, normalised (for comparing with RepoDigests)."""
        return f"{self.registry}/{self.repository}"


def parse_ref(ref: str) -> ImageRef | None:
    """Parse an image reference (None for an empty string)."""
    text = ref.strip()
    if not text:
        return None
    name, _, digest = text.partition("@")
    tag = ""
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, repository = first, rest
    else:
        registry, repository = "docker.io", name
    if registry in DOCKER_HUB:
        registry = "docker.io"
        if "/" not in repository:
            repository = f"library/{repository}"
    return ImageRef(text, registry, repository, tag, digest)


def by_image_id(ref: str, image_id: str) -> bool:
    """True when the container names its image by ID (or an ID prefix): pinned for good."""
    text = ref.strip().lower()
    if not _HEX.match(text):
        return False
    want = image_id.lower().removeprefix("sha256:")
    return want.startswith(text.removeprefix("sha256:"))


@dataclass(frozen=True)
class Provenance:
    """What the container's image is, as far as the evidence says."""

    ref: ImageRef | None
    by_id: bool
    official_name: bool
    pulled: bool

    @property
    def official(self) -> bool:
        """An official-library image actually pulled from Docker Hub (a registry digest for
        that very repository), not merely something tagged with an official-looking name."""
        return self.official_name and self.pulled


def provenance(c: ContainerEvidence) -> Provenance:
    """Read the image reference the container was created with, and the image's digests."""
    raw = c.image_ref
    image_id = str(c.inspect.get("Image") or "")
    ident = by_image_id(raw, image_id)
    ref = None if ident else parse_ref(raw)
    if ref is None:
        # Created from an ID: judge by the image's own tags instead.
        tags = [parse_ref(str(t)) for t in c.image.get("RepoTags") or ()]
        ref = next((t for t in tags if t is not None and t.official),
                   next((t for t in tags if t is not None), None))
    digests = [parse_ref(str(d)) for d in c.image.get("RepoDigests") or ()]
    pulled = ref is not None and any(d is not None and d.name == ref.name for d in digests)
    return Provenance(ref, ident, bool(ref and ref.official), pulled)


# -- privileges ------------------------------------------------------------------------------

#: Runtime sockets that give whoever holds them control of the host's containers.
SOCKET_NAMES = ("docker.sock", "containerd.sock", "podman.sock", "crio.sock")
#: Host directories that contain the engine socket (mounting them mounts the socket).
SOCKET_DIRS = ("/var/run", "/run", "/var/run/docker", "/run/docker")

NAMESPACE_FIELDS = (("NetworkMode", "network"), ("PidMode", "pid"), ("IpcMode", "ipc"),
                    ("UTSMode", "uts"))

#: Capabilities beyond Docker's default set that hand out host-level power.
DANGEROUS_CAPS = frozenset({
    "ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "SYS_RAWIO", "SYS_BOOT",
    "SYS_TIME", "DAC_READ_SEARCH", "MAC_ADMIN", "MAC_OVERRIDE", "BPF", "PERFMON", "SYSLOG",
    "SYS_RESOURCE", "LINUX_IMMUTABLE", "NET_BROADCAST", "WAKE_ALARM", "BLOCK_SUSPEND",
})


def is_privileged(c: ContainerEvidence) -> bool:
    """`--privileged`."""
    return bool(c.host_config.get("Privileged"))


def socket_mounts(c: ContainerEvidence) -> list[tuple[int, Mapping[str, Any]]]:
    """(index in .Mounts, mount) of bind mounts exposing an engine socket."""
    out = []
    for i, m in enumerate(c.inspect.get("Mounts") or ()):
        if m.get("Type") != "bind":
            continue
        src = str(m.get("Source") or "").rstrip("/") or "/"
        if src.endswith(SOCKET_NAMES) or src in SOCKET_DIRS:
            out.append((i, m))
    return out


def host_namespaces(c: ContainerEvidence) -> list[tuple[str, str]]:
    """(HostConfig field, namespace) for each namespace shared with the host."""
    return [(fld, ns) for fld, ns in NAMESPACE_FIELDS if c.host_config.get(fld) == "host"]


def cap_name(cap: str) -> str:
    """`cap_sys_admin` / `CAP_SYS_ADMIN` / `sys_admin` -> `SYS_ADMIN`."""
    return str(cap).strip().upper().removeprefix("CAP_")


def dangerous_caps(c: ContainerEvidence) -> list[str]:
    """Capabilities added with --cap-add that are in :data:`DANGEROUS_CAPS`."""
    return [cap_name(x) for x in c.host_config.get("CapAdd") or ()
            if cap_name(x) in DANGEROUS_CAPS]


def root_user(c: ContainerEvidence) -> bool:
    """Does the container's process start as root (User empty, `root` or `0`, any group)?"""
    user = str(c.config.get("User") or "").strip()
    return user.partition(":")[0] in ("", "root", "0")


def top_users(c: ContainerEvidence) -> list[str] | None:
    """The user of every process `docker top` saw (None when top was not collected).  dockerd's
    ps names the column UID; Podman's (asked for host-side columns) USER."""
    titles = [str(t) for t in c.top.get("Titles") or ()]
    column = next((t for t in ("UID", "USER") if t in titles), None)
    if column is None:
        return None
    col = titles.index(column)
    return [str(row[col]) for row in c.top.get("Processes") or () if len(row) > col]


def userns_remapped(c: ContainerEvidence) -> bool:
    """Root in the container is not root on the host (userns-remap or a rootless engine)."""
    opts = " ".join(str(o) for o in c.engine.info.get("SecurityOptions") or ())
    if "name=rootless" in opts or c.engine.info.get("Rootless") is True:  # Podman says so
        return True
    return "name=userns" in opts and c.host_config.get("UsernsMode") != "host"


def host_risks(c: ContainerEvidence) -> list[str]:
    """Settings that make root in the container root on the host (for escalating D705)."""
    risks = []
    if is_privileged(c):
        risks.append("privileged")
    if socket_mounts(c):
        risks.append("engine socket mounted")
    risks += [f"host {ns} namespace" for fld, ns in host_namespaces(c) if ns != "uts"]
    risks += [f"cap {cap}" for cap in dangerous_caps(c)]
    return risks


def on_default_bridge(c: ContainerEvidence) -> bool:
    """Attached to the engine's default `bridge` network (no user-defined network)."""
    mode = str(c.host_config.get("NetworkMode") or "")
    return mode in ("default", "bridge")


# -- image history ---------------------------------------------------------------------------

_SEGMENT_SPLIT = lazy_compile(r"&&|\|\||;|\||\n")
_LOCAL_HTTP = lazy_compile(r"http://(?:localhost|127\.\d+\.\d+\.\d+|\[::1\])(?:[:/]|$)", re.I)
_HTTP_URL = lazy_compile(r"\bhttp://[^\s\"'<>]+", re.I)
_FETCHERS = lazy_compile(r"(?:^|[\s/])(curl|wget|git|pip3?|fetch|aria2c)(?:\s|$)")
_CURL_INSECURE = lazy_compile(r"(?:^|\s)(?:--insecure|-[a-zA-Z]*k[a-zA-Z]*)(?:\s|$)")

#: (what, pattern) of settings that switch verification off, wherever they appear.
INSECURE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (what, lazy_compile(rx, re.I)) for what, rx in (
        ("wget without certificate checks", r"\bwget\b.*--no-check-certificate"),
        ("remote ADD over plain http", r"(?:^|\s)ADD\s+(?:--\S+\s+)*http://"),
        ("git with TLS verification off", r"http\.sslverify[= ]+false|GIT_SSL_NO_VERIFY="),
        ("pip trusting a host without TLS", r"\bpip3?\b.*--trusted-host"),
        ("apk accepting unsigned packages", r"\bapk\b.*--allow-untrusted"),
        ("apt accepting unsigned packages",
         r"--allow-unauthenticated|AllowInsecureRepositories|\[trusted=yes\]"),
        ("npm/yarn with TLS verification off", r"strict-ssl\s*(?:=|\s)\s*false"),
        ("TLS verification off by environment",
         r"NODE_TLS_REJECT_UNAUTHORIZED=0|PYTHONHTTPSVERIFY=0"),
    )
)


@dataclass(frozen=True)
class HistoryHit:
    """One suspicious build step: its index in image/history.json, why, and the quote."""

    index: int
    what: str
    excerpt: str
    severe: bool = False


def _segments(created_by: str) -> list[str]:
    return [s.strip() for s in _SEGMENT_SPLIT.split(created_by) if s.strip()]


def insecure_fetches(history: Sequence[Mapping[str, Any]]) -> list[HistoryHit]:
    """Build steps that download over plain http or with certificate checks switched off."""
    hits: list[HistoryHit] = []
    for i, layer in enumerate(history):
        text = str(layer.get("CreatedBy") or "")
        found: list[tuple[str, str]] = []
        for seg in _segments(text):
            tool = _FETCHERS.search(seg)
            if tool and tool.group(1) == "curl" and _CURL_INSECURE.search(seg):
                found.append(("curl without certificate checks (-k/--insecure)", seg))
            if tool:
                urls = [u for u in _HTTP_URL.findall(seg) if not _LOCAL_HTTP.match(u)]
                if urls:
                    found.append((f"{tool.group(1)} over plain http ({urls[0]})", seg))
            found += [(what, seg) for what, rx in INSECURE_PATTERNS if rx.search(seg)]
        seen: set[str] = set()
        for what, seg in found:
            if what not in seen:
                seen.add(what)
                hits.append(HistoryHit(i, what, seg[:300]))
    return hits


_CHMOD = lazy_compile(r"(?:^|[\s/])chmod\s+(?P<args>.*)$")
#: A chmod of these directories themselves, or of anything inside the trees, is severe.
_SYSTEM_PATHS = ("/", "/var", "/home", "/opt", "/srv", "/run", "/tmp")
_SYSTEM_TREES = ("/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
                 "/root", "/boot")


def _world_writable_mode(mode: str) -> bool:
    if re.fullmatch(r"[0-7]{3,4}", mode):
        digits = mode.rjust(4, "0")
        sticky = int(digits[0]) & 1
        return int(digits[-1]) & 2 != 0 and not sticky
    if "t" in mode:  # symbolic sticky bit: /tmp-style shared directories are fine
        return False
    for clause in mode.split(","):
        m = re.fullmatch(r"([ugoa]*)([+=])([rwxXst]*)", clause)
        if m and ("a" in m.group(1) or "o" in m.group(1)) and "w" in m.group(3):
            return True
    return False


def world_writable_steps(history: Sequence[Mapping[str, Any]]) -> list[HistoryHit]:
    """Build steps that make files world-writable (`chmod 777`, `chmod -R a+rwx`...).

    Sticky modes (1777, +t) are the normal way to share a scratch directory and are left out.
    A hit is `severe` when it is recursive or aimed at a system directory.
    """
    hits: list[HistoryHit] = []
    for i, layer in enumerate(history):
        for seg in _segments(str(layer.get("CreatedBy") or "")):
            m = _CHMOD.search(seg)
            if not m:
                continue
            args = m.group("args").split()
            opts = [a for a in args if a.startswith("-") and not re.fullmatch(r"-[rwxXst,]+", a)]
            rest = [a for a in args if a not in opts]
            if not rest or not _world_writable_mode(rest[0]):
                continue
            recursive = any(o in ("-R", "--recursive") or (not o.startswith("--") and "R" in o)
                            for o in opts)
            paths = [p.rstrip("/") or "/" for p in rest[1:]]
            system = any(p in _SYSTEM_PATHS or any(p == t or p.startswith(t + "/")
                                                    for t in _SYSTEM_TREES) for p in paths)
            hits.append(HistoryHit(i, f"chmod {rest[0]}", seg[:300], recursive or system))
    return hits
