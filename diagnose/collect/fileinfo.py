"""Read what kind of executable a file is from its first bytes: ELF facts or a shebang line.

Pure functions over bytes; the entrypoint probe feeds them the head of a file read from the
container's filesystem through the engine's archive endpoint.
"""

from __future__ import annotations

import struct
from typing import Any

#: e_machine values (elf.h) for the architectures containers actually run on.
ELF_MACHINES = {
    0x03: "i386",
    0x08: "mips",
    0x14: "ppc",
    0x15: "ppc64",
    0x16: "s390x",
    0x28: "arm",
    0x3E: "x86_64",
    0xB7: "aarch64",
    0xF3: "riscv64",
    0x102: "loongarch64",
}

#: docker info "Architecture" (uname -m) -> the e_machine names that run natively there.
NATIVE = {
    "x86_64": {"x86_64", "i386"},
    "amd64": {"x86_64", "i386"},
    "aarch64": {"aarch64", "arm"},
    "arm64": {"aarch64", "arm"},
    "armv7l": {"arm"},
    "s390x": {"s390x"},
    "ppc64le": {"ppc64"},
    "riscv64": {"riscv64"},
}

PT_INTERP = 3
ET_TYPES = {1: "relocatable", 2: "executable", 3: "shared-object", 4: "core"}


def describe(head: bytes) -> dict[str, Any]:
    """Classify a file head: `elf`, `script` (shebang), `empty` or `data`."""
    info: dict[str, Any] = {"head_hex": head[:16].hex(" "), "kind": "data"}
    if not head:
        info["kind"] = "empty"
        return info
    if head.startswith(b"\x7fELF"):
        info["kind"] = "elf"
        info.update(parse_elf(head))
        return info
    body = head
    if body.startswith(b"\xef\xbb\xbf"):
        info["bom"] = True
        body = body[3:]
    if body.startswith(b"#!"):
        info["kind"] = "script"
        info.update(parse_shebang(body))
    elif head.startswith(b"\xef\xbb\xbf"):
        info["kind"] = "data"
    return info


def parse_shebang(body: bytes) -> dict[str, Any]:
    """The `#!` line: raw text (CR kept, shown as \\r), interpreter, argument, CRLF flag."""
    line, _, _ = body.partition(b"\n")
    raw = line.decode("utf-8", errors="replace")
    crlf = raw.endswith("\r")
    text = raw[2:].strip(" \t\r")
    interp, _, arg = text.partition(" ")
    interp = interp.strip()
    arg = arg.strip()
    # The kernel passes everything after the interpreter path as one argument, CR included.
    raw_interp = raw[2:].lstrip(" \t").split(" ")[0].split("\t")[0]
    out: dict[str, Any] = {
        "shebang": raw,
        "shebang_crlf": crlf,
        "interpreter_path": raw_interp,
        "interpreter_clean": interp,
        "interpreter_arg": arg,
    }
    if interp.endswith("/env") and arg:
        out["env_program"] = arg.split()[0] if arg.split() else ""
    return out


def parse_elf(head: bytes) -> dict[str, Any]:
    """ELF class, byte order, type, machine and the PT_INTERP loader (when in the head)."""
    out: dict[str, Any] = {}
    if len(head) < 52:
        out["elf_error"] = "truncated ELF header"
        return out
    ei_class = head[4]
    ei_data = head[5]
    out["elf_class"] = {1: "ELF32", 2: "ELF64"}.get(ei_class, f"class {ei_class}")
    end = "<" if ei_data == 1 else ">"
    out["byte_order"] = "little" if ei_data == 1 else "big"
    e_type, e_machine = struct.unpack_from(end + "HH", head, 16)
    out["elf_type"] = ET_TYPES.get(e_type, str(e_type))
    out["machine"] = ELF_MACHINES.get(e_machine, f"0x{e_machine:x}")
    out["machine_code"] = e_machine
    try:
        if ei_class == 2:
            e_phoff = struct.unpack_from(end + "Q", head, 32)[0]
            e_phentsize, e_phnum = struct.unpack_from(end + "HH", head, 54)
        else:
            e_phoff = struct.unpack_from(end + "I", head, 28)[0]
            e_phentsize, e_phnum = struct.unpack_from(end + "HH", head, 42)
    except struct.error:
        out["elf_error"] = "truncated ELF header"
        return out
    out["static"] = True
    for i in range(e_phnum):
        off = e_phoff + i * e_phentsize
        if off + e_phentsize > len(head):
            out["static"] = None  # program headers beyond what we read
            out.setdefault("elf_error", "program headers beyond the bytes read")
            break
        p_type = struct.unpack_from(end + "I", head, off)[0]
        if p_type != PT_INTERP:
            continue
        if ei_class == 2:
            p_offset = struct.unpack_from(end + "Q", head, off + 8)[0]
            p_filesz = struct.unpack_from(end + "Q", head, off + 32)[0]
        else:
            p_offset = struct.unpack_from(end + "I", head, off + 4)[0]
            p_filesz = struct.unpack_from(end + "I", head, off + 16)[0]
        out["static"] = False
        if p_offset + p_filesz <= len(head):
            out["interpreter"] = head[p_offset : p_offset + p_filesz].rstrip(b"\0").decode(
                "utf-8", errors="replace"
            )
        else:
            out["elf_error"] = "PT_INTERP beyond the bytes read"
        break
    return out


def runs_natively(machine: str, engine_arch: str) -> bool | None:
    """Whether an ELF machine runs on the engine's architecture (None when unknown)."""
    native = NATIVE.get(engine_arch)
    if native is None or not machine:
        return None
    return machine in native


def mode_string(mode: int) -> str:
    """`0755`-style permission bits."""
    return f"0{mode & 0o7777:o}"
