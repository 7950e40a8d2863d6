"""Errors that end a run, each with its documented exit code and a hint saying what to do.

Exit codes (README "Exit codes"): 0 nothing at or above --fail-on; 1 findings at or above it;
2 usage error, unknown container, unreadable bundle or unusable output directory; 3 the engine
cannot be reached or refuses us; 70 internal error; 128+signal when a signal ends the run: 130
interrupted (Ctrl-C), 143 SIGTERM, 129 SIGHUP (diagnose/model/interrupts.py).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_ENGINE = 3
EXIT_INTERNAL = 70


class DiagnoseError(Exception):
    """Base class: a one-line message plus an optional hint."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(DiagnoseError):
    """Bad input from the user."""

    exit_code = EXIT_USAGE


class TargetNotFound(UsageError):
    """No container matches a name, ID or prefix."""


class AmbiguousTarget(UsageError):
    """An ID prefix matches several containers."""


class BundleError(UsageError):
    """A bundle given to `analyze` or `redact` is missing, truncated, corrupt or foreign."""


class OutputError(UsageError):
    """The output directory is missing, not writable or full."""


class EngineError(DiagnoseError):
    """The Docker engine cannot be reached, or refuses us."""

    exit_code = EXIT_ENGINE


class SecretLeak(DiagnoseError):
    """The finished bundle still held a secret value: it was deleted."""

    exit_code = EXIT_INTERNAL
