"""The evidence of one Swarm service, as service-scope checks and renderers see it.

Like :class:`~diagnose.evidence.container.ContainerEvidence`, every view here is parsed from
the bytes the archive writer puts in the bundle (services/<key>/service.json, status.json,
tasks.json, nodes.json, logs/stdout.log, logs/stderr.log), so a live run and `diagnose
analyze` feed the checks identical input.  Nothing here talks to the engine; nothing reads
the clock.

Service logs come through the manager from every node with `details`: each line is
`TIMESTAMP com.docker.swarm.node.id=N,com.docker.swarm.service.id=S,com.docker.swarm.task.id=T
MESSAGE`, so a line can be traced to its task (and so to the task's exit code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from diagnose.evidence import layout
from diagnose.evidence.logs import LogLine, log_window, parse_log
from diagnose.evidence.logwindow import LogCut
from diagnose.evidence.target import CollectedTarget
from diagnose.model.jsonview import as_map, dig
from diagnose.model.times import stamp_key

#: Task states before `running`, in the order swarmkit walks them.
PRE_RUNNING = ("new", "allocated", "pending", "assigned", "accepted", "preparing", "ready",
               "starting")
#: Task states a task never leaves.
TERMINAL = ("complete", "shutdown", "failed", "rejected", "remove", "orphaned")

_DETAIL_KEYS = ("com.docker.swarm.node.id", "com.docker.swarm.service.id",
                "com.docker.swarm.task.id")


def split_details(text: str) -> tuple[dict[str, str], str]:
    """(`details` attributes, message) of one service log line (`{}` when it has none)."""
    head, sep, rest = text.partition(" ")
    if not head.startswith("com.docker.swarm."):
        return {}, text
    attrs: dict[str, str] = {}
    for item in head.split(","):
        key, eq, value = item.partition("=")
        if eq:
            attrs[key] = value
    if not any(k in attrs for k in _DETAIL_KEYS):
        return {}, text
    return attrs, rest if sep else ""


@dataclass(frozen=True)
class Task:
    """One task (current or past) of the service, with its index in tasks.json."""

    index: int
    doc: Mapping[str, Any]

    @property
    def id(self) -> str:
        """Task ID."""
        return str(self.doc.get("ID", ""))

    @property
    def status(self) -> Mapping[str, Any]:
        """`.Status`."""
        return as_map(self.doc.get("Status"))

    @property
    def state(self) -> str:
        """Observed state: new ... running, complete, failed, rejected, shutdown, orphaned."""
        return str(self.status.get("State", ""))

    @property
    def desired(self) -> str:
        """What the orchestrator wants: running, ready (a restart waiting), shutdown..."""
        return str(self.doc.get("DesiredState", ""))

    @property
    def error(self) -> str:
        """`.Status.Err` (why it failed, was rejected or stays pending)."""
        return str(self.status.get("Err") or "")

    @property
    def message(self) -> str:
        """`.Status.Message` (what the agent was doing)."""
        return str(self.status.get("Message") or "")

    @property
    def container_id(self) -> str:
        """The task's container (empty when none was created)."""
        return str(dig(self.status, "ContainerStatus", "ContainerID") or "")

    @property
    def exit_code(self) -> int | None:
        """The container's exit code, once a container existed and ended."""
        cs = as_map(self.status.get("ContainerStatus"))
        code = cs.get("ExitCode")
        if not isinstance(code, int) or isinstance(code, bool) or not cs.get("ContainerID"):
            return None
        return code if self.state in TERMINAL else None

    @property
    def node_id(self) -> str:
        """The node it was assigned to (empty while unassigned)."""
        return str(self.doc.get("NodeID") or "")

    @property
    def slot(self) -> str:
        """Replicated: its slot number; global: its node (one task per node)."""
        slot = self.doc.get("Slot")
        return str(slot) if slot else f"node {self.node_id}"

    @property
    def created(self) -> str:
        """CreatedAt (RFC 3339, padded so that it sorts as text: :func:`stamp_key`)."""
        return stamp_key(str(self.doc.get("CreatedAt", "")))

    @property
    def changed(self) -> str:
        """When its status last changed (`.Status.Timestamp`)."""
        return str(self.status.get("Timestamp") or self.doc.get("UpdatedAt") or "")

    def pointer(self, *parts: str) -> str:
        """JSON pointer into tasks.json (`/3/Status/Err`)."""
        return "/" + "/".join((str(self.index), *parts))


