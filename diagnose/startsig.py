"""Start-stage readings: why the entrypoint could not be executed, and which mounts block a start.

Pure functions over one container's evidence (and over plain strings, for the version
matrix), used by :mod:`diagnose.signatures` and the D1xx checks.  The look-alikes of
"no such file or directory" are told apart here from the static entrypoint probe
(entrypoint.json): the file is missing, or it exists and its shebang line ends in CR, or its
shebang interpreter is missing, or its ELF loader (PT_INTERP) is missing.

Error texts of every runc/Docker generation are matched (taxonomy section 1.5):
- runc <= 1.0 quoted nested errors (`caused "exec: \\"x\\": ..."`), later ones do not;
  :func:`unescape` folds both forms before matching.
- Exec-time failures print `exec /x: <errno>` (runc >= 1.1) or
  `standard_init_linux.go:NNN: exec user process caused[:] "<errno>"` (older).
- `env` in a shebang fails on its own: busybox `env: can't execute 'bash\\r': No such file
  or directory`, GNU coreutils `/usr/bin/env: 'bash\\r': No such file or directory` (older
  coreutils without quotes), exit 127.
- A shell-form command (`sh -c /app/x`) reports an exec failure of /app/x as busybox/dash
  `sh: /app/x: not found` / `/bin/sh: 1: /app/x: not found`, bash >= 5.1
  `bash: /app/x: cannot execute: required file not found`, or bash
  `bash: /app/x: /bin/bash^M: bad interpreter: No such file or directory`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from diagnose.jsonview import as_maps, dig
from diagnose.lazyre import lazy_compile
from diagnose.snapshot import ContainerEvidence, LogLine

#: Start-failure categories that have their own D1xx check (the rest go to `start-failed`,
#: except `no-space-left`, which the log-stage check of that name owns).
START_CHECKED = frozenset({
    "entrypoint-not-found", "entrypoint-not-executable", "exec-format-error", "invalid-user",
    "port-already-allocated", "network-not-found", "mount-source-missing",
    "bind-mount-type-mismatch", "logging-driver-failure", "no-space-left",
})

def unescape(text: str) -> str:
    """Fold the backslash-escaped quotes of nested runc errors (`\\"`, `\\\\\\"`) to `"`."""
    return re.sub(r'\\+"', '"', text)


def refine_start_category(category: str, probe: Mapping[str, Any]) -> str:
    """Correct a start-failure category with the probe where the error text misleads.

    runc's PATH lookup skips files that are not executable, so a command that exists in a
    PATH directory with mode 0644 fails as `executable file not found in $PATH`: that is
    `entrypoint-not-executable`, not `entrypoint-not-found`.
    """
    if category == "entrypoint-not-found" and probe.get("exists") is True and (
            probe.get("executable") is False or probe.get("is_dir")):
        return "entrypoint-not-executable"
    return category


_WRAPPERS = lazy_compile(
    r"^(?:.*?(?:failed to create task for container|failed to create shim task|"
    r"OCI runtime (?:create|start) failed|runc create failed|"
    r"unable to start container process|starting container process caused|"
    r"error during container init|container init caused|oci runtime error|"
    r"failed to set up container networking)\s*:?\s*)+", re.IGNORECASE)


def essential_error(error: str) -> str:
    """A start error without the runtime's wrapper prefixes and the trailing `: unknown`."""
    text = _WRAPPERS.sub("", unescape(error).strip())
    text = re.sub(r"(?::\s*unknown)+$", "", text).strip().strip('"')
    return text or error


# -- classifying an exec failure with the probe -------------------------------------------------


def classify_exec(error: str, part: Mapping[str, Any], readable: bool = True) -> str:
    """The cause of an exec failure `error` (errno text) of the file `part` describes.

    `part` is the static probe's view of the command (entrypoint.json itself, or its
    `shell_command`): `exists`, `is_dir`, `executable` and `file` facts.  Returns a check slug,
    or `exec-failed` when the evidence cannot tell.
    """
    err = error.lower()
    f = part.get("file") or {}
    if "format" in err:
        return "exec-format-error"
    if "permission denied" in err or "is a directory" in err:
        return "entrypoint-not-executable"
    if not ("no such file" in err or "not found" in err or "bad interpreter" in err):
        return "exec-failed"
    if not readable or not part:
        return "exec-failed"
    if part.get("exists") is False:
        return "entrypoint-not-found"
    kind = f.get("kind")
    if kind == "script":
        if f.get("shebang_crlf"):
            return "bad-shebang-crlf"
        if f.get("interpreter_exists") is False:
            return "shebang-interpreter-missing"
        interp = f.get("interpreter_file") or {}
        if interp.get("kind") == "elf" and interp.get("interpreter_exists") is False:
            return "missing-dynamic-loader"
        if f.get("env_program") and f.get("env_program_resolved") is None:
            return "shebang-interpreter-missing"
    if kind == "elf":
        if f.get("interpreter") and f.get("interpreter_exists") is False:
            return "missing-dynamic-loader"
        if f.get("runs_natively") is False:
            return "exec-format-error"
    return "exec-failed"


# -- env in a shebang ---------------------------------------------------------------------------

ENV_FAILURE = lazy_compile(
    r"(?:^|\s)(?:/usr)?(?:/bin/)?env: (?:can't execute )?['‘]?(?P<prog>[^'’:]+?)['’]?: "
    r"No such file or directory\s*$")


@dataclass(frozen=True)
class EnvFailure:
    """`env` (a script's `#!/usr/bin/env PROG` interpreter) could not find PROG."""

    program: str
    line: LogLine

    @property
    def crlf(self) -> bool:
        """True when the program name ends in CR (a CRLF shebang line)."""
        return self.program.endswith("\r")


def env_failure_in(lines: Sequence[LogLine]) -> EnvFailure | None:
    """The env shebang failure among the first lines of a run (it is the only output)."""
    for line in lines[:5]:
        m = ENV_FAILURE.search(line.text)
        if m:
            return EnvFailure(m.group("prog"), line)
    return None


# -- a shell-form command -----------------------------------------------------------------------

_SHELL_PREFIX = r"^(?:/[\w/]*/)?(?:sh|bash|ash|dash|zsh|ksh|mksh)(?:: line \d+)?: (?:\d+: )?"
SHELL_FAILURE = lazy_compile(
    _SHELL_PREFIX + r"(?P<word>\S+): (?P<error>not found|No such file or directory|"
    r"cannot execute: required file not found|Permission denied|"
    r"(?P<interp>.*): bad interpreter: (?:No such file or directory|Permission denied)|"
    r"cannot execute binary file: Exec format error|Exec format error)\s*$")


@dataclass(frozen=True)
class ShellFailure:
    """The shell of a shell-form command could not execute its first command word."""

    word: str
    error: str
    line: LogLine


def shell_failure_in(lines: Sequence[LogLine], word: str) -> ShellFailure | None:
    """The shell's report that it could not execute `word`, in the first lines of a run."""
    for line in lines[:5]:
        m = SHELL_FAILURE.match(line.text.strip("\r"))
        if m and m.group("word") == word:
            error = m.group("error")
            if m.group("interp") is not None:
                # bash names the interpreter; a CR in it is the CRLF case.
                interp = m.group("interp")
                error = "bad interpreter crlf" if interp.endswith(("\r", "^M")) else \
                    "bad interpreter no such file"
            return ShellFailure(word, error, line)
    return None


# -- mounts that block a start -----------------------------------------------------------------


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
    readable = dig(c.entrypoint, "filesystem", "readable")
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
