"""The public surface for check authors, built-in and third-party: everything a check imports.

A check is a function of one piece of evidence (a container, a Swarm service, or the whole
run's snapshot) that yields findings; it is marked with :func:`check` and documented by its
module docstring (README, "Writing a check").  It imports from this module only: the evidence
views, the finding types, the causes, the bundle layout, and the readings that tell
look-alikes apart and word what every finding of a kind says.  Nothing here talks to the
engine or reads the clock; import-linter keeps `diagnose.checks` off everything else.

The names are grouped by where they come from, so that a reader of a check can find one:
:mod:`diagnose.model` (findings, checks, causes, text), :mod:`diagnose.evidence` (the views)
and :mod:`diagnose.evidence.readings` (by subject: common, lifecycle, start, exec, exit, log
signatures and facts, swarm, engine, cleanup, security).
"""

from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.engine import EngineFacts, HostFacts
from diagnose.evidence.entrypoint import Entrypoint, ProbedCommand, ProbedFile, ShellCommand
from diagnose.evidence.logs import LogLine
from diagnose.evidence.readings.cleanup import (
    BUILTIN_NETWORKS,
    Litter,
    anonymous_volume,
    build_cache,
    dangling_images,
    dangling_volumes,
    exited_containers,
    removable_network,
    totals_finding,
    unused_networks,
)
from diagnose.evidence.readings.common import (
    argv,
    defunct_in_top,
    event_attr,
    event_evidence,
    event_time,
    events_with,
    grep,
    inspect_evidence,
    log_evidence,
    logs_command,
    override_command,
    q,
    signal_name,
    signal_of_event,
    signal_of_exit,
    ulimit,
)
from diagnose.evidence.readings.crash import (
    DEFAULT_SHM,
    AbortReport,
    ShmFacts,
    abort_report,
    aborted_as_pid1,
    heap_limit_mib,
    shm_facts,
)
from diagnose.evidence.readings.engine import (
    DISK_ERROR_SHARE,
    DISK_WARNING_BYTES,
    DISK_WARNING_SHARE,
    api_minor,
    batched_commands,
    build_cache_reclaimable,
    container_sizes,
    data_root,
    df_summary,
    engine_evidence,
    free_share,
    image_sizes,
    listing,
    reclaim_severity,
    short_id,
    volume_sizes,
)
from diagnose.evidence.readings.exec_failure import ExecDiagnosis, exec_diagnosis
from diagnose.evidence.readings.exit import (
    CRASH_SIGNALS,
    LOG_PATTERNS,
    Kill,
    KillKind,
    Sender,
    decisive_lines,
    explained_exit,
    kernel_oom,
    kill_story,
    log_severity,
    unconfirmed_oom,
)
from diagnose.evidence.readings.lifecycle import (
    QUICK_SECONDS,
    SHELLS,
    command_text,
    ended,
    engine_stopped_it,
    events_fact,
    exit_evidence,
    exit_meaning,
    last_text,
    latest_run_events,
    latest_run_lines,
    lifecycle_evidence,
    pid1_is_shell,
    run_facts,
    shell_script,
    uptime_seconds,
)
from diagnose.evidence.readings.log_facts import (
    Endpoint,
    MountHit,
    container_with_ip,
    continuation,
    endpoint_in,
    env_state,
    env_vars_in,
    hits_evidence,
    hits_facts,
    mount_for,
    network_members,
    network_mode,
    network_others,
    paths_in,
    port_in,
    published_ports,
)
from diagnose.evidence.readings.log_patterns import (
    data_dir,
    names_shm,
    pids_limited,
    stale_versions,
)
from diagnose.evidence.readings.log_signatures import Hits, scan_log, strip_stamp
from diagnose.evidence.readings.platform import PlatformMismatch, platform_mismatch
from diagnose.evidence.readings.restart import EngineRestart, engine_restart
from diagnose.evidence.readings.security import (
    by_image_id,
    dangerous_caps,
    host_namespaces,
    host_risks,
    insecure_fetches,
    is_privileged,
    on_default_bridge,
    parse_ref,
    provenance,
    root_user,
    socket_mounts,
    top_users,
    userns_remapped,
    world_writable_steps,
)
from diagnose.evidence.readings.shadow import Shadow, image_steps, shadowed
from diagnose.evidence.readings.start import (
    START_CHECKED,
    StartFailure,
    classify_start_error,
    essential_error,
    missing_bind_mounts,
    quoted_command,
    start_blocked_by_mount,
    start_failure,
    unescape,
)
from diagnose.evidence.readings.start_facts import (
    ExecFacts,
    Failure,
    command_evidence,
    dockerfile_path,
    entrypoint_evidence,
    exec_facts_for,
    failure_facts,
    failure_for,
    image_ref,
    mount_over,
    override_commands,
    probe_evidence,
    probe_step,
    start_evidence,
    state_facts,
)
from diagnose.evidence.readings.swarm import (
    IMAGE_ERROR,
    converging,
    counted,
    current_of,
    desired_count,
    down_nodes_holding_tasks,
    exit_code_of,
    is_running,
    newest,
    node_evidence,
    node_state,
    node_usable,
    placement_reasons,
    shortfall_cause,
    spec_evidence,
    task_evidence,
    task_kind,
    tasks_of,
    unavailable_nodes,
    unmet_constraints,
)
from diagnose.evidence.readings.throttle import (
    STARVED_SHARE,
    Throttle,
    cpu_quota,
    probe_starved,
    probe_timeouts,
    throttle,
)
from diagnose.evidence.service import ServiceEvidence, Task
from diagnose.evidence.snapshot import Snapshot
from diagnose.model.causes import Category, Cause, Unclaimed
from diagnose.model.checks import check
from diagnose.model.findings import Confidence, Evidence, Finding, Remediation, Severity, fact
from diagnose.model.jsonview import as_list, as_map, as_maps, dig
from diagnose.model.lazyre import lazy_compile
from diagnose.model.text import GiB, excerpt, human_bytes, human_seconds
from diagnose.model.times import epoch_stamp, parse_time

