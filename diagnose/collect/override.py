"""`--probe`: the source notes' entrypoint override, done for you in a throwaway container.

For a container that won't run, the advice is to start a shell from the same image instead of
its entrypoint and look around.  With `--probe`, for every target that is not running, this
collector starts a THROWAWAY container from the target's image (by ID) with the entrypoint
overridden to the shell the static probe found, runs read-only commands (id; ls -l of the
entrypoint, its shebang interpreter or ELF loader; the first line's bytes; `ldd` when the
loader exists; environment variable NAMES, never values; /etc/os-release), records their
output as probe.json and removes the throwaway.  The target itself is never touched: no
start, exec, copy or change.

The throwaway is locked down: no network, read-only root filesystem, all capabilities
dropped, no-new-privileges, small memory and pids limits, and it runs without the target's
mounts and environment (the image as built: comparing with entrypoint.json, which sees the
container with its mounts, shows content a mount hides).  It runs as the target's user when
the static probe found that user in the image, else as the image's default user.  It is
labelled `diagnose.probe=throwaway` and `diagnose.probe.target=<target ID>`.

Running targets are skipped: `docker exec` reaches them directly.  Images without a usable
shell (scratch, distroless, a shell whose own loader is missing) are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import time
import uuid
from collections.abc import Mapping
from typing import Any

from docker.errors import APIError, ImageNotFound, NotFound

from diagnose.collect.record import Piece, Skip, dump_json
from diagnose.evidence import layout
from diagnose.model import interrupts

PROBE_LABEL = "diagnose.probe"
TARGET_LABEL = "diagnose.probe.target"
MARK = "@@diagnose-probe:"
RC_MARK = "@@diagnose-rc:"
SECTION_BYTES = 4096
WAIT_SECONDS = 20.0
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _section(name: str, command: str) -> str:
    # $(...) keeps the exit status; output is bounded per section.
    return (f"printf '%s\\n' {shlex.quote(MARK + name)}; "
            f"OUT=$( {{ {command}\n}} 2>&1 ); RC=$?; "
            f"printf '%s\\n' \"$OUT\" | head -c {SECTION_BYTES}; "
            f"printf '\\n%s%s\\n' {shlex.quote(RC_MARK)} \"$RC\"")


ENV_NAMES = ("if command -v awk >/dev/null 2>&1; then awk 'BEGIN{for(k in ENVIRON)print k}'; "
             "else env | sed -n 's/^\\([A-Za-z_][A-Za-z0-9_]*\\)=.*/\\1/p'; fi | sort")


def _ls(path: str) -> str:
    """`ls -ld` of a path, and of what it points to when it is a symlink."""
    q = shlex.quote(path)
    return f"ls -ld -- {q} && {{ [ ! -L {q} ] || ls -ldL -- {q}; }}"


def plan(probe: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The read-only commands to run, from the static probe's facts (name, shell command)."""
    q = shlex.quote
    steps: list[tuple[str, str]] = [("id", "id"), ("arch", "uname -m")]
    targets: list[tuple[str, Mapping[str, Any]]] = [("entrypoint", probe)]
    sc = probe.get("shell_command") or {}
    if sc.get("word"):
        targets.append(("shell_command", sc))
    for label, part in targets:
        argv = part.get("argv") or [""]
        word = str(part.get("argv0") or part.get("word") or argv[0] or "")
        if not word:
            continue
        path = str(part.get("resolved") or word)
        if "/" not in word:
            steps.append((f"{label}.which", f"command -v {q(word)}"))
        steps.append((f"{label}.ls", _ls(path)))
        f = part.get("file") or {}
        if f.get("kind") == "script":
            steps.append((f"{label}.first_line", f"head -n 1 -- {q(path)} | od -c | head -n 4"))
            interp = str(f.get("interpreter_clean") or "")
            if interp:
                steps.append((f"{label}.interpreter", _ls(interp)))
            prog = str(f.get("env_program") or "").rstrip("\r")
            if prog:
                steps.append((f"{label}.env_program", f"command -v {q(prog)}"))
        if f.get("kind") == "elf" and f.get("interpreter"):
            loader = str(f["interpreter"])
            steps.append((f"{label}.loader", _ls(loader)))
            if f.get("interpreter_exists"):
                steps.append((f"{label}.libraries",
                              f"if command -v ldd >/dev/null 2>&1; then ldd -- {q(path)}; "
                              "else echo 'ldd: not in this image'; fi"))
        if f.get("kind") == "elf":
            steps.append((f"{label}.loaders_present",
                          "ls -ld /lib/ld-* /lib64/ld-* /lib/*/ld-* 2>/dev/null; true"))
    workdir = str(probe.get("workdir") or "/")
    steps.append(("workdir", f"ls -ld -- {q(workdir)}"))
    steps.append(("env_names", ENV_NAMES))
    steps.append(("os_release", "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release"))
    return steps


def script_for(steps: list[tuple[str, str]]) -> str:
    """One POSIX sh script running every step, each output framed by markers."""
    return "\n".join(_section(name, cmd) for name, cmd in steps) + "\n"


