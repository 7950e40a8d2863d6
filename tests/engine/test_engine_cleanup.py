"""Where the disk goes, on the real engine: dangling images, exited containers, dangling
volumes and unused networks made by this test, reported by `diagnose engine` with cleanup
commands naming exactly those objects, and by a container run as totals only (no object named,
no removal command: the user asked about containers, not about the engine).

Other engineers' objects live on the same engine: every assertion is about this test's own
objects (present in the lists, or absent from them), never about global counts.  Nothing is
ever pruned: the commands are only shown.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.support.engine import BASE_IMAGE, docker


def image_id(ref: str) -> str:
    return docker("image", "inspect", "-f", "{{.Id}}", ref).stdout.strip()


@pytest.fixture(scope="module")
def litter(engine):
    made: dict = {}
    # Dangling images: the same tag built six times leaves the first five untagged.
    ids = []
    for n in range(6):
        tag = engine.build("rebuilt", f"FROM {BASE_IMAGE}\nRUN echo build {n} > /build.txt\n")
        ids.append(image_id(tag))
    made["dangling"] = ids[:5]
    made["tagged"] = ids[5]
    # Look-alike: a dangling image a (stopped) container still uses is never listed.
    used_tag = engine.build("used", f"FROM {BASE_IMAGE}\nRUN echo v1 > /v\n")
    made["in_use"] = image_id(used_tag)
    made["user"] = engine.create("uses-old-image", image=used_tag, cmd=("true",))
    engine.build("used", f"FROM {BASE_IMAGE}\nRUN echo v2 > /v\n")

    # Exited containers, one with an anonymous volume (only `docker rm -v` would delete it).
    exited = [engine.run("exited-litter", cmd=("true",)) for _ in range(10)]
    made["with_anon"] = engine.run("exited-anon", "-v", "/data", cmd=("true",))
    made["exited"] = [*exited, made["with_anon"]]
    for c in made["exited"]:
        engine.wait_status(c, "exited")

    # Dangling volumes: anonymous (generated names) and one named.
    made["anon_volumes"] = [docker("volume", "create", "--label", engine.label).stdout.strip()
                            for _ in range(5)]
    made["named_volume"] = engine.volume("keepme")

    # Unused networks, and a look-alike used only by a stopped container.
    made["networks"] = [engine.network("unused") for _ in range(5)]
    made["stopped_net"] = engine.network("stopped-user")
    made["on_stopped_net"] = engine.create("on-stopped-net", "--network", made["stopped_net"],
                                           cmd=("true",))
    yield made
    # Free the subnets at once (the address pools are shared), not at the end of the session.
    docker("rm", "-f", made["on_stopped_net"], check=False)
    docker("network", "rm", *made["networks"], made["stopped_net"], check=False)


def run_findings(doc: dict) -> dict[str, dict]:
    return {f["id"]: f for f in doc["run"]["findings"]}


def assert_same_findings(live: dict, offline: dict, bundle) -> None:
    """Live and offline findings are equal; when not, say exactly which fields differ and keep
    the bundle and both documents in test-artifacts/ (an intermittent difference must be
    explainable from what one failing run left behind)."""
    diffs = [f"{k}.{field}: live {json.dumps((live.get(k) or {}).get(field))[:600]} / offline "
             f"{json.dumps((offline.get(k) or {}).get(field))[:600]}"
             for k in sorted(set(live) | set(offline)) if live.get(k) != offline.get(k)
             for field in sorted(set(live.get(k) or {}) | set(offline.get(k) or {}))
             if (live.get(k) or {}).get(field) != (offline.get(k) or {}).get(field)]
    if diffs:
        keep = Path(__file__).resolve().parents[2] / "test-artifacts" / "engine-cleanup"
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(bundle, keep / bundle.name)
        (keep / "live.json").write_text(json.dumps(live, indent=2))
        (keep / "offline.json").write_text(json.dumps(offline, indent=2))
    assert not diffs, "\n".join(diffs)


def commands(finding: dict) -> list[str]:
    return finding["remediation"]["commands"]


def assert_lists_the_litter(found: dict[str, dict], made: dict) -> None:
    images = found["dangling-images"]
    text = " ".join(c for c in commands(images) if c.startswith("docker rmi "))
    for i in made["dangling"]:
        assert i.removeprefix("sha256:")[:12] in text, (i, text)
    for i in (made["in_use"], made["tagged"]):
        assert i.removeprefix("sha256:")[:12] not in text

    exited = found["exited-containers-piling-up"]
    rm = {w for c in commands(exited) if not c.startswith("docker rm -v ")
          for w in c.split()[2:]}
    rm_v = {w for c in commands(exited) if c.startswith("docker rm -v ") for w in c.split()[3:]}
    assert set(made["exited"]) <= rm
    assert made["with_anon"] in rm_v and not set(made["exited"][:10]) & rm_v
    assert "DELETES the anonymous volumes" in exited["remediation"]["summary"]

    vols = found["dangling-volumes"]
    anon_cmds = [c for c in commands(vols) if c.startswith("docker volume rm ")
                 and "# named" not in c]
    named_cmds = [c for c in commands(vols) if "# named" in c]
    for v in made["anon_volumes"]:
        assert any(v in c.split() for c in anon_cmds), v
    assert not any(made["named_volume"] in c.split() for c in anon_cmds)
    assert any(made["named_volume"] in c.split() for c in named_cmds)
    assert f"docker volume inspect {made['named_volume']}" in commands(vols)

    nets = found["unused-networks"]
    names = " ".join(commands(nets)).split()
    for n in made["networks"]:
        assert n in names, n
    assert made["stopped_net"] not in names


def test_engine_command_lists_exactly_what_we_littered(engine, litter, diagnose):
    r = diagnose("engine", "--format", "json", "--quiet")
    doc = r.json()
    errors = [f for f in doc["run"]["findings"] if f["severity"] in ("error", "critical")]
    assert r.code == (1 if errors else 0), r.stderr
    assert r.bundle is not None and r.bundle.name.startswith("diagnose-engine-")
    assert doc["targets"] == []
    found = run_findings(doc)
    assert_lists_the_litter(found, litter)

    members = r.members()
    manifest = json.loads(members["manifest.json"])
    recs = {(c["owner"], c["name"]): c["status"] for c in manifest["collectors"]}
    for name in ("version", "info", "df", "images", "containers", "volumes", "networks"):
        assert recs[("engine", name)] == "ok", name
        assert f"engine/{name}.json" in members
    assert recs[("host", "host")] == "ok"

    # The collectors agree with the docker CLI on our objects.
    cli_dangling = set(docker("images", "-q", "--no-trunc", "-f", "dangling=true").stdout.split())
    ours = {i["Id"] for i in json.loads(members["engine/images.json"])["dangling"]}
    assert set(litter["dangling"]) <= ours and set(litter["dangling"]) <= cli_dangling
    cli_vols = set(docker("volume", "ls", "-q", "-f", "dangling=true").stdout.split())
    bundled = {v["Name"] for v in json.loads(members["engine/volumes.json"])["dangling"]}
    mine = {*litter["anon_volumes"], litter["named_volume"]}
    assert mine <= bundled and mine <= cli_vols

    # Storage driver facts in the engine section.
    eng = doc["engine"]
    assert eng["storage_driver"] and "Backing Filesystem" in eng["storage_driver_status"]
    assert eng["disk_usage"].startswith("images ")

    # Every format the run command supports.
    for fmt, marker in (("text", "exited-containers-piling-up"), ("markdown", "D605"),
                        ("html", "<html")):
        out = diagnose("engine", "--format", fmt, "--quiet", "--exit-zero")
        assert out.code == 0 and marker in out.stdout, (fmt, out.stderr)

    # Offline, from the bundle alone: the same engine findings.
    offline = diagnose("analyze", str(r.bundle), "--format", "json")
    assert offline.code == r.code, offline.stderr
    assert_same_findings(found, run_findings(offline.json()), r.bundle)


#: A remediation command that removes something (containers, images, volumes, networks).
REMOVAL = re.compile(r"\bdocker\s+(?:container\s+|image\s+)?(?:rm|rmi|prune)\b|"
                     r"\bdocker\s+(?:volume|network|system|builder)\s+(?:rm|prune)\b")


def every_command(doc: dict) -> list[str]:
    return [c for f in [*doc["run"]["findings"],
                        *(f for t in doc["targets"] for f in t["findings"])]
            for c in commands(f)]


def test_container_run_gives_engine_totals_and_names_nothing_for_removal(engine, litter,
                                                                         diagnose):
    """A container run (one target, and one that is itself an exited container among the
    litter) never names a target or a bystander for removal: each cleanup finding is totals
    only and points to `diagnose engine`; offline the same."""
    c = engine.run("bystander", cmd=("sleep", "100000"))
    target = litter["exited"][0]
    r = diagnose(c, target, "--format", "json", "--quiet")
    doc = r.json()
    errors = [f for f in doc["run"]["findings"] if f["severity"] in ("error", "critical")]
    assert r.code == (1 if errors else 0), r.stderr
    found = run_findings(doc)
    for check_id in ("dangling-images", "exited-containers-piling-up", "dangling-volumes",
                     "unused-networks"):
        f = found[check_id]
        assert commands(f) == ["diagnose engine"], (check_id, commands(f))
        assert "diagnose engine" in f["remediation"]["summary"]
        assert all(e["file"].startswith("engine/") for e in f["evidence"])
    assert int(found["exited-containers-piling-up"]["title"].split()[0]) >= len(litter["exited"])
    # No removal command at all, and no litter object, target or bystander named anywhere.
    cmds = every_command(doc)
    assert not [x for x in cmds if REMOVAL.search(x)], cmds
    names = {*litter["exited"], *litter["anon_volumes"], litter["named_volume"],
             *litter["networks"], *(i.removeprefix("sha256:")[:12] for i in litter["dangling"])}
    for f in doc["run"]["findings"]:
        text = json.dumps(f)
        assert not [n for n in names if n in text and n != target], (f["id"], text[:2000])
    # Engine findings are the run's, never the container's, and never its verdict.
    assert not any(f["stage"] == "engine" for t in doc["targets"] for f in t["findings"])
    members = r.members()
    for name in ("df", "images", "containers", "volumes", "networks"):
        assert json.loads(members[f"engine/{name}.json"])["scope"] == "targets", name
    for name in ("df", "images", "containers", "volumes", "networks"):
        body = members[f"engine/{name}.json"].decode()
        assert not [n for n in names if n in body and n != target], (name, body[:2000])
    offline = diagnose("analyze", str(r.bundle), "--format", "json")
    assert_same_findings(found, run_findings(offline.json()), r.bundle)
    # Every format says the same: no removal command on stdout.
    for fmt in ("text", "markdown", "html"):
        out = diagnose(c, target, "--format", fmt, "--quiet", "--exit-zero", "--no-color")
        assert out.code == 0, out.stderr
        assert not REMOVAL.search(out.stdout), (fmt, REMOVAL.search(out.stdout))


def test_cleanup_lists_are_bounded_and_secret_free(engine, litter, diagnose):
    r = diagnose("engine", "--format", "json", "--quiet", "--exit-zero")
    members = r.members()
    containers = json.loads(members["engine/containers.json"])
    for c in containers["exited"]:
        assert set(c) == {"Id", "Names", "Image", "ImageID", "Created", "Status", "Mounts",
                          "Labels"}
        # Only com.docker.* labels are kept (our test label is not).
        assert all(k.startswith("com.docker.") for k in c["Labels"])
    assert containers["exited_total"] >= len(litter["exited"])
    assert len(containers["exited"]) == min(containers["exited_total"], 500)
