"""ELF and shebang reading from real files."""

from __future__ import annotations

import shutil
import struct
import sys

from diagnose.collect.fileinfo import describe, runs_natively


def test_real_dynamic_elf_has_a_loader():
    head = open(sys.executable, "rb").read(65536)
    info = describe(head)
    assert info["kind"] == "elf" and info["elf_class"] == "ELF64"
    assert info["interpreter"].startswith("/lib")
    assert info["static"] is False


def test_static_busybox_has_no_loader():
    path = shutil.which("busybox")
    if path is None:  # scripts/engine.sh installs busybox-static
        path = "/bin/busybox"
    info = describe(open(path, "rb").read(65536))
    assert info["kind"] == "elf" and info["static"] is True and "interpreter" not in info


def test_foreign_machine():
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4] = 2
    header[5] = 1
    struct.pack_into("<HH", header, 16, 2, 0xB7)
    info = describe(bytes(header))
    assert info["machine"] == "aarch64"
    assert runs_natively("aarch64", "x86_64") is False
    assert runs_natively("x86_64", "x86_64") is True


def test_shebangs():
    crlf = describe(b"#!/bin/sh\r\necho hi\r\n")
    assert crlf["kind"] == "script" and crlf["shebang_crlf"] is True
    assert crlf["interpreter_path"] == "/bin/sh\r" and crlf["interpreter_clean"] == "/bin/sh"
    env = describe(b"#!/usr/bin/env python3\nprint()\n")
    assert env["env_program"] == "python3" and env["shebang_crlf"] is False
    assert describe(b"\xef\xbb\xbf#!/bin/sh\n")["bom"] is True
    assert describe(b"echo no shebang\n")["kind"] == "data"
    assert describe(b"")["kind"] == "empty"
