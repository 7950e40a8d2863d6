"""`diagnose watch`: follow the engine's events and write a bundle the moment a container fails.

Two threads.  The feed thread blocks on the engine's event stream (diagnose/collect/events.py:
reconnects and replays what it missed), keeps only the events of the selected containers,
remembers each one's latest inspect (taken at `create`/`start`, bounded) and hands the events
over.  The main loop runs the incident rules (diagnose/evidence/incidents.py) on them and, for
each incident, runs exactly what `diagnose CONTAINER` runs (:func:`run_inspected`), prints one
line (or one JSON line), bounds the bundles on disk (`--keep`) and runs the `--exec` hook.

A container removed before it could be collected (`docker run --rm`) is diagnosed from what
was seen: the inspect taken at its start, with the state of its end written in from its `die`
event; its logs and the rest are then recorded as missing (the collectors say "No such
container"), and the incident line says so.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker.errors import DockerException
from requests.exceptions import RequestException

from diagnose.bundle.writer import check_output_dir
from diagnose.collect.connect import connect, engine_error
from diagnose.collect.events import EventFeed, inspect_or_none, selected
from diagnose.collect.follow import Follower
from diagnose.collect.journal import Journal
from diagnose.collect.targets import parse_filters
from diagnose.evidence.incidents import (
    UNSTARTED,
    Incident,
    Rules,
    Tracker,
    attributes,
    container_id,
)
from diagnose.model import interrupts
from diagnose.model.errors import DiagnoseError, UsageError
from diagnose.model.escape import one_line
from diagnose.model.options import Progress, RunOptions
from diagnose.model.times import parse_time
from diagnose.runs.hook import run_hook, stop_hooks
from diagnose.runs.live import run_inspected
from diagnose.runs.sessions import PROJECT_LABEL, endpoints
from diagnose.runs.watched import ended, iso, prune, restarts, started_at

#: Inspects remembered (latest per container; the least recently seen go first).
MAX_INSPECTS = 256
#: The feed thread's note that it failed (its exception follows).
FAILED = "diagnose-watch-feed-failed"
#: `--rm` containers whose logs are followed at once.
MAX_FOLLOWED = 32


@dataclass(frozen=True)
class WatchOptions:
    """What `diagnose watch` was asked for."""

    run: RunOptions
    rules: Rules = field(default_factory=Rules)
    keep: int | None = None
    keep_bytes: int | None = None
    json: bool = False
    hook: tuple[str, ...] = ()
    hook_timeout: float = 60.0


class Watch:
    """One `diagnose watch` process."""

    def __init__(self, opts: WatchOptions, say: Progress, out: Callable[[str], None]) -> None:
        self.opts, self.say, self.out = opts, say, out
        self.label, self.endpoint = endpoints(opts.run)[0]
        self.tracker = Tracker(opts.rules)
        self.inspects: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self.dies: dict[str, dict[str, Any]] = {}
        self.at_die: dict[str, dict[str, Any] | None] = {}
        self.wanted: collections.OrderedDict[str, bool] = collections.OrderedDict()
        self.filters = parse_filters(opts.run.filters)
        if opts.run.project:
            self.filters.setdefault("label", []).append(f"{PROJECT_LABEL}={opts.run.project}")
        self.q: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=10_000)
        # The engine sends only events of containers with a label the selection requires.
        pre = ({"label": self.filters["label"][:1]}
               if "label" in self.filters and not opts.run.targets else {})
        self.feed = EventFeed(self.endpoint, opts.run.timeout, say, on_back=self.reconcile,
                              filters=pre)
        #: Containers last seen running (a start with no die since): what a reconnect checks.
        self.running: collections.OrderedDict[str, str] = collections.OrderedDict()
        self.client: Any = None
        self.journal: Journal | None = None  # opened by run(), once the engine answered
        self.redactor: Any = None
        self.followers: dict[str, Follower] = {}
        self.dropped = 0  # incidents over --rate, said so far
        self.redactions = 0

    def run(self) -> int:
        """Watch until stopped (a signal ends the process)."""
        check_output_dir(self.opts.run.output_dir)  # a bad -o fails now, not at an incident
        self.client = connect(self.endpoint, self.opts.run.timeout, 4)
        try:
            self.client.api.ping()
        except (DockerException, RequestException) as exc:
            raise engine_error(self.endpoint, exc) from exc
        interrupts.at_stop(stop_hooks)
        self.journal = _journal(self.opts.run.journal)
        if self.journal is not None:
            interrupts.at_stop(self.journal.close)  # a line being written is finished first
        journal = f"; journal in {self.journal.directory}" if self.journal else ""
        self.say(f"watching {self.endpoint.host} ({self.endpoint.source}): "
                 f"{self.selection()}; bundles go to {self.opts.run.output_dir}{journal}")
        threading.Thread(target=self.follow, daemon=True, name="watch-events").start()
        while True:
            due = self.tracker.next_due()
            try:
                event = self.q.get(timeout=None if due is None else max(0.0, due - time.time()))
            except queue.Empty:
                incidents = self.tracker.due(time.time())
            else:
                if event.get("Type") == FAILED:
                    raise event["error"]
                cid = container_id(event)
                incidents = self.tracker.feed(event, time.time(), restarts(self.inspects.get(cid)))
            if self.tracker.dropped > self.dropped:
                self.say(f"warning: {self.tracker.dropped - self.dropped} incident(s) over "
                         f"--rate {self.opts.rules.rate} a minute dropped")
                self.dropped = self.tracker.dropped
            for incident in incidents:
                self.diagnose(incident)

    def selection(self) -> str:
        """The selection in words."""
        run = self.opts.run
        parts = [*run.targets, *(f"--filter {f}" for f in run.filters)]
        if run.project:
            parts.append(f"--project {run.project}")
        return " ".join(parts) if parts else "every container"

    def follow(self) -> None:
        """The feed thread; what ends it unexpectedly ends the watch (never a silent watch
        that no longer follows anything)."""
        try:
            self.follow_events()
        except BaseException as exc:
            self.q.put({"Type": FAILED, "error": exc})

    def follow_events(self) -> None:
        """Selected containers' events to the journal and the main loop."""
        for event in self.feed.events():
            cid = container_id(event)
            if not cid or not self.chosen(cid, event):
                continue
            if self.journal is not None:
                try:
                    self.journal.append(self.redacted(event))
                except OSError as exc:  # a full disk: the bundles matter more
                    self.say(f"warning: journal {self.journal.directory}: {exc}; "
                             "events are no longer journalled")
                    self.journal = None
            action = str(event.get("Action") or "")
            if action in ("create", "start", "restart"):
                self.remember(cid)
                if action == "start":
                    self.follow_logs(cid)
                if action != "create":
                    self.running[cid] = str(attributes(event).get("name") or cid[:12])
                    if len(self.running) > 4 * MAX_INSPECTS:
                        self.running.popitem(last=False)
            elif action == "destroy" and cid in self.followers:
                self.followers[cid].stop()
            elif action == "die":
                self.running.pop(cid, None)
                self.dies[cid] = event
                # The state at the failure, before a restart policy replaces it (the engine
                # waits at least 100 ms) or --rm removes the container.
                self.at_die[cid] = self.inspect_now(cid)
                for kept in (self.dies, self.at_die):
                    if len(kept) > MAX_INSPECTS:
                        kept.pop(next(iter(kept)))
            self.q.put(event)

    def follow_logs(self, cid: str) -> None:
        """An `--rm` container started: keep its logs as they come (the engine removes them
        with it); at most MAX_FOLLOWED at once, the oldest finished ones forgotten first."""
        ins = self.inspects.get(cid) or {}
        if not (ins.get("HostConfig") or {}).get("AutoRemove") or cid in self.followers:
            return
        for old in [k for k, f in self.followers.items() if f.done.is_set()]:
            if len(self.followers) < MAX_FOLLOWED // 2:
                break
            self.followers.pop(old, None)
        if len(self.followers) >= MAX_FOLLOWED:
            return
        tty = bool((ins.get("Config") or {}).get("Tty"))
        self.followers[cid] = Follower(self.endpoint, cid, tty, self.opts.run.max_log_bytes)

    def seen_logs(self, cid: str) -> dict[str, dict[str, bytes]]:
        """The logs followed of a removed container (after the request ended with it)."""
        follower = self.followers.pop(cid, None)
        if follower is None:
            return {}
        follower.done.wait(5)  # the engine ends the request once the logs are copied
        follower.stop()
        return {cid: follower.files()}

    def reconcile(self) -> None:
        """The engine is back: a container that was running and has exited meanwhile made no
        event (dockerd with live-restore does not replay one), so its end is read from its
        inspect and handed on as the `die` (and `oom`) it would have made."""
        for cid, name in list(self.running.items()):
            try:
                ins = inspect_or_none(self.client.api, cid)
            except Exception:  # gone again: the next reconnect looks again
                return
            state = (ins or {}).get("State") or {}
            if ins is None or state.get("Status") not in ("exited", "dead"):
                continue
            self.running.pop(cid, None)
            finished = parse_time(state.get("FinishedAt"))
            nano = int(finished.timestamp() * 1e9) if finished else time.time_ns()
            actor = {"ID": cid, "Attributes": {"name": name,
                                               "exitCode": str(state.get("ExitCode", 0))}}
            made = {"Type": "container", "Actor": actor, "timeNano": nano,
                    "time": nano // 10**9, "Source": "watch-reconnect"}
            if state.get("OOMKilled"):
                self.q.put({**made, "Action": "oom"})
            self.dies[cid] = {**made, "Action": "die"}
            self.q.put(self.dies[cid])

    def redacted(self, event: dict[str, Any]) -> Any:
        """An event as the journal keeps it: redacted with the bundle's rules (its attributes
        carry the container's labels).  A fresh redactor now and then keeps memory flat."""
        from diagnose.redact.redactor import Redactor  # startup: loaded by the first incident

        self.redactions += 1
        if self.redactor is None or self.redactions % 1000 == 0:
            run = self.opts.run
            self.redactor = Redactor(run.redact, run.redact_patterns, run.redact_names)
        return self.redactor.json(event, "watch-journal")

    def chosen(self, cid: str, event: dict[str, Any]) -> bool:
        """Is this container one the watch was asked to follow?  Decided once per container."""
        known = self.wanted.get(cid)
        if known is not None:
            return known
        run = self.opts.run
        name = str(attributes(event).get("name") or "")
        yes = not run.targets and not self.filters
        if run.targets:
            yes = any(t in (name, cid) or (len(t) >= 4 and cid.startswith(t))
                      for t in run.targets)
        if not yes and self.filters:
            try:
                yes = selected(self.client.api, cid, self.filters)
            except Exception:  # the engine went away: the feed reconnects; decide later
                return False
        self.wanted[cid] = yes
        if len(self.wanted) > 4 * MAX_INSPECTS:
            self.wanted.popitem(last=False)
        return yes

    def inspect_now(self, cid: str) -> dict[str, Any] | None:
        """The container's inspect now (None: gone, or the engine did not answer)."""
        try:
            return inspect_or_none(self.client.api, cid)
        except Exception:  # best effort: the incident inspects again
            return None

    def remember(self, cid: str) -> None:
        """Keep the latest inspect of a container that started (for when it is gone)."""
        ins = self.inspect_now(cid)
        if ins is not None:
            self.inspects[cid] = ins
            self.inspects.move_to_end(cid)
            if len(self.inspects) > MAX_INSPECTS:
                self.inspects.popitem(last=False)

    def diagnose(self, incident: Incident) -> None:
        """One incident: the bundle, the line, the bound on disk, the hook."""
        ins = self.inspect_now(incident.id)
        at_die = self.at_die.pop(incident.id, None)
        if ins is not None and at_die is not None and started_at(ins) != started_at(at_die):
            ins = at_die  # a new run has started since: the failed run's state is this one
        if incident.kind == UNSTARTED:
            state = (ins or {}).get("State") or {}
            if state.get("Status") != "created" or not state.get("Error"):
                return  # created and not started (yet): not a failure
            incident.exit_code = state.get("ExitCode")
            if not self.tracker.confirm(incident, time.time()):
                return
        missing = ""
        status = ((ins or {}).get("State") or {}).get("Status")
        if ins is None or status in ("removing", "dead"):
            seen = ins or at_die or self.inspects.get(incident.id)
            if seen is None:
                self.say(f"warning: {incident.name} ({incident.kind}) was removed before "
                         "diagnose could see it; no bundle")
                return
            # `--rm`: the engine removes it right after its die; its state at the end is the
            # die event's, whatever the collectors still find is kept.
            ins = ended(seen, incident, self.dies.get(incident.id))
            missing = ("removed (--rm) as it was collected: its state is from its die event, "
                       "its logs as watch read them while it ran; what the engine no longer "
                       "had is recorded as missing in the bundle")
        # Exactly `diagnose CONTAINER` for this one container (not the watch's selection).
        run = dataclasses.replace(self.opts.run, targets=(incident.id,), select_all=False,
                                  filters=(), project=None,
                                  seen_logs=self.seen_logs(incident.id) if missing else {})
        try:
            result = run_inspected(run, _warnings(self.say), self.label, self.endpoint, ins)
        except DiagnoseError as exc:
            self.say(f"warning: {incident.name}: no bundle: {exc.message}")
            return
        self.report(incident, result, missing)

    def report(self, incident: Incident, result: Any, missing: str) -> None:
        """The incident's line, then the bound on disk and the hook."""
        report = result.report
        target = report.targets[0] if report.targets else None
        verdict = report.verdict
        record = {
            "time": iso(incident.at), "container": target.name if target else incident.name,
            "id": incident.id, "incident": incident.kind, "exit_code": incident.exit_code,
            "runs": incident.runs, "suppressed": incident.suppressed,
            "verdict": verdict.id if verdict else None,
            "code": verdict.code if verdict else None,
            "severity": verdict.severity.label if verdict and verdict.severity else None,
            "title": verdict.title if verdict else None,
            "bundle": str(result.bundle) if result.bundle else None, "missing": missing or None,
        }
        if self.opts.json:
            self.out(json.dumps(record, ensure_ascii=False))
        else:
            said = f"{verdict.code} {verdict.id}: {verdict.title}" if verdict else "no finding"
            extra = f"  [{missing}]" if missing else ""
            fields = (record["time"], record["container"], incident.kind, said, record["bundle"])
            self.out("  ".join(one_line(str(f)) for f in fields) + extra)
        if result.bundle is not None:
            self.prune()
        if self.opts.hook:
            run_hook(self.opts.hook, record, self.opts.hook_timeout, self.say)

    def prune(self) -> None:
        """--keep N / --keep-size: the newest bundles stay in the output directory."""
        if self.opts.keep is not None or self.opts.keep_bytes is not None:
            for old in prune(self.opts.run.output_dir, self.opts.keep, self.opts.keep_bytes):
                self.say(f"removed {old} (--keep)")


def _journal(directory: Path | None) -> Journal | None:
    """The journal, or a usage error saying why it cannot be kept there."""
    if directory is None:
        return None
    try:
        return Journal(directory)
    except OSError as exc:
        raise UsageError(f"cannot keep the event journal in {directory}: "
                         f"{exc.strerror or exc}", "give --journal DIR") from None


def _warnings(say: Progress) -> Progress:
    """A run's progress, for watch: only its warnings reach stderr."""
    def progress(text: str) -> None:
        if text.startswith("warning"):
            say(text)
    return progress


def watch(opts: WatchOptions, say: Progress, out: Callable[[str], None]) -> int:
    """Run `diagnose watch` until a signal ends it."""
    return Watch(opts, say, out).run()
