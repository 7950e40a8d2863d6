"""The causes readings name: every check id a reading returns or compares, as a typed name.

Readings tell look-alikes apart and name the one check that owns a failure (a start error's
category, an exec failure's cause, the log signature that explains an exit, which check
explains a Swarm service's shortfall); checks ask them and compare.  They talk through these
names, never through bare strings, and tests/unit/model/test_causes.py proves that every
:class:`Cause` is the id of a registered check and that no :class:`Unclaimed` one is.
Both are `StrEnum`s: a member is its id wherever a string is (JSON, reports, dict keys).
"""

from __future__ import annotations

import enum


class Cause(enum.StrEnum):
    """A cause that a registered check of the same id reports."""

    # the container's own state
    DEAD = "dead"
    # start failures (State.Error) and exec failures
    ENTRYPOINT_NOT_FOUND = "entrypoint-not-found"
    ENTRYPOINT_NOT_EXECUTABLE = "entrypoint-not-executable"
    BAD_SHEBANG_CRLF = "bad-shebang-crlf"
    SHEBANG_INTERPRETER_MISSING = "shebang-interpreter-missing"
    MISSING_DYNAMIC_LOADER = "missing-dynamic-loader"
    EXEC_FORMAT_ERROR = "exec-format-error"
    INVALID_USER = "invalid-user"
    PORT_ALREADY_ALLOCATED = "port-already-allocated"
    NETWORK_NOT_FOUND = "network-not-found"
    MOUNT_SOURCE_MISSING = "mount-source-missing"
    BIND_MOUNT_TYPE_MISMATCH = "bind-mount-type-mismatch"
    LOGGING_DRIVER_FAILURE = "logging-driver-failure"
    IMAGE_PLATFORM_MISMATCH = "image-platform-mismatch"
    GPU_RUNTIME_MISSING = "gpu-runtime-missing"
    VOLUME_SHADOWS_IMAGE_CONTENT = "volume-shadows-image-content"
    # how it exited
    OOM_KILLED = "oom-killed"
    KILLED_AFTER_STOP_TIMEOUT = "killed-after-stop-timeout"
    SEGFAULT = "segfault"
    KILLED_BY_SIGNAL = "killed-by-signal"
    COMMAND_NOT_FOUND = "command-not-found"
    MISSING_SHARED_LIBRARY = "missing-shared-library"
    APP_EXIT_ERROR = "app-exit-error"
    EXITED_IMMEDIATELY = "exited-immediately"
    # running but unwell
    HEALTH_CHECK_TIMEOUT = "health-check-timeout"
    ABORTED = "aborted"
    BUS_ERROR_SHM_EXHAUSTED = "bus-error-shm-exhausted"
    HOST_OR_DAEMON_RESTART = "host-or-daemon-restart"
    # what its logs say (log signatures)
    MISSING_ENV_VAR = "missing-env-var"
    READ_ONLY_FILESYSTEM = "read-only-filesystem"
    NO_SPACE_LEFT = "no-space-left"
    PERMISSION_DENIED = "permission-denied"
    ADDRESS_IN_USE = "address-in-use"
    DNS_RESOLUTION_FAILURE = "dns-resolution-failure"
    DEPENDENCY_UNREACHABLE = "dependency-unreachable"
    TOO_MANY_OPEN_FILES = "too-many-open-files"
    FORK_FAILED = "fork-failed"
    PIDS_LIMIT_REACHED = "pids-limit-reached"
    STALE_DATA_VOLUME = "stale-data-volume"
    BIND_TO_LOCALHOST = "bind-to-localhost"
    # Swarm services
    TASK_FAILING = "task-failing"
    NO_SUITABLE_NODE = "no-suitable-node"
    IMAGE_UNAVAILABLE = "image-unavailable"
    NODE_DOWN = "node-down"


class Unclaimed(enum.StrEnum):
    """A category no check of its own claims (`start-failed` reports the start errors among
    them, with the engine's words)."""

    WORKDIR_INVALID = "workdir-invalid"
    HOOK_FAILED = "hook-failed"
    OTHER = "other"
    #: An exec failure the evidence cannot tell apart.
    EXEC_FAILED = "exec-failed"


#: What a start error or an exec failure is (the first match of the readings).
Category = Cause | Unclaimed
