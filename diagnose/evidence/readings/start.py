"""Start failures: why the engine could not start a container (State.Error), and which mounts
would stop its next start.

Error texts of every runc/Docker generation are matched (taxonomy section 1.5): runc <= 1.0
quoted nested errors (`caused "exec: \\"x\\": ..."`), later ones do not, and :func:`unescape`
folds both forms before matching.  Create-time (daemon-set) failures land in State.Error with
exit 126/127/128 and the container stays `created` (or `exited` when it had run before).
Pure functions of one container's evidence (and of plain strings, for the version matrix).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.entrypoint import Entrypoint
from diagnose.model.causes import Category, Cause, Unclaimed
from diagnose.model.jsonview import as_maps
from diagnose.model.lazyre import lazy_compile

#: Start-failure categories that have their own D1xx check (the rest go to `start-failed`,
#: except `no-space-left`, which the log-stage check of that name owns).
START_CHECKED: frozenset[Category] = frozenset({
    Cause.ENTRYPOINT_NOT_FOUND, Cause.ENTRYPOINT_NOT_EXECUTABLE, Cause.EXEC_FORMAT_ERROR,
    Cause.INVALID_USER, Cause.PORT_ALREADY_ALLOCATED, Cause.NETWORK_NOT_FOUND,
    Cause.MOUNT_SOURCE_MISSING, Cause.BIND_MOUNT_TYPE_MISMATCH, Cause.LOGGING_DRIVER_FAILURE,
    Cause.NO_SPACE_LEFT, Cause.GPU_RUNTIME_MISSING,
})


def unescape(text: str) -> str:
    """Fold the backslash-escaped quotes of nested runc errors (`\\"`, `\\\\\\"`) to `"`."""
    return re.sub(r'\\+"', '"', text)


def refine_start_category(category: Category, probe: Entrypoint) -> Category:
    """Correct a start-failure category with the probe where the error text misleads.

    runc's PATH lookup skips files that are not executable, so a command that exists in a
    PATH directory with mode 0644 fails as `executable file not found in $PATH`: that is
    `entrypoint-not-executable`, not `entrypoint-not-found`.
    """
    if category == Cause.ENTRYPOINT_NOT_FOUND and probe.exists is True and (
            probe.executable is False or probe.is_dir):
        return Cause.ENTRYPOINT_NOT_EXECUTABLE
    return category


#: The layers the engine, containerd and runc wrap around the cause of a failed start (in
#: State.Error, and in a Swarm task's error: `starting container failed: ...`).
_WRAPPERS = lazy_compile(
    r"^(?:.*?(?:failed to create task for container|failed to create shim task|"
    r"OCI runtime (?:create|start) failed|runc (?:create|start) failed|"
    r"unable to start container process|starting container process caused|"
    r"starting container failed|"
    r"error during container init|container init caused|oci runtime error|"
    r"failed to set up container networking)\s*:?\s*)+", re.IGNORECASE)


def essential_error(error: str) -> str:
    """A start error without the runtime's wrapper prefixes and the trailing `: unknown`
    (`starting container failed: failed to create shim task: OCI runtime create failed: ...:
    exec: "x": executable file not found in $PATH: unknown` -> `exec: "x": executable file
    not found in $PATH`)."""
    text = _WRAPPERS.sub("", unescape(error).strip())
    text = re.sub(r"(?::\s*unknown)+$", "", text).strip().strip('"')
    return text or error


#: category -> pattern over State.Error.  Order matters: the first match wins.
START_ERROR_PATTERNS: tuple[tuple[Category, re.Pattern[str]], ...] = tuple(
    (name, lazy_compile(rx, re.IGNORECASE))
    for name, rx in (
        # `--gpus` (DeviceRequests) on an engine without the NVIDIA runtime/toolkit; the
        # runtime named outright is not registered (20.10 and later wordings).
        (Cause.GPU_RUNTIME_MISSING,
         r"could not select device driver \S* ?with capabilities|"
         r"(?:unknown or invalid runtime name|Unknown runtime specified):? nvidia"),
        (Cause.PORT_ALREADY_ALLOCATED,
         r"port is already allocated|address already in use|failed to bind host port|"
         r"Ports are not available|failed programming external connectivity|EADDRINUSE"),
        (Cause.NETWORK_NOT_FOUND,
         r"network [^ ]+ not found|could not find a network matching|No such network"),
        (Cause.INVALID_USER,
         r"unable to find (?:user|group) |no matching entries in (?:passwd|group) file"),
        (Cause.BIND_MOUNT_TYPE_MISMATCH,
         r"Are you trying to mount a directory onto a file|"
         r"error mounting .* not a directory|mounting \"[^\"]*\" to rootfs .*not a directory"),
        (Cause.MOUNT_SOURCE_MISSING,
         r"bind source path does not exist|error while creating mount source path|"
         r"invalid mount config for type \"bind\"|Mounts denied|"
         r"error mounting .*: no such file or directory|"
         r"error evaluating symlinks from mount source|"
         r"stat [^:]+: no such file or directory.*mount"),
        (Unclaimed.WORKDIR_INVALID,
         r"chdir to cwd|working directory .* is invalid|Cannot mkdir: .* is not a directory"),
        (Unclaimed.HOOK_FAILED, r"error running (?:\w+ )?hook"),
        (Cause.LOGGING_DRIVER_FAILURE, r"failed to initialize logging driver"),
        (Cause.ENTRYPOINT_NOT_FOUND,
         r"exec: \"[^\"]*\": (?:executable file not found in \$PATH|"
         r"stat [^:]*: no such file or directory|"
         r"stat [^:]*: not a directory|not a directory)|"
         r"Container command '[^']*' not found or does not exist"),
        (Cause.ENTRYPOINT_NOT_EXECUTABLE,
         r"exec: \"[^\"]*\": (?:permission denied|is a directory)"),
        (Cause.NO_SPACE_LEFT, r"no space left on device"),
        (Cause.EXEC_FORMAT_ERROR, r"exec format error"),
    )
)


@dataclass(frozen=True)
class StartFailure:
    """The engine tried to start the container and failed (State.Error is set, or Podman's
    OCI runtime log holds the error: see ContainerEvidence.start_error)."""

    category: Category
    error: str
    exit_code: int | None
    ever_ran: bool
    #: Where the error was read: `State.Error` or `the OCI runtime log (oci-log)`.
    source: str = "State.Error"


def start_failure(c: ContainerEvidence) -> StartFailure | None:
    """Classify the start error (State.Error), when the latest start failed in the engine."""
    error = c.start_error
    # A dead container's State.Error is its failed removal, not a failed start.
    if not error or c.status in ("dead", "removing"):
        return None
    category = refine_start_category(classify_start_error(error), c.entrypoint)
    return StartFailure(category, error, c.exit_code, c.ever_started, c.start_error_source)


def classify_start_error(error: str) -> Category:
    """The category of a start error text (any Docker/runc generation), `other` if unknown."""
    text = unescape(error)
    return next((name for name, rx in START_ERROR_PATTERNS if rx.search(text)),
                Unclaimed.OTHER)


def quoted_command(error: str) -> str | None:
    """The command runc could not exec, from `exec: "X": ...` in an error text."""
    m = re.search(r'exec: "([^"]*)"', unescape(error))
    return m.group(1) if m else None


@dataclass(frozen=True)
class MissingMount:
    """A `--mount type=bind` source that does not exist on the engine host."""

    index: int
    source: str
    destination: str
    checked: bool


def strict_bind_sources(c: ContainerEvidence) -> set[str]:
    """Sources of `--mount type=bind` mounts: the engine refuses to start when they are
    missing (the `-v` form instead creates an empty directory)."""
    return {str(m.get("Source")) for m in as_maps(c.host_config.get("Mounts"))
            if m.get("Type") == "bind" and m.get("Source")}


def missing_bind_mounts(c: ContainerEvidence) -> list[MissingMount]:
    """Strict bind mounts whose host source is missing (checked on a local engine), or, when
    the host could not be checked, that the engine's unreadable filesystem points at."""
    strict = strict_bind_sources(c)
    readable = c.entrypoint.readable
    out = []
    for i, m in enumerate(c.mounts):
        src = str(m.get("Source") or "")
        if m.get("Type") != "bind" or src not in strict:
            continue
        if m.get("source_exists") is False:
            out.append(MissingMount(i, src, str(m.get("Destination") or ""), True))
        elif "source_exists" not in m and readable is False:
            out.append(MissingMount(i, src, str(m.get("Destination") or ""), False))
    return out


def start_blocked_by_mount(c: ContainerEvidence) -> list[MissingMount]:
    """Missing strict bind sources of a container that is not running: its next start fails
    with `invalid mount config for type "bind": bind source path does not exist`, which
    Docker 20.10 returns to the caller without recording it in State.Error."""
    if c.status in ("running", "paused", "restarting", "removing", "dead"):
        return []
    return missing_bind_mounts(c)
