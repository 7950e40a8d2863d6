"""D208: The container exited successfully within seconds of starting.

What went wrong
    The main process returned 0 less than 10 s after it started (the engine itself treats a
    run under 10 s as "failed fast" for its restart back-off), and nothing stopped it.  A
    container lives exactly as long as its PID 1: when a service puts itself in the
    background (`service nginx start`, `nginx` without `daemon off;`, `apachectl start`,
    `sh -c 'app &'`), or an entrypoint script starts the app and ends without `exec "$@"`, or
    a bare shell runs with no stdin (`docker run -d IMAGE sh` without `-it`), PID 1 returns at
    once and the container exits 0.

    A one-shot job (a migration, `echo`, a build step) also exits 0 quickly, and that is
    fine.  So the severity follows the evidence that the container was meant to keep running:
    a restart policy `always`/`unless-stopped`, published or exposed ports, a healthcheck, a
    command that backgrounds its work or a bare shell make it a warning; without any of
    these it is reported as info only ("if this was a one-shot job, nothing is wrong").
    It never fires when the run lasted 10 s or more, or when the events show the engine
    stopped it (`docker stop`/`kill`).

How to confirm by hand
    docker inspect -f '{{.State.ExitCode}} {{.State.StartedAt}} {{.State.FinishedAt}}' NAME
    docker inspect -f '{{json .Config.Entrypoint}} {{json .Config.Cmd}}' NAME

Look-alikes told apart
    `app-exit-error` (non-zero exit), the signal checks (128+n), a long-running service that
    finished its work (ran 10 s or more: not reported).

Fix
    Run the service in the foreground (`nginx -g 'daemon off;'`, `apachectl -D FOREGROUND`,
    no trailing `&`), end entrypoint scripts with `exec "$@"`, give interactive shells
    `-it`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from diagnose.api import (argv, command_text, ended, engine_stopped_it, events_fact, human_seconds,
                          inspect_evidence, lazy_compile, q, QUICK_SECONDS, run_facts, shell_script,
                          SHELLS, check, ContainerEvidence, fact, Finding, Remediation, Severity)

_DAEMONIZING = (
    (lazy_compile(r"(?<![&|])&\s*$"), "its shell command ends with `&`: the work "
     "runs in the background and PID 1 returns"),
    (lazy_compile(r"\bservice\s+\S+\s+(?:start|restart)\b"), "`service ... start` starts a "
     "daemon in the background and returns"),
    (lazy_compile(r"\b(?:systemctl\s+start|start-stop-daemon|apachectl\s+start|nohup|daemonize)\b"
                  r"|--daemon(?:ize)?\b"), "it starts a daemon in the background"),
)


def service_signs(c: ContainerEvidence) -> list[tuple[str, str]]:
    """Evidence that the container was meant to keep running, as facts."""
    signs: list[tuple[str, str]] = []
    policy = str((c.host_config.get("RestartPolicy") or {}).get("Name") or "no")
    if policy in ("always", "unless-stopped"):
        signs.append(fact("restart policy", f"{policy}: meant to keep running"))
    published = sorted((c.host_config.get("PortBindings") or {}).keys())
    exposed = sorted((c.config.get("ExposedPorts") or {}).keys())
    if published:
        signs.append(fact("published ports", ", ".join(published)))
    elif exposed:
        signs.append(fact("exposed ports", ", ".join(exposed)))
    test = list((c.config.get("Healthcheck") or {}).get("Test") or [])
    if test and test[0] != "NONE":
        signs.append(fact("healthcheck", " ".join(str(t) for t in test)))
    script = shell_script(c)
    text = script if script is not None else " ".join(argv(c))
    for pattern, meaning in _DAEMONIZING:
        if pattern.search(text.strip()):
            signs.append(fact("command", meaning))
            break
    words = argv(c)
    if (len(words) == 1 and posixpath.basename(words[0]) in SHELLS
            and not c.config.get("OpenStdin") and not c.config.get("Tty")):
        signs.append(fact("command", "a bare shell with no stdin (`-i`) or TTY (`-t`) exits "
                                     "at once"))
    return signs


@check("D208", "exited-immediately", severity=Severity.WARNING, requires=("inspect",))
def exited_immediately(c: ContainerEvidence) -> Iterator[Finding]:
    """Exit 0 less than 10 s after starting, not stopped by the engine."""
    if not ended(c) or c.exit_code != 0 or c.state.get("OOMKilled"):
        return
    seconds = c.run_seconds()
    if seconds is None or seconds >= QUICK_SECONDS or engine_stopped_it(c):
        return
    signs = service_signs(c)
    severity = Severity.WARNING if signs else Severity.INFO
    facts = run_facts(c) + [
        fact("PID 1 command", command_text(c)),
        events_fact(c),
    ] + signs
    if not signs:
        facts.append(fact("meant to keep running?", "no sign of it (no restart policy, ports, "
                                                    "healthcheck or backgrounding command): "
                                                    "likely a one-shot job"))
    evidence = [inspect_evidence(c, "/State/ExitCode"), inspect_evidence(c, "/State/StartedAt"),
                inspect_evidence(c, "/State/FinishedAt"), inspect_evidence(c, "/Config/Cmd")]
    title = (f"exited 0 after {human_seconds(seconds)}: PID 1 returned at once, so the "
             "container stopped" + (" although it was meant to keep running" if signs
                                    else " (fine if this was a one-shot job)"))
    yield Finding(
        title=title,
        facts=tuple(facts),
        evidence=tuple(evidence),
        remediation=Remediation(
            "Keep the main process in the foreground as PID 1: no trailing `&`, the service's "
            "foreground flag (`nginx -g 'daemon off;'`, `apachectl -D FOREGROUND`), `exec "
            "\"$@\"` at the end of entrypoint scripts, `-it` for interactive shells.",
            (f"docker inspect -f '{{{{json .Config.Entrypoint}}}} {{{{json .Config.Cmd}}}}' "
             f"{q(c.name)}",
             f"docker logs {q(c.name)}"),
        ),
        severity=severity,
    )
