"""entrypoint.json, the static entrypoint probe, as a typed view.

The probe (:mod:`diagnose.collect.probe`) resolves the container's command like runc does and
describes the file it names without running anything: whether it exists, its mode, its first
bytes, its shebang and interpreter, or for an ELF program its machine and loader; the same for
the first word of a shell-form command, the image's shell and the container's user.  The start
and exec readings and the D1xx checks read it through these classes, never as a raw dict.

Every property reads one field and gives it only when it has the type the probe writes (None,
or an empty view, otherwise): a bundle may hold anything there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from diagnose.model.jsonview import as_map, as_maps, resolve_pointer


class _Doc:
    """One JSON object of the probe's document."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw: Mapping[str, Any] = as_map(raw)

    def __bool__(self) -> bool:
        """True when the probe recorded anything here."""
        return bool(self.raw)

    def _text(self, key: str) -> str | None:
        value = self.raw.get(key)
        return value if isinstance(value, str) else None

    def _flag(self, key: str) -> bool | None:
        value = self.raw.get(key)
        return value if isinstance(value, bool) else None

    def _number(self, key: str) -> int | None:
        value = self.raw.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None


class ProbedFile(_Doc):
    """A file the probe read: the entrypoint's, a shebang interpreter's, a shell's."""

    __slots__ = ()

    @property
    def path(self) -> str | None:
        """The path that was read (after the PATH lookup)."""
        return self._text("path")

    @property
    def real_path(self) -> str | None:
        """Where its symlinks lead."""
        return self._text("real_path")

    @property
    def exists(self) -> bool | None:
        """Whether it exists (interpreter files)."""
        return self._flag("exists")

    @property
    def kind(self) -> str | None:
        """`script`, `elf`, or what else its first bytes say."""
        return self._text("kind")

    @property
    def mode_octal(self) -> str | None:
        """Its permission bits (`0755`)."""
        return self._text("mode_octal")

    @property
    def owner(self) -> Any:
        """Its owner (uid or name, as recorded)."""
        return self.raw.get("owner")

    @property
    def group(self) -> Any:
        """Its group (gid or name, as recorded)."""
        return self.raw.get("group")

    @property
    def executable(self) -> bool | None:
        """Whether any execute bit is set."""
        return self._flag("executable")

    @property
    def is_dir(self) -> bool | None:
        """Whether it is a directory."""
        return self._flag("is_dir")

    @property
    def size(self) -> int | None:
        """Its size in bytes."""
        return self._number("size")

    @property
    def head_hex(self) -> str | None:
        """Its first bytes, in hex."""
        return self._text("head_hex")

    @property
    def bom(self) -> bool | None:
        """Whether it starts with a UTF-8 byte order mark."""
        return self._flag("bom")

    @property
    def shebang(self) -> str | None:
        """Its `#!` line, as written (with any trailing CR)."""
        return self._text("shebang")

    @property
    def shebang_crlf(self) -> bool | None:
        """Whether the shebang line ends in CR (a file saved with Windows line endings)."""
        return self._flag("shebang_crlf")

    @property
    def interpreter(self) -> str | None:
        """A script's shebang interpreter, or an ELF program's loader (PT_INTERP)."""
        return self._text("interpreter")

    @property
    def interpreter_path(self) -> str | None:
        """The shebang interpreter's path as the kernel reads it (a CR included)."""
        return self._text("interpreter_path")

    @property
    def interpreter_exists(self) -> bool | None:
        """Whether the interpreter or loader exists in the container."""
        return self._flag("interpreter_exists")

    @property
    def interpreter_clean(self) -> str | None:
        """The shebang interpreter without a trailing CR."""
        return self._text("interpreter_clean")

    @property
    def interpreter_clean_exists(self) -> bool | None:
        """Whether the interpreter without its CR exists."""
        return self._flag("interpreter_clean_exists")

    @property
    def interpreter_file(self) -> ProbedFile:
        """The shebang interpreter's own file (empty when it was not read)."""
        return ProbedFile(self.raw.get("interpreter_file"))

    @property
    def env_program(self) -> str | None:
        """PROG of a `#!/usr/bin/env PROG` shebang."""
        return self._text("env_program")

    @property
    def env_program_resolved(self) -> str | None:
        """Where PROG was found on the PATH (None: not found)."""
        return self._text("env_program_resolved")

    @property
    def machine(self) -> str | None:
        """An ELF program's machine (x86_64, aarch64...)."""
        return self._text("machine")

    @property
    def elf_class(self) -> str | None:
        """ELF32 or ELF64."""
        return self._text("elf_class")

    @property
    def static(self) -> bool | None:
        """Whether an ELF program is statically linked."""
        return self._flag("static")

    @property
    def runs_natively(self) -> bool | None:
        """Whether an ELF program runs on the engine's machine (None: cannot tell)."""
        return self._flag("runs_natively")


class ProbedCommand(_Doc):
    """A command word the probe resolved like runc does (Entrypoint + Cmd's first word, or
    the first word of a shell-form command)."""

    __slots__ = ()

    @property
    def resolved(self) -> str | None:
        """The path it resolved to (None: nothing found)."""
        return self._text("resolved")

    @property
    def exists(self) -> bool | None:
        """Whether a file (not a directory) was found for it."""
        return self._flag("exists")

    @property
    def executable(self) -> bool | None:
        """Whether the file found has an execute bit."""
        return self._flag("executable")

    @property
    def is_dir(self) -> bool | None:
        """Whether the name resolved to a directory."""
        return self._flag("is_dir")

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

    @property
    def word(self) -> str | None:
        """The command word the shell runs first."""
        return self._text("word")


class Entrypoint(ProbedCommand):
    """entrypoint.json: the container's command resolved, and what the image holds for it."""

    __slots__ = ()

    @property
    def argv0(self) -> str | None:
        """The command's first word as configured."""
        return self._text("argv0")

    @property
    def path_env(self) -> str | None:
        """The PATH the lookup used."""
        return self._text("path_env")

    @property
    def path_source(self) -> str | None:
        """Where that PATH came from (the container's env, the image's, the default)."""
        return self._text("path_source")

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