__all__ = [
    # model: checks, findings, causes, text
    "check", "Severity", "Confidence", "Finding", "Evidence", "Remediation", "fact",
    "Cause", "Unclaimed", "Category",
    "lazy_compile", "excerpt", "human_bytes", "human_seconds", "GiB", "epoch_stamp",
    "parse_time", "as_list", "as_map", "as_maps", "dig",
    # evidence: the views and the bundle layout
    "ContainerEvidence", "ServiceEvidence", "Task", "Snapshot", "EngineFacts", "HostFacts",
    "LogLine", "Entrypoint", "ProbedCommand", "ProbedFile", "ShellCommand", "layout",
    # readings: common
    "argv", "event_attr", "event_evidence", "event_time", "events_with", "grep",
    "inspect_evidence", "log_evidence", "logs_command", "override_command", "q",
    "signal_name", "signal_of_event", "signal_of_exit", "ulimit", "defunct_in_top",
    # readings: lifecycle
    "QUICK_SECONDS", "SHELLS", "command_text", "ended", "engine_stopped_it", "events_fact",
    "exit_evidence", "exit_meaning", "last_text", "latest_run_events", "latest_run_lines",
    "lifecycle_evidence", "pid1_is_shell", "run_facts", "shell_script", "uptime_seconds",
    # readings: start and exec
    "START_CHECKED", "StartFailure", "classify_start_error", "essential_error",
    "missing_bind_mounts", "quoted_command", "start_blocked_by_mount", "start_failure",
    "unescape", "ExecDiagnosis", "exec_diagnosis", "Failure", "command_evidence",
    "dockerfile_path", "entrypoint_evidence", "ExecFacts", "exec_facts_for", "failure_facts",
    "failure_for", "image_ref", "mount_over", "override_commands", "probe_evidence",
    "probe_step", "start_evidence", "state_facts",
    # readings: kill and exit cause
    "CRASH_SIGNALS", "LOG_PATTERNS", "Kill", "KillKind", "Sender", "decisive_lines",
    "explained_exit", "kernel_oom", "kill_story", "log_severity", "unconfirmed_oom",
    # readings: crashes (abort, bus error)
    "DEFAULT_SHM", "AbortReport", "ShmFacts", "abort_report", "aborted_as_pid1",
    "heap_limit_mib", "shm_facts", "names_shm", "pids_limited", "data_dir", "stale_versions",
    # readings: logs
    "Hits", "scan_log", "strip_stamp", "Endpoint", "MountHit", "container_with_ip",
    "continuation", "endpoint_in", "env_state", "env_vars_in", "hits_evidence", "hits_facts",
    "mount_for", "network_members", "network_mode", "network_others", "paths_in", "port_in",
    "published_ports",
    # readings: a mount that hides the image's content
    "Shadow", "image_steps", "shadowed",
    # readings: CPU throttling and health probes
    "STARVED_SHARE", "Throttle", "cpu_quota", "probe_starved", "probe_timeouts", "throttle",
    # readings: the engine going away
    "EngineRestart", "engine_restart",
    # readings: platform
    "PlatformMismatch", "platform_mismatch",
    # readings: swarm
    "IMAGE_ERROR", "converging", "counted", "current_of", "desired_count",
    "down_nodes_holding_tasks", "exit_code_of", "is_running", "newest", "node_evidence",
    "node_state", "node_usable", "placement_reasons", "shortfall_cause", "spec_evidence",
    "task_evidence", "task_kind", "tasks_of", "unavailable_nodes", "unmet_constraints",
    # readings: engine and host
    "DISK_ERROR_SHARE", "DISK_WARNING_BYTES", "DISK_WARNING_SHARE", "api_minor",
    "batched_commands", "build_cache_reclaimable", "container_sizes", "data_root",
    "df_summary", "engine_evidence", "free_share", "image_sizes", "listing",
    "reclaim_severity", "short_id", "volume_sizes",
    # readings: cleanup (full lists, or a container run's totals)
    "BUILTIN_NETWORKS", "Litter", "anonymous_volume", "build_cache", "dangling_images",
    "dangling_volumes", "exited_containers", "removable_network", "totals_finding",
    "unused_networks",
    # readings: security and hygiene
    "by_image_id", "dangerous_caps", "host_namespaces", "host_risks", "insecure_fetches",
    "is_privileged", "on_default_bridge", "parse_ref", "provenance", "root_user",
    "socket_mounts", "top_users", "userns_remapped", "world_writable_steps",
]
