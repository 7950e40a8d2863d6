"""The post-write rescan: a finished bundle is reread for every learned secret before it is
given its final name; if one survived, the bundle is refused (and deleted by the writer).
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from diagnose.evidence.logwindow import whole_lines
from diagnose.model.errors import SecretLeak
from diagnose.model.limits import REDACT_CHUNK_BYTES

#: How many learned secrets (in any of their spellings) a text holds: the redactor's `leaks`.
Leaks = Callable[[str], int]


def scan_for_secrets(path: Path, secrets: Sequence[str], leaks: Leaks) -> None:
    """Reread a finished archive; raise SecretLeak if any learned secret is still inside.

    Every member's name and bytes are searched (decoded the way the redactor reads them)
    with `leaks`, for each of the `secrets` learned and their escaped spellings.  Values are
    never shown: the error names the members only.
    """
    if not secrets:
        return
    leaked: list[str] = []
    with tarfile.open(path, "r:gz") as tf:
        for member in tf:
            found = leaks(member.name)
            if member.isreg():
                fh = tf.extractfile(member)
                if fh is not None:
                    found += _leaks_in(fh, member.size, secrets, leaks)
            if found:
                leaked.append(member.name)
    if leaked:
        shown = ", ".join(leaked[:5]) + (f" (+{len(leaked) - 5} more)" if len(leaked) > 5 else "")
        raise SecretLeak(
            f"a secret survived redaction in {shown}; the bundle was deleted",
            "report this as a bug (without the secret); meanwhile add a pattern with "
            "--redact REGEX or collect the containers one at a time",
        )


def _leaks_in(fh: IO[bytes], size: int, secrets: Sequence[str], leaks: Leaks) -> int:
    """Learned secrets in one member; a large one (a long log) is read in pieces of whole
    lines, each searched together with the end of the piece before it (at least as long as
    the longest secret, from a line start), so nothing is missed at a boundary."""
    if size <= REDACT_CHUNK_BYTES:
        return leaks(fh.read().decode("utf-8", "surrogateescape"))
    longest = max((len(v.encode("utf-8", "surrogateescape")) for v in secrets),
                  default=0)
    tail = b""
    for piece in whole_lines(iter(lambda: fh.read(1 << 20), b""), REDACT_CHUNK_BYTES):
        if leaks((tail + piece).decode("utf-8", "surrogateescape")):
            return 1
        cut = len(piece) - longest
        tail = piece[piece.rfind(b"\n", 0, cut) + 1:] if cut > 0 else tail + piece
    return 0
