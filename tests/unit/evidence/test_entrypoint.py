"""entrypoint.json through its typed view: each field only with the type the probe writes."""

from __future__ import annotations

import json

from diagnose.bundle.reader import BundleReader
from diagnose.evidence import layout
from diagnose.evidence.entrypoint import Entrypoint
from tests.support.evidence import make_container
from tests.support.reports import SAMPLES

PROBE = {
    "argv0": "/entrypoint.sh", "resolved": "/entrypoint.sh", "exists": True, "executable": True,
    "is_dir": False, "path_env": "/usr/bin:/bin", "path_source": "image",
    "candidates": [{"path": "/entrypoint.sh", "exists": True}, "junk"],
    "filesystem": {"readable": True},
    "file": {"path": "/entrypoint.sh", "kind": "script", "shebang": "#!/bin/bash\r",
             "shebang_crlf": True, "interpreter_exists": False, "size": 120, "mode_octal": "0755",
             "interpreter_file": {"kind": "elf", "interpreter_exists": False}},
    "shell_command": {"word": "/app/run", "resolved": None, "exists": False},
    "shell": {"usable": True, "path": "/bin/sh"},
    "user": {"user": "app", "found": False},
}


def test_fields_read_with_their_types():
    e = make_container(files={layout.ENTRYPOINT: PROBE}).entrypoint
    assert (e.argv0, e.resolved, e.exists, e.executable, e.is_dir) == (
        "/entrypoint.sh", "/entrypoint.sh", True, True, False)
    assert e.candidates == ({"path": "/entrypoint.sh", "exists": True},)  # objects only
    assert e.readable is True and e.filesystem_error is None and e.shell_usable is True
    f = e.file
    assert (f.kind, f.shebang, f.shebang_crlf, f.interpreter_exists, f.size, f.mode_octal) == (
        "script", "#!/bin/bash\r", True, False, 120, "0755")
    assert f.interpreter_file.kind == "elf" and f.interpreter_file.interpreter_exists is False
    assert e.shell_command.word == "/app/run" and e.shell_command.resolved is None
    assert e.user["found"] is False
    assert e.at("/file/shebang") == "#!/bin/bash\r" and e.file_at("/file").path == f.path


def test_wrong_types_read_as_missing():
    e = Entrypoint({"exists": "yes", "argv0": 3, "file": {"size": True, "kind": ["elf"],
                                                         "executable": 1},
                    "filesystem": "unreadable", "shell_command": [], "shell": "sh"})
    assert e.exists is None and e.argv0 is None and e.readable is None
    assert (e.file.size, e.file.kind, e.file.executable) == (None, None, None)
    assert not e.shell_command and e.shell_command.word is None and e.shell_usable is None


def test_nothing_probed_is_an_empty_view():
    e = make_container().entrypoint
    assert not e and not e.file and not e.file.interpreter_file and e.candidates == ()


def test_a_sample_bundle_reads_through_the_view():
    parts, members = BundleReader(SAMPLES / "created-not-started.tar.gz").members()
    data = next(m.data for m in members if m.name.endswith("/" + layout.ENTRYPOINT))
    e = Entrypoint(json.loads(data))
    assert e.readable is True and e.argv0 and e.exists is not None