def parse_output(text: str, steps: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Split the framed output back into one record per step."""
    commands = dict(steps)
    out: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    body: list[str] = []
    for line in text.splitlines():
        if line.startswith(MARK):
            current = {"name": line[len(MARK):], "command": commands.get(line[len(MARK):], "")}
            body = []
        elif line.startswith(RC_MARK) and current is not None:
            rc = line[len(RC_MARK):].strip()
            output = "\n".join(body).strip("\n")
            if current["name"] == "env_names":
                # Names only: drop anything that is not a variable name.
                output = "\n".join(n for n in output.splitlines() if _NAME.match(n))
            current["output"] = output
            current["exit_code"] = int(rc) if rc.lstrip("-").isdigit() else None
            out.append(current)
            current = None
        elif current is not None:
            body.append(line)
    return out


def _user(inspect: Mapping[str, Any], probe: Mapping[str, Any]) -> tuple[str, str]:
    user = str((inspect.get("Config") or {}).get("User") or "")
    facts = probe.get("user") or {}
    if not user:
        return "", "image default user (the target sets none)"
    if (facts.get("numeric") or facts.get("found")) and facts.get("group_found", True):
        return user, "the target's user"
    return "", f"image default user: the target's user {user!r} is not in the image"


def collect_override(api: Any, inspect: Mapping[str, Any], entrypoint: bytes | None,
                     enabled: bool) -> Piece:
    """Run the throwaway override probe for one target (see the module docs)."""
    if not enabled:
        raise Skip("not requested (run with --probe)")
    state = inspect.get("State") or {}
    status = str(state.get("Status") or "")
    if status in ("running", "paused"):
        raise Skip(f"container is {status}: `docker exec -it NAME sh` reaches it directly")
    try:
        probe = json.loads(entrypoint) if entrypoint else {}
    except ValueError:
        probe = {}
    if not probe:
        raise Skip("no static entrypoint probe to plan from")
    if (probe.get("filesystem") or {}).get("readable") is False:
        # The image itself may be fine; plan from argv alone.
        probe = {**probe, "shell": probe.get("shell") or {"usable": True, "path": "/bin/sh",
                                                            "assumed": True}}
    shell = probe.get("shell") or {}
    if not shell.get("usable"):
        raise Skip("the image has no usable shell for an entrypoint override (tried "
                   f"{', '.join(shell.get('tried') or ())})")
    image = str(inspect.get("Image") or "")
    steps = plan(probe)
    user, user_note = _user(inspect, probe)
    return Piece({layout.PROBE: dump_json(run_throwaway(api, inspect, image, str(shell["path"]),
                                                        user, user_note, steps))})


def run_throwaway(api: Any, inspect: Mapping[str, Any], image: str, shell: str, user: str,
                  user_note: str, steps: list[tuple[str, str]]) -> dict[str, Any]:
    """Create, run, read and remove the throwaway container; never leaves it behind."""
    target = str(inspect.get("Id") or "")
    name = f"diagnose-probe-{target[:12]}-{uuid.uuid4().hex[:6]}"
    labels = {PROBE_LABEL: "throwaway", TARGET_LABEL: target}
    host_config = api.create_host_config(
        network_mode="none", read_only=True, cap_drop=["ALL"],
        security_opt=["no-new-privileges"], mem_limit="64m", pids_limit=64,
        log_config={"Type": "json-file", "Config": {}}, auto_remove=False,
    )
    started = time.monotonic()
    record: dict[str, Any] = {
        "throwaway": {"name": name, "image": image, "entrypoint": [shell], "user": user or None,
                      "user_note": user_note, "labels": labels, "network": "none",
                      "read_only_rootfs": True, "mounts": "none (the image as built)",
                      "env": "none added (the image's own environment)"},
        "target": {"id": target, "untouched": True},
    }
    try:
        api.inspect_image(image)
    except ImageNotFound:
        raise Skip(f"the target's image {image[:19]} no longer exists") from None

    def remove_if_stopped() -> None:
        # A signal ends the run without waiting for this thread (model/interrupts.py): the
        # throwaway goes then, by its unique name (also if its creation is still under way).
        with contextlib.suppress(Exception):
            api.remove_container(name, force=True, v=True)

    interrupts.at_stop(remove_if_stopped)
    try:
        return _run(api, image, shell, user, labels, name, host_config, steps, record, started)
    finally:
        interrupts.forget(remove_if_stopped)


def _run(api: Any, image: str, shell: str, user: str, labels: dict[str, str], name: str,
         host_config: Any, steps: list[tuple[str, str]], record: dict[str, Any],
         started: float) -> dict[str, Any]:
    created = api.create_container(
        image=image, entrypoint=[shell], command=["-c", script_for(steps)], user=user or None,
        labels=labels, name=name, host_config=host_config, network_disabled=True,
        detach=True, tty=False, stdin_open=False,
    )
    cid = created["Id"]
    record["throwaway"]["id"] = cid
    try:
        try:
            api.start(cid)
        except APIError as exc:
            record["throwaway"]["start_error"] = exc.explanation or str(exc)
            record["probes"] = []
            return record
        try:
            result = api.wait(cid, timeout=min(WAIT_SECONDS, float(api.timeout or WAIT_SECONDS)))
            record["throwaway"]["exit_code"] = result.get("StatusCode")
        except Exception as exc:  # a hung probe is recorded, then force-removed below
            record["throwaway"]["exit_code"] = None
            record["throwaway"]["wait_error"] = f"{type(exc).__name__}: {exc}"
        raw = api.logs(cid, stdout=True, stderr=True, timestamps=False)
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        record["probes"] = parse_output(text, steps)
        state = (api.inspect_container(cid).get("State") or {})
        if state.get("Error"):
            record["throwaway"]["start_error"] = state["Error"]
        return record
    finally:
        api.remove_container(cid, force=True, v=True)
        try:
            api.inspect_container(cid)
            record["throwaway"]["removed"] = False
        except NotFound:
            record["throwaway"]["removed"] = True
        record["throwaway"]["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
