"""Shared setup for the start-stage (D1xx) engine tests: one image holding every kind of broken
entrypoint, and helpers to assert that exactly the expected cause is reported."""

from __future__ import annotations

import socket
import struct
from pathlib import Path
from typing import Any

from tests.support.engine import Engine
from tests.support.runs import Result, finding_ids, findings

#: Every slug of the start/exec branch, plus the exit-stage slugs that must stay silent for
#: these causes (they rely on signatures.explained_exit).
FAMILY = frozenset({
    "created-not-started", "entrypoint-not-found", "entrypoint-not-executable",
    "bad-shebang-crlf", "shebang-interpreter-missing", "missing-dynamic-loader",
    "exec-format-error", "invalid-user", "port-already-allocated", "network-not-found",
    "mount-source-missing", "bind-mount-type-mismatch", "logging-driver-failure",
    "start-failed", "app-exit-error", "command-not-found", "missing-shared-library",
})


def aarch64_elf() -> bytes:
    """A small, valid ELF64 executable header for aarch64 with one PT_LOAD segment."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    header = ident + struct.pack("<HHIQQQIHHHHHH", 2, 0xB7, 1, 0x400078, 64, 0, 0, 64, 56, 1,
                                 0, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, 0x80, 0x80, 0x1000)
    return header + phdr + b"\0" * 8


DOCKERFILE = """\
FROM diagnose-test/busybox:latest
COPY . /app/
RUN chmod 755 /app/crlf.sh /app/crlfenv.sh /app/bash.sh /app/envpy.sh /app/noshebang.sh \\
      /app/bom.sh /app/viadyn.sh /app/interp-noexec.sh /app/dyntrue /app/arm64bin \\
 && chmod 644 /app/noexec.sh /app/Dockerfile \\
 && mkdir -p /app/dir /app/bin && cp /app/noexec.sh /app/bin/tool && chmod 644 /app/bin/tool \\
 && ln -s /bin/env /usr/bin/env
ENV PATH=/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PROBE_CANARY=value-must-never-appear-7c1e
"""


def build_broken_image(engine: Engine) -> str:
    """Build the image with every broken entrypoint the D1xx tests need."""
    files: dict[str, bytes | str] = {
        "crlf.sh": b"#!/bin/sh\r\necho hi\r\n",
        "crlfenv.sh": b"#!/usr/bin/env sh\r\necho hi\r\n",
        "bash.sh": "#!/bin/bash\necho hi\n",
        "envpy.sh": "#!/usr/bin/env python3\nprint(1)\n",
        "noshebang.sh": "echo no shebang\n",
        "bom.sh": b"\xef\xbb\xbf#!/bin/sh\necho hi\n",
        "noexec.sh": "#!/bin/sh\necho hi\n",
        "interp-noexec.sh": "#!/app/noexec.sh\necho hi\n",
        "viadyn.sh": "#!/app/dyntrue\necho hi\n",
        # A glibc program from the host: its loader is not in the busybox-static image.
        "dyntrue": Path("/bin/true").read_bytes(),
        "arm64bin": aarch64_elf(),
    }
    return engine.build("start-broken", DOCKERFILE, files)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("", 0))
        return int(s.getsockname()[1])


def assert_cause(result: Result, target: str, slug: str) -> dict[str, Any]:
    """`slug` is reported for `target` and none of its look-alikes; returns the finding."""
    ids = finding_ids(result, target)
    assert slug in ids, f"{target}: {slug} not reported; got {sorted(ids)}"
    others = ids & (FAMILY - {slug})
    assert not others, f"{target}: look-alikes reported too: {sorted(others)}"
    return next(f for f in findings(result, target) if f["id"] == slug)


def text_of(finding: dict[str, Any]) -> str:
    """Title, facts, evidence excerpts and commands of a finding, as one string."""
    parts = [finding["title"]]
    parts += [f"{x['name']}: {x['value']}" for x in finding["facts"]]
    parts += [e["ref"] + " " + (e.get("excerpt") or "") for e in finding["evidence"]]
    rem = finding.get("remediation") or {}
    parts += [rem.get("summary", ""), *rem.get("commands", ())]
    return "\n".join(parts)


def comparable(doc: dict[str, Any]) -> list[tuple[str, str, list[Any]]]:
    """Findings of a JSON report reduced to what must match between live and offline runs."""
    out = []
    for t in doc["targets"]:
        for f in t["findings"]:
            out.append((t["name"], f["id"], [f["title"], f["severity"], f["facts"],
                                              f["evidence"], f["remediation"]]))
    return sorted(out, key=lambda x: (x[0], x[1]))
