"""The watch's event journal (diagnose/collect/journal.py): bounded and rotated, 0600, a line
cut short by a crash skipped, and merged into a container's events without duplicates."""

from __future__ import annotations

import os
from pathlib import Path

from diagnose.collect import journal as j

A, B = "a" * 64, "b" * 64


def ev(cid: str, action: str, t: float, **attrs: str) -> dict:
    return {"Type": "container", "Action": action, "timeNano": int(t * 1e9), "time": int(t),
            "Actor": {"ID": cid, "Attributes": attrs}}


def test_append_read_rotate_and_modes(tmp_path: Path):
    d = tmp_path / "journal"
    jr = j.Journal(d, max_bytes=2000)
    for n in range(60):
        jr.append(ev(A if n % 2 else B, "start", 100 + n))
    jr.close()
    jr.append(ev(A, "die", 999))  # closed: nothing written
    names = sorted(p.name for p in d.iterdir())
    assert names == ["events.jsonl", "events.jsonl.1", "events.jsonl.2", "events.jsonl.3"]
    assert all(os.stat(p).st_size <= 2000 for p in d.iterdir())
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in d.iterdir())
    assert d.stat().st_mode & 0o777 == 0o700
    got = j.events_of(d, A, 0)
    times = [e["time"] for e in got]
    assert times == sorted(times) and times[-1] == 159 and 999 not in times
    assert all(e["Source"] == j.SOURCE and e["Actor"]["ID"] == A for e in got)
    assert all(e["time"] >= 150 for e in j.events_of(d, A, 150))


def test_a_cut_line_is_skipped_and_merge_dedupes(tmp_path: Path):
    jr = j.Journal(tmp_path)
    jr.append(ev(A, "kill", 10, signal="15"))
    jr.append(ev(A, "kill", 11, signal="9"))
    jr.close()
    with open(tmp_path / j.NAME, "ab") as fh:
        fh.write(b'{"Type":"container","Action":"die","Actor":{"ID":"' + A.encode())
    journal = j.events_of(tmp_path, A, 0)
    assert [e["Action"] for e in journal] == ["kill", "kill"]
    engine = [ev(A, "kill", 11, signal="9"), ev(A, "die", 11.1, exitCode="137")]
    merged, added = j.merge(engine, journal)
    assert added == 1
    assert [(e["Action"], e.get("Source")) for e in merged] == [
        ("kill", j.SOURCE), ("kill", None), ("die", None)]


def test_default_dir(monkeypatch):
    assert j.default_dir({"DIAGNOSE_JOURNAL": "/x"}) == Path("/x")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert j.default_dir({"XDG_STATE_HOME": "/s"}) == Path("/s/diagnose/journal")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert j.default_dir({}) == Path("/var/lib/diagnose/journal")
