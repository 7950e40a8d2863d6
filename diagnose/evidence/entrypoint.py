"""entrypoint.json, the static entrypoint probe, as a typed view.

The probe (:mod:`diagnose.collect.probe`) resolves the container's command like runc does and
describes the file it names without running anything: whether it exists, its mode, its first
bytes, its shebang and interpreter, or for an ELF program its machine and loader; the same for
the first word of a shell-form command, the image's shell and the container's user.  The start
and exec readings and the D1xx checks read it through these classes, never as a raw dict.

Every field reads one key and gives its value only when it has the type the probe writes
(None otherwise, an empty view for a nested object): a bundle may hold anything there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar, overload

from diagnose.model.jsonview import as_map, as_maps, resolve_pointer

T = TypeVar("T")


class _Doc:
    """One JSON object of the probe's document."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw: Mapping[str, Any] = as_map(raw)

    def __bool__(self) -> bool:
        """True when the probe recorded anything here."""
        return bool(self.raw)


class _Field(Generic[T]):
    """A typed field of a :class:`_Doc`: the value of `key` when it is a `kind`, else None."""

    def __init__(self, key: str, kind: type[T]) -> None:
        self.key, self.kind = key, kind

    @overload
    def __get__(self, doc: None, owner: type[_Doc]) -> _Field[T]: ...

    @overload
    def __get__(self, doc: _Doc, owner: type[_Doc]) -> T | None: ...

    def __get__(self, doc: _Doc | None, owner: type[_Doc]) -> _Field[T] | T | None:
        if doc is None:
            return self
        value = doc.raw.get(self.key)
        if isinstance(value, bool) and self.kind is not bool:  # JSON true is no number
            return None
        return value if isinstance(value, self.kind) else None


class ProbedFile(_Doc):
    """A file the probe read: the entrypoint's, a shebang interpreter's, a shell's."""

    __slots__ = ()

    #: The path that was read (after the PATH lookup), and where its symlinks lead.
    path = _Field("path", str)
    real_path = _Field("real_path", str)
    #: Whether it exists (interpreter files), is a directory, has an execute bit.
    exists = _Field("exists", bool)
    is_dir = _Field("is_dir", bool)
    executable = _Field("executable", bool)
    #: `script`, `elf`, `empty`, or what else its first bytes say.
    kind = _Field("kind", str)
    #: Its permission bits (`0755`), size, first bytes (hex) and UTF-8 byte order mark.
    mode_octal = _Field("mode_octal", str)
    size = _Field("size", int)
    head_hex = _Field("head_hex", str)
    bom = _Field("bom", bool)
    #: Its `#!` line as written (with any trailing CR), and whether that line ends in CR.
    shebang = _Field("shebang", str)
    shebang_crlf = _Field("shebang_crlf", bool)
    #: A script's shebang interpreter, or an ELF program's loader (PT_INTERP); the
    #: interpreter's path as the kernel reads it (a CR included), and whether it exists.
    interpreter = _Field("interpreter", str)
    interpreter_path = _Field("interpreter_path", str)
    interpreter_exists = _Field("interpreter_exists", bool)
    #: The shebang interpreter without a trailing CR, and whether that exists.
    interpreter_clean = _Field("interpreter_clean", str)
    interpreter_clean_exists = _Field("interpreter_clean_exists", bool)
    #: PROG of a `#!/usr/bin/env PROG` shebang, and where it was found (None: not found).
    env_program = _Field("env_program", str)
    env_program_resolved = _Field("env_program_resolved", str)
    #: An ELF program's machine (x86_64...), class (ELF64), linking, and whether it runs on
    #: the engine's machine (None: cannot tell).
    machine = _Field("machine", str)
    elf_class = _Field("elf_class", str)
    static = _Field("static", bool)
    runs_natively = _Field("runs_natively", bool)

    @property
    def owner(self) -> Any:
        """Its owner (uid or name, as recorded)."""
        return self.raw.get("owner")

    @property
    def group(self) -> Any:
        """Its group (gid or name, as recorded)."""
        return self.raw.get("group")

    @property
    def interpreter_file(self) -> ProbedFile:
        """The shebang interpreter's own file (empty when it was not read)."""
        return ProbedFile(self.raw.get("interpreter_file"))


class ProbedCommand(_Doc):
    """A command word the probe resolved like runc does (Entrypoint + Cmd's first word, or
    the first word of a shell-form command)."""

    __slots__ = ()

    #: The path it resolved to (None: nothing found).
    resolved = _Field("resolved", str)
    #: Whether a file (not a directory) was found for it, has an execute bit, is a directory.
    exists = _Field("exists", bool)
    executable = _Field("executable", bool)
    is_dir = _Field("is_dir", bool)

    @property
    def candidates(self) -> tuple[Mapping[str, Any], ...]:
        """Every path tried (PATH lookup), with what was found there."""
        return as_maps(self.raw.get("candidates"))

    @property
    def file(self) -> ProbedFile:
        """What the file found holds (empty when none was found)."""
        return ProbedFile(self.raw.get("file"))


class ShellCommand(ProbedCommand):
    """The first word of a shell-form command (`sh -c 'app --flag'`), resolved."""

    __slots__ = ()

    #: The command word the shell runs first.
    word = _Field("word", str)


class Entrypoint(ProbedCommand):
    """entrypoint.json: the container's command resolved, and what the image holds for it."""

    __slots__ = ()

    #: The command's first word as configured; the PATH the lookup used, and where that PATH
    #: came from (the container's env, the image's, the default).
    argv0 = _Field("argv0", str)
    path_env = _Field("path_env", str)
    path_source = _Field("path_source", str)

    @property
    def readable(self) -> bool | None:
        """Whether the engine's archive endpoint could read the container's filesystem."""
        value = as_map(self.raw.get("filesystem")).get("readable")
        return value if isinstance(value, bool) else None

    @property
    def filesystem_error(self) -> Any:
        """Why the filesystem could not be read (as the engine said it), if recorded."""
        return as_map(self.raw.get("filesystem")).get("error")

    @property
    def shell_command(self) -> ShellCommand:
        """The first word of a shell-form command (empty when the command is not one)."""
        return ShellCommand(self.raw.get("shell_command"))

    @property
    def shell_usable(self) -> bool | None:
        """Whether the image has a shell an override can start (None: not probed)."""
        shell = self.raw.get("shell")
        return None if not isinstance(shell, Mapping) else bool(shell.get("usable"))

    @property
    def user(self) -> Mapping[str, Any]:
        """The configured user and whether the image's passwd/group files have it."""
        return as_map(self.raw.get("user"))

    @property
    def healthcheck(self) -> Mapping[str, Any] | None:
        """The healthcheck's program and whether it was found (None: no healthcheck)."""
        value = self.raw.get("healthcheck")
        return value if isinstance(value, Mapping) else None

    def at(self, pointer: str) -> Any:
        """The raw value at an RFC 6901 JSON pointer (`/file/shebang`; None when absent)."""
        return resolve_pointer(self.raw, pointer)

    def file_at(self, pointer: str) -> ProbedFile:
        """The probed file at `pointer` (`/file`, `/shell_command/file`)."""
        return ProbedFile(self.at(pointer))
