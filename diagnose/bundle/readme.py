"""README.txt: the bundle's own cover note, right after the manifest.

Whoever receives a bundle (a support engineer, a maintainer reading a bug report) unpacks it
and sees one directory; this note says what the bundle is, which file to open first and what
each directory holds, without needing diagnose installed.  It is a function of what the report
says (the run's kind and targets), so a replay or `diagnose redact` writes the same note.
"""

from __future__ import annotations

from collections.abc import Sequence

from diagnose.model.text import clip

#: Targets named in the note (the report lists them all).
MAX_NAMED = 10

_LAYOUT = """\
Open first
  summary.html    the report as one self-contained page (open it in a browser)
  summary.md      the same report in Markdown (paste it into an issue)
  findings.json   the same report for programs (schema diagnose/v1)

What each file and directory holds
  manifest.json   how the bundle was made: tool version, command line (secrets removed),
                  start and end time, the engine, every collector's status (ok, skipped,
                  failed and why), every file's size and sha256, the redaction report
  engine/         the Docker engine: docker version, docker info, disk usage (docker system
                  df) and the cleanup lists; in a run about some containers, only totals of
                  what they do not use (no other container, image, volume or network named)
  host/           the machine: CPUs, memory, swap, load, free space on the engine data root
  containers/     one directory per container diagnosed: inspect.json, logs/stdout.log and
                  logs/stderr.log, processes, image inspect and history, events, diff, stats,
                  networks, mounts, the entrypoint probe; errors/ holds any collector's
                  traceback
  services/       (diagnose service) one directory per Swarm service: spec, tasks, nodes, logs
  engines/        (several engines) one directory per engine, each with the layout above

Secrets (passwords, tokens, keys...) were replaced by [redacted-N] markers before anything
was written, unless the bundle's name ends in -UNREDACTED.  Every file is listed in
manifest.json with its sha256.  Read it again offline, with no engine:

  diagnose analyze BUNDLE.tar.gz
"""


def readme(kind: str, targets: Sequence[str]) -> bytes:
    """The note for a run of `kind` ('containers', 'services' or 'engine') about `targets`."""
    if kind == "engine":
        what = "the Docker engine alone (diagnose engine)"
    else:
        named = ", ".join(clip(t, 80) for t in targets[:MAX_NAMED])
        more = f" and {len(targets) - MAX_NAMED} more" if len(targets) > MAX_NAMED else ""
        noun = ("Swarm service" if kind == "services" else "container") + \
            ("s" if len(targets) != 1 else "")
        what = f"{len(targets)} {noun}: {named}{more}"
    head = ("This is a support bundle written by diagnose, a tool that finds why a Docker "
            f"container misbehaves.\nIt is about {what}.\n\n")
    return (head + _LAYOUT).encode("utf-8")
