"""What a redaction found clean, remembered while the redactor learns nothing new."""

from __future__ import annotations

from typing import Generic, TypeVar

_T = TypeVar("_T", str, bytes)


class CleanMemo(Generic[_T]):
    """Inputs a redaction left unchanged, while the learned values are the same: a clean
    string (or file) stays clean until a value is learned.  `stamp` is the redactor's
    :meth:`diagnose.redact.text.TextRedactor.learned`; at most `max_entries` are kept, none
    longer than `max_len`."""

    def __init__(self, max_entries: int, max_len: int) -> None:
        self.max_entries, self.max_len = max_entries, max_len
        self._clean: set[_T] = set()
        self._for = (0, 0)

    def known(self, stamp: tuple[int, int], value: _T) -> bool:
        """Whether `value` was found clean with these learned values (forgets the others)."""
        if stamp != self._for:
            self._clean.clear()
            self._for = stamp
            return False
        return value in self._clean

    def add(self, stamp: tuple[int, int], value: _T) -> None:
        """`value` came out unchanged and the learned values are still `stamp`'s (the ones
        :meth:`known` was asked with): remember it."""
        if stamp == self._for and len(value) <= self.max_len:
            if len(self._clean) >= self.max_entries:
                self._clean.clear()
            self._clean.add(value)
