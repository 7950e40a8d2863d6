"""D209: The main process aborted itself (SIGABRT): a fatal error it detected.

What went wrong
    The program called `abort()` after finding something it could not go on with, and said
    what on stderr: glibc's heap checks (`free(): double free detected in tcache 2`,
    `double free or corruption (fasttop)`, `malloc(): corrupted top size`), a failed
    `assert()` (`Assertion `workers > 0' failed.`), an uncaught C++ exception (`terminate
    called after throwing an instance of 'std::runtime_error'` with its `what():` line), a
    buffer overflow caught by the C library (`*** stack smashing detected ***`), Python's
    `Fatal Python error:`, or Node.js reaching its own V8 heap limit (`FATAL ERROR: Reached
    heap limit Allocation failed - JavaScript heap out of memory`).

    Exit code 134 = 128 + 6 (SIGABRT) when the program runs under `--init` or a shell.  When
    the program is PID 1 of the container itself, the kernel ignores its own SIGABRT (a PID
    namespace's init cannot be killed by a signal it has no handler for), glibc's `abort()`
    falls through to its last resort and faults: the container exits 139, like a segfault.
    The abort message at the end of the log tells the two apart.

    A 134 with no message (a process that sent itself SIGABRT, or aborted without a word) is
    still an abort; nothing more can be said about why without a core dump.  When the engine
    no longer holds the container's events, a `docker kill -s ABRT` cannot be ruled out and
    the finding says so (confidence medium).

How to confirm by hand
    docker inspect -f '{{.State.ExitCode}} {{.State.OOMKilled}} {{.HostConfig.Init}}' NAME
    docker logs --tail 50 NAME
    docker run --rm --init --ulimit core=-1 --entrypoint sh IMAGE   (reproduce, get a core)

Look-alikes told apart
    `oom-killed`: the kernel OOM killer ends a process with SIGKILL (137, OOMKilled=true, an
    `oom` event).  Node's `JavaScript heap out of memory` is not that: V8 stops at its own heap
    limit (`--max-old-space-size`, NODE_OPTIONS, or V8's default), which may be far below the
    container's memory limit; the finding shows both.  `segfault`: a 139 whose log does not end
    in an abort message.  `killed-by-signal`: a SIGABRT sent by `docker kill -s ABRT`.

Fix
    Read the message: fix the double free or assertion in the code (run it under valgrind or
    AddressSanitizer), catch or avoid the exception; for Node.js raise the heap limit
    (`NODE_OPTIONS=--max-old-space-size=MiB`, below the container's `--memory`) or fix the
    leak.  Run with `--init` so that the exit code says 134 and core dumps (`--ulimit
    core=-1`) can be written.
"""

from __future__ import annotations

from collections.abc import Iterator

from diagnose.api import (abort_report, AbortReport, command_text, Confidence, decisive_lines,
                          ended, events_fact, exit_evidence, explained_exit, heap_limit_mib,
                          inspect_evidence, kill_story, latest_run_lines, lifecycle_evidence,
                          log_evidence, logs_command, q, run_facts, Sender, Cause, check,
                          ContainerEvidence, fact, Finding, Remediation, Severity)

MIB = 1024 * 1024


def _memory_limit(c: ContainerEvidence) -> int:
    return int(c.host_config.get("Memory") or 0)


def _heap_facts(c: ContainerEvidence) -> list[tuple[str, str]]:
    heap = heap_limit_mib(c)
    limit = _memory_limit(c)
    mem = f"{limit // MIB} MiB" if limit else "none (the host's memory)"
    facts = [fact("V8 heap limit", f"{heap} MiB (--max-old-space-size)" if heap
                  else "V8's default (no --max-old-space-size)"),
             fact("container memory limit", mem),
             fact("State.OOMKilled", bool(c.state.get("OOMKilled")))]
    if heap and limit and heap * MIB >= limit:
        facts.append(fact("note", "the heap limit is not below the memory limit: the kernel "
                          "OOM killer may act first next time"))
    return facts


def _title(c: ContainerEvidence, report: AbortReport | None) -> str:
    if report is None:
        return "aborted (SIGABRT) without a message: a fatal error the program detected"
    if report.v8_heap:
        heap = heap_limit_mib(c)
        limit = _memory_limit(c)
        where = f"{heap} MiB" if heap else "its default size"
        below = (f", below the container's {limit // MIB} MiB memory limit" if limit
                 else " (the container has no memory limit)")
        return (f"Node.js ran out of JavaScript heap at V8's own limit ({where}){below}: "
                "not the kernel OOM killer")
    return f"aborted: {report.kind}: {report.line.text.strip()[:120]}"


def _remediation(c: ContainerEvidence, report: AbortReport | None) -> Remediation:
    image = q(c.image_ref or "IMAGE")
    if report is not None and report.v8_heap:
        limit = _memory_limit(c)
        size = max(256, int(limit * 0.75) // MIB) if limit else 2048
        return Remediation(
            "Raise Node's heap limit (keep it below the container's memory limit) or find the "
            "leak with a heap snapshot.",
            (logs_command(c),
             f"docker run -e NODE_OPTIONS=--max-old-space-size={size} {image}",
             f"docker inspect -f '{{{{.HostConfig.Memory}}}}' {q(c.name)}"))
    return Remediation(
        "Fix what the message names (a double free, a failed assertion, an uncaught exception): "
        "reproduce with core dumps, or under valgrind/AddressSanitizer; run with --init so the "
        "exit code says 134.",
        (logs_command(c),
         f"docker run --rm -it --init --ulimit core=-1 --entrypoint sh {image}"))


@check("D209", Cause.ABORTED, severity=Severity.ERROR, requires=("inspect",))
def aborted(c: ContainerEvidence) -> Iterator[Finding]:
    """SIGABRT nobody in Docker sent (134, or 139 of a PID 1 whose log ends in an abort)."""
    if not ended(c) or explained_exit(c) != Cause.ABORTED:
        return
    report = abort_report(c)
    story = kill_story(c)
    facts = run_facts(c)
    if c.exit_code == 139:
        facts.append(fact("signal", "SIGSEGV as the exit, but the program called abort(): as "
                          "PID 1 without --init, abort() ends in a fault (exit 139, not 134)"))
    else:
        facts.append(fact("signal", "SIGABRT (abort)"))
    facts.append(fact("kind", report.kind if report else "unknown (no message in the log)"))
    if report is not None and report.v8_heap:
        facts += _heap_facts(c)
    facts += [events_fact(c), fact("PID 1 command", command_text(c)),
              fact("--init", "yes" if c.host_config.get("Init") else "no")]
    confidence = Confidence.HIGH
    if story is not None and story.sender == Sender.UNKNOWN and report is None:
        confidence = Confidence.MEDIUM
        facts.append(fact("still possible", "`docker kill -s ABRT` (killed-by-signal): the "
                          "engine's events for this container are gone; `docker events "
                          "--filter container=NAME --filter event=kill` on a host that logs "
                          "them, or the audit log, tells them apart"))
    quoted = list(report.lines) if report else decisive_lines(latest_run_lines(c), 6)
    evidence = (exit_evidence(c) + [inspect_evidence(c, "/HostConfig/Init",
                                                     bool(c.host_config.get("Init")))]
                + lifecycle_evidence(c) + log_evidence(c, quoted, 2))
    yield Finding(
        title=_title(c, report),
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=_remediation(c, report),
        confidence=confidence,
    )
