"""`diagnose diff A B`: obtain both sides as evidence and reports, then compare them.

A side is a live container (on the default engine, or the one `--host`/`--context` name for
both sides, or `--host-a`/`--context-a`... for one) or a bundle (`BUNDLE` with one container,
`BUNDLE:NAME` to pick one).  Live containers go through the very run `diagnose CONTAINER`
makes (collection, redaction, analysis, bundle): the live sides of one engine are collected in
ONE run, so one redactor sees both and their secrets' placeholders can be compared.  The
bundle is written to a temporary directory and removed afterwards (kept with `--output`),
then read back through the same replay as `diagnose analyze`; so live and bundle sides are
read by one path and reach the same findings.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from diagnose.analysis.registry import registry_for
from diagnose.bundle.reader import BundleReader
from diagnose.compare.diff import Options, Party, compare
from diagnose.evidence.container import ContainerEvidence
from diagnose.model import interrupts
from diagnose.model.diff import Diff
from diagnose.model.errors import UsageError
from diagnose.model.options import Progress, RunOptions
from diagnose.model.report import TargetReport
from diagnose.pipeline.replay import replay
from diagnose.redact.redactor import Redactor
from diagnose.redact.rules import secret_name
from diagnose.runs.live import run_live


@dataclass(frozen=True)
class SideRef:
    """A side as named on the command line: a container (with its engine) or a bundle."""

    label: str
    ref: str
    hosts: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()

    @property
    def bundle(self) -> tuple[Path, str] | None:
        """(path, container name or "") when the side is a bundle: a path with a `/` or
        ending in .tar.gz or .tgz, optionally followed by `:NAME` (container names hold
        neither `/` nor `:`); anything else is a container."""
        head, sep, name = self.ref.rpartition(":")
        path = head if sep and _bundle_path(head) else self.ref
        if not _bundle_path(path):
            return None
        if not Path(path).is_file():
            raise UsageError(f"side {self.label}: no such bundle: {path}",
                             "give a container name, a bundle path or BUNDLE:NAME")
        return Path(path), name if path == head else ""

    @property
    def engine(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Which engine a live side is on (sides on one engine are collected together)."""
        return self.hosts, self.contexts


def _bundle_path(text: str) -> bool:
    return "/" in text or text.endswith((".tar.gz", ".tgz"))


@dataclass(frozen=True)
class DiffOptions:
    """What the CLI parsed: the sides, the live run's options, how to compare."""

    a: SideRef
    b: SideRef
    run: RunOptions
    all_fields: bool = False
    keep_dir: Path | None = None


def _match(want: str, key: str, name: str, cid: str) -> int:
    """How `want` names a container: 2 by its name or bundle key, 1 by an ID prefix, 0 not."""
    if want in (key, name.lstrip("/")):
        return 2
    return 1 if want and cid.startswith(want) else 0


class _Read:
    """One bundle read back: its reports, and the whole evidence (logs included) of the
    containers asked for only (a bundle may hold a thousand)."""

    def __init__(self, bundle: Path, wanted: tuple[str, ...], run: RunOptions) -> None:
        self.bundle, self.wanted = bundle, wanted
        parts, members = BundleReader(bundle).members()
        self.whole: dict[str, ContainerEvidence] = {}
        # A bundle written with --no-redact is redacted as it is read, as `diagnose analyze`
        # does: diff never prints a secret.
        redacted = bool((parts.manifest.get("redaction") or {}).get("enabled", True))
        redactor = Redactor(not redacted, run.redact_patterns, run.redact_names)
        done = replay(parts, members, registry_for(run.plugins), redactor, debug=run.debug,
                      whole=self.keep)
        self.reports = done.reports

    def keep(self, ev: ContainerEvidence) -> None:
        """Hold `ev` when a side asks for it ("": the bundle's only container, so the first)."""
        if any(_match(w, ev.key, ev.name, ev.id) for w in self.wanted if w) or (
                "" in self.wanted and not self.whole):
            # Engine prefix + key: two engines of one bundle may hold the same key.
            self.whole[ev.prefix + ev.key] = ev

    def pick(self, side: SideRef, name: str) -> tuple[ContainerEvidence, TargetReport]:
        """The container `name` names (by name or key before an ID prefix), or the only one."""
        scored = [(_match(name, r.key, r.name, r.id) if name else 2, r) for r in self.reports]
        best = max((score for score, _ in scored), default=0)
        found = [r for score, r in scored if score and score == best]
        if not found:
            names = ", ".join(r.name.lstrip("/") for r in self.reports) or "none"
            raise UsageError(f"side {side.label}: no container {name!r} in {self.bundle}",
                             f"it holds: {names}")
        if len(found) > 1:
            names = ", ".join(r.name.lstrip("/") for r in found)
            raise UsageError(f"side {side.label}: {self.bundle} holds several containers "
                             f"({names})", f"pick one with {self.bundle}:NAME")
        report = found[0]
        ev = next((e for k, e in self.whole.items() if e.key == report.key
                   and (not report.engine or k.startswith(f"engines/{report.engine}/"))),
                  None)
        if ev is None:
            raise UsageError(f"side {side.label}: {report.name} has no container evidence "
                             f"in {self.bundle}")
        return ev, report


def run_diff(opts: DiffOptions, progress: Progress) -> Diff:
    """Both sides obtained, compared."""
    with contextlib.ExitStack() as stack:
        out = opts.keep_dir or Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="diagnose-diff-")))
        if opts.keep_dir is None:
            # A signal ends the run without unwinding this thread: remove the directory then.
            def remove() -> None:
                shutil.rmtree(out, ignore_errors=True)

            interrupts.at_stop(remove)
            stack.callback(interrupts.forget, remove)
        reads: dict[tuple[object, ...], _Read] = {}
        parties = []
        for side in (opts.a, opts.b):
            read, name, key = _side(side, opts, out, reads, progress)
            ev, report = read.pick(side, name)
            source = "bundle" if key[0] == "bundle" else "live"
            kept = str(read.bundle) if source == "bundle" or opts.keep_dir else None
            parties.append((Party(side.label, side.ref, source, ev, report, kept), key))
        (a, ka), (b, kb) = parties
        secret: Callable[[str], bool] = lambda n: secret_name(n, opts.run.redact_names)  # noqa: E731
        return compare(a, b, Options(secret, together=ka == kb, all_fields=opts.all_fields))


def _side(side: SideRef, opts: DiffOptions, out: Path, reads: dict[tuple[object, ...], _Read],
          progress: Progress) -> tuple[_Read, str, tuple[object, ...]]:
    """The read bundle holding `side` (one live run per engine, one read per bundle)."""
    bundle = side.bundle
    sides = (opts.a, opts.b)
    if bundle is not None:
        key: tuple[object, ...] = ("bundle", bundle[0].resolve())
        if key not in reads:
            wanted = tuple(b[1] for s in sides if (b := s.bundle) is not None
                           and b[0].resolve() == key[1])
            reads[key] = _Read(bundle[0], wanted, opts.run)
        return reads[key], bundle[1], key
    key = ("live", side.engine)
    if key not in reads:
        names = tuple(dict.fromkeys(s.ref for s in sides
                                    if s.bundle is None and s.engine == side.engine))
        run = replace(opts.run, targets=names, hosts=side.hosts, contexts=side.contexts,
                      output_dir=out)
        result = run_live(run, progress)
        assert result.bundle is not None
        reads[key] = _Read(result.bundle, names, opts.run)
    return reads[key], side.ref, key
