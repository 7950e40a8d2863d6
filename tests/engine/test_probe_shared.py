"""Containers of one image share the probe's answers about the image's own files, and never
about files a container changed or mounted over: each still gets its own diagnosis.

Three containers of one image whose entrypoint is /app/tool: `good` as built; `changed`
had a plain text file copied over /app/tool (`docker cp`: its own layer, `docker diff` says
C /app/tool); `mounted` has an empty host directory bind-mounted over /app.  Diagnosed in
one run, with `good` probed first and last: only the two others lack a runnable entrypoint.
"""

from __future__ import annotations

import json
import os

from tests.support.engine import docker
from tests.support.runs import cause_ids


def test_shared_answers_respect_each_containers_changes_and_mounts(engine, diagnose,
                                                                   tmp_path):
    image = engine.build("shared", "FROM diagnose-test/busybox:latest\nCOPY tool /app/tool\n"
                         "ENTRYPOINT [\"/app/tool\"]\n",
                         {"tool": "#!/bin/sh\necho fine\nexec sleep 100000\n"})
    # The build context gives every file mode 0644 unless it ends in .sh/bin: make it runnable.
    image = engine.build("shared-x", f"FROM {image}\nRUN chmod 755 /app/tool\n")
    good = engine.create("shared-good", image=image)
    changed = engine.create("shared-changed", image=image)
    text = tmp_path / "tool"
    text.write_text("just notes, not a program\n")
    os.chmod(text, 0o644)
    docker("cp", str(text), f"{changed}:/app/tool")
    empty = tmp_path / "empty-app"
    empty.mkdir()
    mounted = engine.create("shared-mounted", "-v", f"{empty}:/app:ro", image=image)
    assert "C /app/tool" in docker("diff", changed).stdout
    # Started by the test (diagnose never starts anything): the two broken ones fail to.
    docker("start", good)
    for broken in (changed, mounted):
        assert docker("start", broken, check=False).returncode != 0

    for order in ((good, changed, mounted), (changed, mounted, good)):
        r = diagnose(*order, "--jobs", "1", "-q", "-f", "json", "--exit-zero")
        assert r.code == 0, r.stderr
        assert "entrypoint-not-executable" in cause_ids(r, changed), cause_ids(r, changed)
        assert "entrypoint-not-found" in cause_ids(r, mounted), cause_ids(r, mounted)
        assert not {"entrypoint-not-executable", "entrypoint-not-found"} & cause_ids(r, good)
        members = r.members()
        probes = {n: json.loads(members[f"containers/{n}/entrypoint.json"])
                  for n in (good, changed, mounted)}
        assert all(p["image_answers_shared"] for p in probes.values())
        assert probes[good]["executable"] is True
        assert probes[changed]["executable"] is False
        assert probes[changed]["file"]["head_hex"].startswith("6a 75 73 74")  # "just"
        assert probes[mounted]["exists"] is False
        # Whether a root can be read is asked of the first container of the image, and of
        # any with a bind mount (its source may vanish); the others' is known.
        fs = {n: p["filesystem"] for n, p in probes.items()}
        assert all(f["readable"] for f in fs.values())
        assert "assumed" not in fs[order[0]] and "assumed" not in fs[mounted]
        assert all("assumed" in fs[n] for n in order[1:] if n != mounted)