@dataclass(frozen=True)
class ServiceEvidence(CollectedTarget):
    """Everything collected about one Swarm service, read-only."""

    #: Logs given as their window already (see ContainerEvidence.cuts).
    cuts: Mapping[str, LogCut] = field(default_factory=dict)

    @property
    def directory(self) -> str:
        """Bundle-relative directory of this service."""
        return layout.service_dir(self.key)

    # -- the service --------------------------------------------------------------------------
    @cached_property
    def inspect(self) -> Mapping[str, Any]:
        """`docker service inspect` ({} when not collected)."""
        doc = self.json(layout.SERVICE_SPEC)
        return doc if isinstance(doc, Mapping) else {}

    @property
    def spec(self) -> Mapping[str, Any]:
        """`.Spec`."""
        return as_map(self.inspect.get("Spec"))

    @property
    def id(self) -> str:
        """Service ID."""
        return str(self.inspect.get("ID", ""))

    @property
    def name(self) -> str:
        """Service name (the key when unknown)."""
        return str(self.spec.get("Name") or self.key)

    @property
    def container_spec(self) -> Mapping[str, Any]:
        """`.Spec.TaskTemplate.ContainerSpec`."""
        return as_map(dig(self.spec, "TaskTemplate", "ContainerSpec"))

    @property
    def image(self) -> str:
        """The image the tasks run, as the spec names it (with a pinned digest, if any)."""
        return str(self.container_spec.get("Image", ""))

    @property
    def mode(self) -> str:
        """replicated, global, replicated-job or global-job."""
        mode = as_map(self.spec.get("Mode"))
        for key, name in (("Replicated", "replicated"), ("Global", "global"),
                          ("ReplicatedJob", "replicated-job"), ("GlobalJob", "global-job")):
            if key in mode:
                return name
        return "unknown"

    @property
    def replicas(self) -> int | None:
        """Replicas asked for (replicated services only)."""
        n = dig(self.spec, "Mode", "Replicated", "Replicas")
        return n if isinstance(n, int) and not isinstance(n, bool) else None

    @property
    def placement(self) -> Mapping[str, Any]:
        """`.Spec.TaskTemplate.Placement`."""
        return as_map(dig(self.spec, "TaskTemplate", "Placement"))

    @property
    def reservations(self) -> Mapping[str, Any]:
        """`.Spec.TaskTemplate.Resources.Reservations` (NanoCPUs, MemoryBytes...)."""
        return as_map(dig(self.spec, "TaskTemplate", "Resources", "Reservations"))

    @property
    def update_status(self) -> Mapping[str, Any]:
        """`.UpdateStatus` ({} when the service was never updated)."""
        return as_map(self.inspect.get("UpdateStatus"))

    @cached_property
    def service_status(self) -> Mapping[str, Any]:
        """`docker service ls` counts (RunningTasks, DesiredTasks, CompletedTasks), or {}."""
        doc = self.json(layout.SERVICE_STATUS)
        if not isinstance(doc, Mapping):
            return {}
        return as_map(doc.get("ServiceStatus"))

    # -- tasks and nodes ----------------------------------------------------------------------
    @cached_property
    def tasks(self) -> tuple[Task, ...]:
        """Every task the manager still keeps (current and past), in tasks.json order."""
        doc = self.json(layout.SERVICE_TASKS)
        if not isinstance(doc, list):
            return ()
        return tuple(Task(i, t) for i, t in enumerate(doc) if isinstance(t, Mapping))

    @cached_property
    def current(self) -> tuple[Task, ...]:
        """The newest task of each slot (replicated) or node (global): what runs, or tries to."""
        newest: dict[str, Task] = {}
        for t in self.tasks:
            have = newest.get(t.slot)
            if have is None or t.created > have.created:
                newest[t.slot] = t
        return tuple(sorted(newest.values(), key=lambda t: t.index))

    def slot_tasks(self, slot: str) -> tuple[Task, ...]:
        """Every retained task of one slot, newest first."""
        return tuple(sorted((t for t in self.tasks if t.slot == slot),
                            key=lambda t: t.created, reverse=True))

    def task(self, task_id: str) -> Task | None:
        """A task by full ID or unique prefix."""
        found = [t for t in self.tasks if task_id and t.id.startswith(task_id)]
        return found[0] if len(found) == 1 else None

    @cached_property
    def nodes(self) -> tuple[Mapping[str, Any], ...]:
        """`docker node ls` objects (the whole swarm)."""
        doc = self.json(layout.SERVICE_NODES)
        return tuple(n for n in doc if isinstance(n, Mapping)) if isinstance(doc, list) else ()

    def node_index(self, node_id: str) -> int | None:
        """Index of a node in nodes.json."""
        return next((i for i, n in enumerate(self.nodes) if n.get("ID") == node_id), None)

    def node(self, node_id: str) -> Mapping[str, Any]:
        """One node by ID ({} when unknown, e.g. removed from the swarm)."""
        i = self.node_index(node_id)
        return self.nodes[i] if i is not None else {}

    def hostname(self, node_id: str) -> str:
        """A node's hostname (its short ID when unknown; '' for no node)."""
        if not node_id:
            return ""
        return str(dig(self.node(node_id), "Description", "Hostname")
                   or node_id[:12])


    # -- logs ---------------------------------------------------------------------------------
    @cached_property
    def stdout(self) -> tuple[LogLine, ...]:
        """stdout lines of every task (text still carries the details prefix)."""
        return parse_log("stdout", *log_window(self.files, self.cuts, layout.LOG_STDOUT))

    @cached_property
    def stderr(self) -> tuple[LogLine, ...]:
        """stderr lines of every task."""
        return parse_log("stderr", *log_window(self.files, self.cuts, layout.LOG_STDERR))

    def task_log(self, task_id: str) -> tuple[LogLine, ...]:
        """One task's lines, both streams in time order, the details prefix taken off (line
        numbers still point into the stream files)."""
        out: list[LogLine] = []
        for line in (*self.stdout, *self.stderr):
            attrs, message = split_details(line.text)
            if attrs.get("com.docker.swarm.task.id") == task_id:
                out.append(LogLine(line.stream, line.number, line.timestamp, message))
        out.sort(key=lambda ln: stamp_key(ln.timestamp))
        return tuple(out)
