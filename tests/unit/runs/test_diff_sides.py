"""How `diagnose diff` tells a bundle side from a container side (diagnose.runs.diff.SideRef)."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnose.model.errors import UsageError
from diagnose.runs.diff import SideRef


def test_bundles_and_containers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.tar.gz").write_bytes(b"")
    (tmp_path / "web").write_bytes(b"")  # a file named like a container is no bundle
    assert SideRef("A", "web").bundle is None
    assert SideRef("A", "web-1.prod_x").bundle is None
    assert SideRef("A", "b.tar.gz").bundle == (Path("b.tar.gz"), "")
    assert SideRef("A", "b.tar.gz:web").bundle == (Path("b.tar.gz"), "web")
    assert SideRef("A", "./web").bundle == (Path("./web"), "")
    assert SideRef("A", f"{tmp_path}/b.tar.gz:db").bundle == (tmp_path / "b.tar.gz", "db")
    for missing in ("gone.tar.gz", "./gone", "gone.tgz:web"):
        with pytest.raises(UsageError, match="no such bundle"):
            _ = SideRef("B", missing).bundle
