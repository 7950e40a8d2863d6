"""Exec failures: runc said "started", then could not execute the entrypoint (the error is in
the logs), and which of the look-alikes of "no such file or directory" it is.

The look-alikes are told apart from the static entrypoint probe (entrypoint.json): the file is
missing, or it exists and its shebang line ends in CR, or its shebang interpreter is missing,
or its ELF loader (PT_INTERP) is missing.  Error texts of every generation (taxonomy 1.5):
- exec-time failures print `exec /x: <errno>` (runc >= 1.1, exit 1 or, from runc 1.2, 255) or
  `standard_init_linux.go:NNN: exec user process caused[:] "<errno>"` (older);
- `env` in a shebang fails on its own: busybox `env: can't execute 'bash\\r': No such file
  or directory`, GNU coreutils `/usr/bin/env: 'bash\\r': No such file or directory`, exit 127;
- a shell-form command (`sh -c /app/x`) reports an exec failure of /app/x as busybox/dash
  `sh: /app/x: not found` / `/bin/sh: 1: /app/x: not found`, bash >= 5.1
  `bash: /app/x: cannot execute: required file not found`, or bash
  `bash: /app/x: /bin/bash^M: bad interpreter: No such file or directory`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.entrypoint import ProbedCommand, ProbedFile, ShellCommand
from diagnose.evidence.logs import LogLine
from diagnose.evidence.readings.lifecycle import latest_run_lines
from diagnose.model.causes import Category, Cause, Unclaimed
from diagnose.model.lazyre import lazy_compile


def classify_exec(error: str, part: ProbedCommand, readable: bool = True) -> Category:
    """The cause of an exec failure `error` (errno text) of the command `part` describes.

    `part` is the static probe's view of the command (the entrypoint, or the first word of a
    shell-form command): whether it exists, is a directory, is executable, and its file's
    facts.  Returns the cause, or `exec-failed` when the evidence cannot tell.
    """
    err = error.lower()
    if "format" in err:
        return Cause.EXEC_FORMAT_ERROR
    if "permission denied" in err or "is a directory" in err:
        return Cause.ENTRYPOINT_NOT_EXECUTABLE
    if not ("no such file" in err or "not found" in err or "bad interpreter" in err):
        return Unclaimed.EXEC_FAILED
    if not readable or not part:
        return Unclaimed.EXEC_FAILED
    if part.exists is False:
        return Cause.ENTRYPOINT_NOT_FOUND
    f = part.file
    if f.kind == "script":
        if f.shebang_crlf:
            return Cause.BAD_SHEBANG_CRLF
        if f.interpreter_exists is False:
            return Cause.SHEBANG_INTERPRETER_MISSING
        interp = f.interpreter_file
        if interp.kind == "elf" and interp.interpreter_exists is False:
            return Cause.MISSING_DYNAMIC_LOADER
        if f.env_program and f.env_program_resolved is None:
            return Cause.SHEBANG_INTERPRETER_MISSING
    if f.kind == "elf":
        if f.interpreter and f.interpreter_exists is False:
            return Cause.MISSING_DYNAMIC_LOADER
        if f.runs_natively is False:
            return Cause.EXEC_FORMAT_ERROR
    return Unclaimed.EXEC_FAILED


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


EXEC_LINE = lazy_compile(r"^exec (?P<path>/?\S+): (?P<error>[a-z][a-z ]+[a-z])$")


STANDARD_INIT = lazy_compile(
    r"standard_init_linux\.go:\d+: exec user process caused:?\s*\\?\"?(?P<error>[a-z][a-z ]*[a-z])")


@dataclass(frozen=True)
class ExecFailure:
    """runc could not exec the entrypoint: `exec /x: <errno text>` in the logs, exit 1/255."""

    path: str
    error: str
    line: LogLine


def exec_failure(c: ContainerEvidence) -> ExecFailure | None:
    """The exec-time failure of the latest run, if that is how it ended."""
    if c.start_error or not c.ever_started:
        return None
    if c.exit_code not in (1, 255) and c.status != "restarting":
        return None
    lines = latest_run_lines(c)
    for line in reversed(lines[:5] if len(lines) > 5 else lines):
        text = line.text.strip()
        m = EXEC_LINE.match(text)
        if m:
            return ExecFailure(m.group("path"), m.group("error"), line)
        m = STANDARD_INIT.search(text)
        if m:
            return ExecFailure("", m.group("error").strip(), line)
    return None


def exec_cause(c: ContainerEvidence, failure: ExecFailure) -> Category:
    """Tell the look-alikes of an exec failure apart with the entrypoint probe.

    `no such file or directory` from exec of a file that exists means its interpreter is
    missing: a CRLF shebang (`/bin/sh\\r`), a missing shebang interpreter, or an ELF loader
    (PT_INTERP) that the image lacks.  See :func:`classify_exec`.
    """
    probe = c.entrypoint
    return classify_exec(failure.error, probe, probe.readable is not False)


@dataclass(frozen=True)
class ExecDiagnosis:
    """Why the entrypoint could not be executed, and where that shows.

    `via` is `runc` (runc's own `exec /x: ...` line, exit 1 or 255), `env` (a
    `#!/usr/bin/env PROG` shebang whose PROG is missing, exit 127) or `shell` (a shell-form
    command whose first word could not be executed, exit 127/126).  `probe_pointer` is the
    JSON pointer of the probed file's facts inside entrypoint.json.
    """

    cause: Category
    via: str
    path: str
    error: str
    line: LogLine
    probe_pointer: str

    def facts(self, c: ContainerEvidence) -> ProbedFile:
        """The probe's facts about the file that failed (empty when not probed)."""
        return c.entrypoint.file_at(self.probe_pointer)


