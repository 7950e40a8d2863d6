"""Write a minimal static aarch64 (ARM64) ELF executable: `_start: exit(3)`.

No cross compiler is needed: the program is three instructions.  On an x86-64 kernel without
an emulator registered in binfmt_misc, execve() of it fails with ENOEXEC ("exec format
error"), which is what an arm64 image's binaries do on an amd64 engine.
Usage: python3 foreign_elf.py OUTPUT
"""

import os
import struct
import sys

BASE = 0x400000
EHDR, PHDR = 64, 56
CODE = struct.pack("<3I",
                   0xD2800060,   # mov x0, #3
                   0xD2800BA8,   # mov x8, #93  (exit)
                   0xD4000001)   # svc #0


def elf() -> bytes:
    entry = BASE + EHDR + PHDR
    total = EHDR + PHDR + len(CODE)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)   # 64-bit, little endian, SysV
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 0xB7, 1, entry, EHDR, 0, 0,
                               EHDR, PHDR, 1, 0, 0, 0)    # ET_EXEC, EM_AARCH64
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, BASE, BASE, total, total, 0x10000)  # PT_LOAD r-x
    return ehdr + phdr + CODE


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as fh:
        fh.write(elf())
    os.chmod(sys.argv[1], 0o755)
