"""The comparison of two sides: every category read on both, differences ranked.

:func:`compare` is the one entry point: two :class:`Party` values (a container's evidence,
its report, and how the user named it) in, a :class:`~diagnose.model.diff.Diff` out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from diagnose.compare import config, image, outcome, rank
from diagnose.compare.items import Fields, Item, differ
from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.model.diff import Category, Diff, Difference, Side, Unknown
from diagnose.model.report import TargetReport


@dataclass(frozen=True)
class Party:
    """One side as the run obtained it: `ref` as the user wrote it, `source` `live` or
    `bundle`, `bundle` the bundle's path (read, or written and kept)."""

    label: str
    ref: str
    source: str
    evidence: ContainerEvidence
    report: TargetReport
    bundle: str | None = None

    def side(self, failing: bool) -> Side:
        """The side as the reports show it."""
        c, r = self.evidence, self.report
        v = r.verdict
        verdict = None if v is None else {
            "id": v.id, "code": v.code, "title": v.title,
            "severity": v.severity.label if v.severity else None}
        return Side(self.label, self.ref, self.source, r.name, r.id, r.image, r.status,
                    r.exit_code, r.summary, engine=c.engine.endpoint,
                    engine_version=str(c.engine.version.get("Version") or ""),
                    bundle=self.bundle, verdict=verdict, failing=failing)


@dataclass(frozen=True)
class Options:
    """How to compare: `secret` tells secret names (the redaction rules'), `together`
    whether both sides went through one redaction (placeholders comparable), `all_fields`
    whether what always differs is compared too."""

    secret: Callable[[str], bool]
    together: bool
    all_fields: bool = False


_WHY = {
    Category.COMMAND: "the process started is another one",
    Category.ENV: "the program reads its configuration from the environment",
    Category.USER: "file access and what the process may do depend on the user",
    Category.WORKDIR: "relative paths resolve elsewhere",
    Category.MOUNTS: "the files the program sees are other ones",
    Category.PORTS: "what is reachable from outside differs",
    Category.NETWORKS: "what the container can reach and by which names differs",
    Category.RESTART: "what happens after an exit differs",
    Category.LIMITS: "the kernel enforces other limits",
    Category.HEALTHCHECK: "the engine judges health differently",
    Category.CAPABILITIES: "the process may do other privileged things",
    Category.SECURITY: "seccomp/AppArmor/namespaces allow other things",
    Category.READ_ONLY: "writes to the root filesystem fail on a read-only side",
    Category.LABELS: "tools that read labels (Compose, proxies) treat the sides differently",
    Category.ENGINE: "another engine, kernel or runtime runs the container",
    Category.IMAGE: "the code, libraries and defaults in the image may have changed",
    Category.OTHER: "a field that usually differs between any two containers",
}


def compare(a: Party, b: Party, opts: Options) -> Diff:
    """Every difference between `a` and `b`, ranked (see :mod:`diagnose.compare.rank`)."""
    ca, cb = a.evidence, b.evidence
    reading = config.Reading(opts.secret)
    found: list[Difference] = []
    unknown: list[Unknown] = []

    def add(got: tuple[list[Difference], list[Unknown]]) -> None:
        found.extend(got[0])
        unknown.extend(got[1])

    add(image.compare_image(ca, cb, opts.together, _WHY[Category.IMAGE]))
    add(configuration(ca, cb, reading, opts.together))
    if not image.same_engine(ca, cb):
        add(differ(Category.ENGINE, image.engine_fields(ca), image.engine_fields(cb), True,
                   _WHY[Category.ENGINE]))
    if opts.all_fields:
        add(differ(Category.OTHER, volatile(ca), volatile(cb), True, _WHY[Category.OTHER]))
        # What differs only once the volatile parts are read too (HOSTNAME, the container's
        # own aliases, anonymous volume names) is "other" as well: it never sets the exit code.
        seen = {(d.category, d.field, d.a, d.b) for d in found}
        full, _ = configuration(ca, cb, dataclasses.replace(reading, all_fields=True),
                                opts.together)
        found += [dataclasses.replace(d, category=Category.OTHER,
                                      field=f"{d.category.value} {d.field}",
                                      reason=_WHY[Category.OTHER])
                  for d in full if (d.category, d.field, d.a, d.b) not in seen]
    fail_a, fail_b = rank.failing(a.report), rank.failing(b.report)
    found += outcome.state(ca, a.report, cb, b.report)
    found += outcome.findings(a.report, b.report)
    if fail_b:
        found += outcome.logs(cb, ca, on_b=True)
    if fail_a:
        found += outcome.logs(ca, cb, on_b=False)
    causes = [*(rank.causes(b.report) if fail_b else ()),
              *(rank.causes(a.report) if fail_a else ())]
    return Diff(a.side(fail_a), b.side(fail_b), rank.ranked(found, causes), tuple(unknown),
                opts.all_fields)


def configuration(ca: ContainerEvidence, cb: ContainerEvidence, reading: config.Reading,
                  together: bool) -> tuple[list[Difference], list[Unknown]]:
    """The differences of every configuration category (command ... labels)."""
    found: list[Difference] = []
    unknown: list[Unknown] = []
    for category, read in config.READERS:
        got, lost = differ(category, read(ca, reading), read(cb, reading), together,
                           _WHY[category])
        found += got
        unknown += lost
    return found, unknown


def volatile(c: ContainerEvidence) -> Fields:
    """What always differs between two containers (only with `--all-fields`)."""
    file = c.path(layout.INSPECT)
    net = c.inspect.get("NetworkSettings") or {}
    pairs = (("ID", c.id, "/Id"), ("name", c.name, "/Name"),
             ("hostname", c.config.get("Hostname"), "/Config/Hostname"),
             ("created", c.inspect.get("Created"), "/Created"),
             ("started at", c.state.get("StartedAt"), "/State/StartedAt"),
             ("finished at", c.state.get("FinishedAt"), "/State/FinishedAt"),
             ("PID", c.state.get("Pid"), "/State/Pid"),
             ("IP address", net.get("IPAddress") if isinstance(net, dict) else None,
              "/NetworkSettings/IPAddress"))
    return {name: Item(str(v), file=file, pointer=p) for name, v, p in pairs if v}