def exec_diagnosis(c: ContainerEvidence) -> ExecDiagnosis | None:
    """The exec failure of the latest run, with its cause, in any of its three shapes
    (worked out once per container: every start-stage check asks)."""
    return c.derived("exec_diagnosis", _exec_diagnosis)


def _exec_diagnosis(c: ContainerEvidence) -> ExecDiagnosis | None:
    ef = exec_failure(c)
    probe = c.entrypoint
    if ef is not None:
        path = ef.path or (probe.resolved or "")
        return ExecDiagnosis(exec_cause(c, ef), "runc", path, ef.error, ef.line, "/file")
    if c.start_error or not c.ever_started or c.exit_code not in (126, 127):
        return None
    lines = latest_run_lines(c)
    sc = probe.shell_command
    env = env_failure_in(lines) if c.exit_code == 127 else None
    if env is not None:
        # The script with the env shebang is the entrypoint, or a shell-form command's word.
        part: ProbedCommand
        for part, pointer in ((probe, "/file"), (sc, "/shell_command/file")):
            f = part.file
            if f.env_program:
                cause = Cause.BAD_SHEBANG_CRLF if env.crlf or f.shebang_crlf else \
                    Cause.SHEBANG_INTERPRETER_MISSING
                return ExecDiagnosis(cause, "env", part.resolved or "",
                                     "No such file or directory", env.line, pointer)
    return _shell_diagnosis(sc, lines)


def _shell_diagnosis(sc: ShellCommand, lines: Sequence[LogLine]) -> ExecDiagnosis | None:
    """The exec failure of a shell-form command's first word, as its shell reported it."""
    word = sc.word
    if not word:
        return None
    sh = shell_failure_in(lines, word)
    if sh is None:
        return None
    error = {"bad interpreter crlf": "no such file or directory",
             "bad interpreter no such file": "no such file or directory"}.get(sh.error, sh.error)
    cause = classify_exec(error, sc)
    if sh.error == "bad interpreter crlf":
        cause = Cause.BAD_SHEBANG_CRLF
    if cause in (Unclaimed.EXEC_FAILED, Cause.ENTRYPOINT_NOT_FOUND):
        # The command really is missing (or the shell's reason is unknown): that is a plain
        # `command-not-found` from a shell, reported by the exit stage.
        return None
    return ExecDiagnosis(cause, "shell", sc.resolved or word, sh.error, sh.line,
                         "/shell_command/file")
