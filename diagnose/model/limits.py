"""The hard bounds of a bundle, in one place: what `diagnose analyze` and `diagnose redact` read,
and what a live run may write (README, "The bundle" and "When things go wrong").

A bundle is input from anywhere (a ticket attachment, a download), so reading one is bounded
in every dimension that costs memory or time: the archive as a whole, each member, what one
container or service holds while it is analysed, and what the run keeps until its end.  The
numbers are chosen so that (1) no bundle diagnose writes exceeds them (the live run refuses,
with one line, what would: more containers than MAX_CONTAINERS, a --max-log-bytes above
MAX_LOG_BYTES...), and (2) `analyze` and `redact` stay under about 512 MiB of memory at every
bound (tests/unit/bundle/test_bounds.py measures it).

JSON memory is bounded by counting *items* (strings, numbers, objects, arrays...) before a
document is parsed: a parsed item costs up to about 75 bytes of memory whatever its size on
disk (`[{},{},...]` is 25 times its text), so bytes alone would not bound it.
"""

from __future__ import annotations

from diagnose.model.text import GiB, KiB, MiB

# -- the archive ------------------------------------------------------------------------------
#: The uncompressed tar stream, headers and padding included (a decompression bomb ends here).
MAX_BUNDLE_BYTES = 32 * GiB
#: Members of the archive, directories included.
MAX_MEMBERS = 100_000
#: A tar metadata block (pax extended header, GNU long name): tarfile reads it whole.
MAX_TAR_HEADER_BYTES = 64 * KiB
#: Zero bytes tolerated after the tar end-of-archive blocks (tar pads to 20-block records).
MAX_TAR_PADDING = 20 * 512

# -- members ----------------------------------------------------------------------------------
#: A log, or a report (findings.json, summary.md, summary.html): read as a stream, never whole.
#: Also the largest --max-log-bytes a live run takes.
MAX_LOG_BYTES = 1 * GiB
#: Any other member (JSON documents, tracebacks): read whole.
MAX_FILE_BYTES = 16 * MiB
#: Nesting of a JSON document (diagnose writes 10 at most; the parser recurses).
MAX_JSON_DEPTH = 64

# -- what a run holds -------------------------------------------------------------------------
#: Containers in one bundle, over every engine.
MAX_CONTAINERS = 1_000
#: Swarm services in one bundle (`diagnose service NAME...`).
MAX_SERVICES = 20
#: Engines in one bundle (`--host`/`--context` repeated).
MAX_ENGINES = 16
#: The files of one container or service held while it is analysed: the bytes of its members
#: read whole plus the analysed windows of its logs, and the JSON items among them.
MAX_TARGET_BYTES = 64 * MiB
MAX_TARGET_ITEMS = 500_000
#: What the run keeps to its end: the manifest, every engine's engine/ and host/ files and every
#: container's inspect.json (run-scope checks read them).
MAX_KEPT_BYTES = 64 * MiB
MAX_KEPT_ITEMS = 2_000_000
#: Changes kept from `docker diff` (a container that wrote a million files would otherwise make
#: a diff.json beyond MAX_FILE_BYTES).
MAX_DIFF_ENTRIES = 50_000

# -- what a report quotes ---------------------------------------------------------------------
#: A finding's title, fact, remediation or decision-path text, and an evidence excerpt, are cut
#: beyond these (a log line or label can be megabytes long); a check lists at most
#: MAX_FINDINGS_PER_CHECK findings per target, each with at most MAX_REPORT_ITEMS facts,
#: evidence pointers and commands.
REPORT_TEXT_CHARS = 2_000
REPORT_EXCERPT_CHARS = 8_000
MAX_FINDINGS_PER_CHECK = 50
MAX_REPORT_ITEMS = 40
#: Rows of a Swarm service's tasks (and nodes) table in a report (`tasks_total` counts all).
MAX_REPORT_TASKS = 1_000

# -- the analysed part of a log ---------------------------------------------------------------
#: Checks read the first lines of each log stream (where the first error of a start-up is) and
#: its last lines (where the lines that explain an exit are); the lines in between are counted
#: and reported as not analysed.  A stream of at most LOG_TAIL_BYTES and LOG_TAIL_LINES (every
#: log collected with the default --tail 2000 and --max-log-bytes 8M) is analysed whole.
LOG_HEAD_LINES = 1_000
LOG_HEAD_BYTES = 1 * MiB
LOG_TAIL_LINES = 20_000
LOG_TAIL_BYTES = 8 * MiB
#: Logs larger than this are read from the archive as a stream: only their window is kept.
LOG_WINDOW_BYTES = LOG_HEAD_BYTES + LOG_TAIL_BYTES
#: `diagnose redact` redacts a streamed log in pieces of whole lines of about this size.
REDACT_CHUNK_BYTES = 4 * MiB

