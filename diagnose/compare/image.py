"""The image each side runs and the engine it runs on: what a redeploy most often changes.

The image is compared as the user named it (`Config.Image`), by ID (the tag may point
elsewhere now: rebuilt or pulled again), by digest and platform, and by its build steps: the
history's `CreatedBy` lines are aligned (difflib) so a layer added or removed shows as that
step, and when the steps are the same but the image is not, how many layers hold other files.
The engines are compared only when the sides are on different engines.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from diagnose.compare.items import Fields, Item, differ
from diagnose.evidence import layout
from diagnose.evidence.container import ContainerEvidence
from diagnose.model.diff import Category, Change, Difference, Unknown
from diagnose.model.findings import Evidence
from diagnose.model.jsonview import as_list, as_map
from diagnose.model.text import human_bytes

#: Layers listed one by one (per side) before the rest are counted.
MAX_LAYERS = 20

_TAG_MOVED = ("the tag {ref} points to a different image on B than on A (rebuilt, or pulled "
              "again): the code, libraries and defaults of the image may all have changed")


def image_fields(c: ContainerEvidence) -> Fields:
    """Image reference, ID, digests and platform."""
    image = c.image
    image_file = c.path(layout.IMAGE_INSPECT)
    out: dict[str, Item] = {
        "image": Item(c.image_ref, file=c.path(layout.INSPECT), pointer="/Config/Image",
                      subjects=(c.image_ref,)),
    }
    image_id = str(c.inspect.get("Image") or "")
    if image_id:
        out["image ID"] = Item(short_id(image_id), image_id, c.path(layout.INSPECT), "/Image")
    digests = sorted(str(d) for d in as_list(image.get("RepoDigests")))
    if digests:
        out["digest"] = Item(", ".join(digests), file=image_file, pointer="/RepoDigests")
    platform = "/".join(str(image.get(k)) for k in ("Os", "Architecture", "Variant")
                        if image.get(k))
    if platform:
        out["platform"] = Item(platform, file=image_file, pointer="/Architecture")
    return out


def short_id(image_id: str) -> str:
    """`sha256:` and the first 12 hex digits."""
    algo, _, digest = image_id.partition(":")
    return f"{algo}:{digest[:12]}" if digest else image_id[:12]


def compare_image(a: ContainerEvidence, b: ContainerEvidence, together: bool, reason: str
                  ) -> tuple[list[Difference], list[Unknown]]:
    """Image differences: the fields, then the build steps added or removed."""
    found, unknown = differ(Category.IMAGE, image_fields(a), image_fields(b), together, reason)
    if a.image_ref == b.image_ref:
        moved = _TAG_MOVED.format(ref=a.image_ref)
        found = [_reasoned(d, moved) if d.field == "image ID" else d for d in found]
    if str(a.inspect.get("Image") or "") != str(b.inspect.get("Image") or ""):
        found += layers(a, b, reason)
    return found, unknown


def _reasoned(d: Difference, reason: str) -> Difference:
    return Difference(d.category, d.field, d.change, d.a, d.b, reason,
                      evidence_a=d.evidence_a, evidence_b=d.evidence_b, subjects=d.subjects,
                      pointers=d.pointers)


def step(entry: Mapping[str, Any]) -> str:
    """A history entry's build step as a Dockerfile reads (`RUN ...`, `CMD [...]`)."""
    created = " ".join(str(entry.get("CreatedBy") or "").split())
    if created.startswith("/bin/sh -c #(nop) "):
        return created[len("/bin/sh -c #(nop) "):].strip()
    if created.startswith("/bin/sh -c "):
        return "RUN " + created[len("/bin/sh -c "):]
    return created or f"(no build step: {entry.get('Comment') or 'base layer'})"


