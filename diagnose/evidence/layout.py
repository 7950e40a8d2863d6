"""The bundle layout: every path the archive writer and the snapshot reader agree on.

One module owns the names so that the writer (collection side) and the reader (offline
`diagnose analyze`) can never drift apart.
"""

from __future__ import annotations

import re

BUNDLE_SCHEMA = "diagnose-bundle/1"

MANIFEST = "manifest.json"
#: What the bundle is and which file to open first; right after the manifest.
README = "README.txt"
FINDINGS = "findings.json"
SUMMARY_MD = "summary.md"
SUMMARY_HTML = "summary.html"

ENGINE_DIR = "engine"
ENGINE_VERSION = "engine/version.json"
ENGINE_INFO = "engine/info.json"
ENGINE_DF = "engine/df.json"
#: When the local engine's dockerd process started (psutil): the API does not say.
ENGINE_PROCESS = "engine/process.json"
# What the cleanup checks read (bounded lists from the low-level list endpoints).
ENGINE_IMAGES = "engine/images.json"
ENGINE_CONTAINERS = "engine/containers.json"
ENGINE_VOLUMES = "engine/volumes.json"
ENGINE_NETWORKS = "engine/networks.json"
HOST_FACTS = "host/host.json"

CONTAINERS_DIR = "containers"
#: A run over several engines puts each engine's files under engines/<label>/.
ENGINES_DIR = "engines"

# Files inside one container's directory (containers/<key>/...).
INSPECT = "inspect.json"
LOG_STDOUT = "logs/stdout.log"
LOG_STDERR = "logs/stderr.log"
TOP = "top.json"
PROCESSES = "processes.json"
IMAGE_INSPECT = "image/inspect.json"
IMAGE_HISTORY = "image/history.json"
EVENTS = "events.json"
DIFF = "diff.json"
STATS = "stats.json"
NETWORKS = "networks.json"
MOUNTS = "mounts.json"
ENTRYPOINT = "entrypoint.json"
PROBE = "probe.json"
PORTS = "ports.json"
#: What the engine keeps on its host but not in its API (Podman: the OCI runtime's log of a
#: failed start, the kernel's OOM-kill records): diagnose/collect/podman.py.
RUNTIME = "runtime.json"
#: What the redaction stage found that checks need: the weak secrets of inspect.json (where
#: they stood and why they are weak; never a value).  Only written when there are some.
REDACTION = "redaction.json"
ERRORS_DIR = "errors"

SERVICES_DIR = "services"
# Files inside one Swarm service's directory (services/<key>/...); its logs use the container
# names above (logs/stdout.log, logs/stderr.log), from every task on every node.
SERVICE_SPEC = "service.json"
SERVICE_STATUS = "status.json"
SERVICE_TASKS = "tasks.json"
SERVICE_NODES = "nodes.json"

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def safe_component(name: str, fallback: str = "unnamed") -> str:
    """Turn a container or label name into one safe archive path component.

    Container names are already `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, but names from labels, contexts
    and hosts are not: anything else becomes `_`, and `.`/`..` can never escape the root.
    """
    cleaned = _UNSAFE.sub("_", name.lstrip("/")).strip("._") or fallback
    return cleaned[:128]


def container_dir(key: str) -> str:
    """Bundle-relative directory of one target."""
    return f"{CONTAINERS_DIR}/{key}"


def split_engine(path: str) -> tuple[str, str]:
    """(engine prefix, rest) of a bundle path: ('engines/a/', 'containers/x/inspect.json') for
    a several-engine bundle's member, ('', path) otherwise."""
    if path.startswith(ENGINES_DIR + "/") and path.count("/") >= 2:
        label, _, rest = path[len(ENGINES_DIR) + 1:].partition("/")
        return f"{ENGINES_DIR}/{label}/", rest
    return "", path


def service_dir(key: str) -> str:
    """Bundle-relative directory of one Swarm service (also its collectors' owner)."""
    return f"{SERVICES_DIR}/{key}"


def error_file(collector: str) -> str:
    """Where a collector's traceback goes, relative to its owner's directory."""
    return f"{ERRORS_DIR}/{safe_component(collector)}.txt"
