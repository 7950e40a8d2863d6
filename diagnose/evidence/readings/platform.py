"""The image's platform against the engine's: names normalised to the OCI ones.

`docker info` reports the host's machine as the kernel names it (`x86_64`, `aarch64`,
`armv7l`), images say `amd64`, `arm64`, `arm` + variant.  The engine's warning at create time
(`The requested image's platform (linux/arm64/v8) does not match the detected host platform
(linux/amd64) ...`) exists only in the create response, never in inspect, events or logs
(docs/taxonomy-notes.md, section 5): after the fact the two architectures are all there is.
Pure functions of one container's evidence.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnose.evidence.container import ContainerEvidence

#: The kernel's machine names (uname -m, docker info Architecture) as OCI architectures.
MACHINE_TO_OCI = {
    "x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
    "armv7l": "arm", "armv6l": "arm", "armhf": "arm", "arm": "arm", "i386": "386",
    "i686": "386", "386": "386", "ppc64le": "ppc64le", "s390x": "s390x",
    "riscv64": "riscv64", "mips64": "mips64", "mips64le": "mips64le", "loong64": "loong64",
}


@dataclass(frozen=True)
class PlatformMismatch:
    """An image built for another architecture than the engine's."""

    image: str   # os/arch[/variant] of the image
    engine: str  # os/arch of the engine


def platform_mismatch(c: ContainerEvidence) -> PlatformMismatch | None:
    """The image's platform when it is not the engine's (None when they match or either is
    unknown)."""
    arch = str(c.image.get("Architecture") or "")
    machine = c.engine.architecture
    if not arch or not machine:
        return None
    engine_arch = MACHINE_TO_OCI.get(machine.lower(), machine.lower())
    if MACHINE_TO_OCI.get(arch.lower(), arch.lower()) == engine_arch:
        return None
    os_ = str(c.image.get("Os") or "linux")
    variant = str(c.image.get("Variant") or "")
    image = f"{os_}/{arch}" + (f"/{variant}" if variant else "")
    engine_os = str(c.engine.info.get("OSType") or "linux")
    return PlatformMismatch(image, f"{engine_os}/{engine_arch}")