def layers(a: ContainerEvidence, b: ContainerEvidence, reason: str) -> list[Difference]:
    """Build steps on one side only (history aligned oldest first), each with its CreatedBy;
    when both images have the same steps, how many layers hold other files."""
    ha, hb = list(reversed(a.history)), list(reversed(b.history))
    if not ha or not hb:
        return []
    sa, sb = [step(e) for e in ha], [step(e) for e in hb]
    found: list[Difference] = []
    matcher = difflib.SequenceMatcher(a=sa, b=sb, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op in ("delete", "replace"):
            found += [_layer(a, ha, i, len(ha), Change.REMOVED, reason) for i in range(i1, i2)]
        if op in ("insert", "replace"):
            found += [_layer(b, hb, j, len(hb), Change.ADDED, reason) for j in range(j1, j2)]
    if not found:
        return _contents(a, b, reason)
    return _capped(found)


def _layer(c: ContainerEvidence, history: list[Mapping[str, Any]], index: int, count: int,
           change: Change, reason: str) -> Difference:
    """One build step of one side (`index` oldest first; history.json lists newest first)."""
    entry = history[index]
    text = f"{step(entry)} ({human_bytes(entry.get('Size', 0))})"
    ev = (Evidence(c.path(layout.IMAGE_HISTORY), f"/{count - 1 - index}", excerpt=text),)
    on_a = change is Change.REMOVED
    return Difference(Category.IMAGE, f"layer {index + 1}", change, text if on_a else None,
                      None if on_a else text, reason, evidence_a=ev if on_a else (),
                      evidence_b=() if on_a else ev)


def _capped(found: list[Difference]) -> list[Difference]:
    """At most MAX_LAYERS layers of each side, and a count of the rest."""
    out: list[Difference] = []
    for change in (Change.REMOVED, Change.ADDED):
        mine = [d for d in found if d.change is change]
        out += mine[:MAX_LAYERS]
        if len(mine) > MAX_LAYERS:
            rest = f"{len(mine) - MAX_LAYERS} more layers"
            on_a = change is Change.REMOVED
            out.append(Difference(Category.IMAGE, "more layers", change,
                                  rest if on_a else None, None if on_a else rest,
                                  mine[0].reason))
    return out


def _contents(a: ContainerEvidence, b: ContainerEvidence, reason: str) -> list[Difference]:
    """Same build steps, other image: the layers (RootFS.Layers) that hold other files."""
    la = [str(x) for x in as_list(as_map(a.image.get("RootFS")).get("Layers"))]
    lb = [str(x) for x in as_list(as_map(b.image.get("RootFS")).get("Layers"))]
    if not la or not lb or la == lb:
        return []
    other = sum(x != y for x, y in zip(la, lb, strict=False)) + abs(len(la) - len(lb))
    return [Difference(
        Category.IMAGE, "layer contents", Change.CHANGED, f"{len(la)} layers",
        f"{len(lb)} layers, {other} of them with other files (same build steps)",
        reason + "; the same build steps produced other files (a changed base image, "
        "copied files or downloads)",
        evidence_a=(Evidence(a.path(layout.IMAGE_INSPECT), "/RootFS/Layers"),),
        evidence_b=(Evidence(b.path(layout.IMAGE_INSPECT), "/RootFS/Layers"),))]


def engine_fields(c: ContainerEvidence) -> Fields:
    """The engine's version, platform, kernel, storage driver, cgroups and runtime."""
    version, info = c.engine.version, c.engine.info
    vfile = c.prefix + layout.ENGINE_VERSION
    ifile = c.prefix + layout.ENGINE_INFO
    pairs = (
        ("version", version.get("Version"), vfile, "/Version"),
        ("API version", version.get("ApiVersion"), vfile, "/ApiVersion"),
        ("OS/arch", _joined(version.get("Os"), version.get("Arch")), vfile, "/Arch"),
        ("kernel", version.get("KernelVersion"), vfile, "/KernelVersion"),
        ("operating system", info.get("OperatingSystem"), ifile, "/OperatingSystem"),
        ("storage driver", info.get("Driver"), ifile, "/Driver"),
        ("cgroups", _joined(info.get("CgroupDriver"), info.get("CgroupVersion") and
                            f"v{info.get('CgroupVersion')}"), ifile, "/CgroupVersion"),
        ("default runtime", info.get("DefaultRuntime"), ifile, "/DefaultRuntime"),
        ("security options", ", ".join(str(s) for s in as_list(info.get("SecurityOptions"))),
         ifile, "/SecurityOptions"),
    )
    return {name: Item(str(value), file=path, pointer=pointer)
            for name, value, path, pointer in pairs if value}


def _joined(*parts: Any) -> str:
    return "/".join(str(p) for p in parts if p)


def same_engine(a: ContainerEvidence, b: ContainerEvidence) -> bool:
    """Were both sides collected from one engine?  By the engine's ID when both have it
    (an ID is not redacted), else by its endpoint."""
    ia, ib = str(a.engine.info.get("ID") or ""), str(b.engine.info.get("ID") or "")
    if ia and ib:
        return ia == ib
    return a.engine.endpoint == b.engine.endpoint
