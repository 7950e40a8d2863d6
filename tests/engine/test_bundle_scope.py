"""A container run's bundle holds its targets' data and, of the rest of the engine, totals only.

A bystander container (not a target) shares a network with one target, holds the host port
another target failed to publish, runs from its own image and mounts its own volume; its name,
label, environment (a planted secret among it), image and volume all carry one distinctive
token (the shared network does not: it is a target's own, so its name belongs in the bundle).
That token must appear in no byte of the targets' bundle (the whole tar stream: member names
and contents) and on no run's stdout, in any format.  `diagnose engine` (the whole engine view
the user asked for) does hold the bystander's objects, which proves the token is findable.
The same bundles show the archive's layout: one top-level directory and a README.txt.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import tarfile
import uuid

import pytest

from tests.support.engine import BASE_IMAGE, docker, wait_for
from tests.support.runs import run_diagnose

FORMATS = ("json", "text", "markdown", "html")


@pytest.fixture(scope="module")
def scene(engine):
    token = uuid.uuid4().hex[:16]
    net = engine.network("shared")  # a target's own network: its name may be in the bundle
    vol = engine.volume(f"vol-{token}")
    image = engine.build(f"img-{token}", f"FROM {BASE_IMAGE}\nLABEL owner=team-{token}\n")
    bystander = engine.run(
        f"bystander-{token}", "--network", net, "-p", "127.0.0.1:0:80",
        "--label", f"com.example.owner=team-{token}",
        "-e", f"BYSTANDER_NOTE=note-{token}", "-e", f"API_PASSWORD=pw-{token}-Secret9",
        "-v", f"{vol}:/data", image=image, cmd=("sleep", "100000"))
    engine.wait_status(bystander, "running")
    port = wait_for(lambda: docker("port", bystander, "80/tcp", check=False).stdout.strip(),
                    what="the bystander's published port").rsplit(":", 1)[1]
    # Target 1 shares the bystander's network; target 2 fails to publish its host port.
    # Its log says a name did not resolve: D403 then tells who else is on its network.
    on_net = engine.run("on-shared-net", "--network", net,
                        cmd=("sh", "-c", "nc nosuchhost 80 </dev/null; exec sleep 100000"))
    engine.wait_status(on_net, "running")
    wait_for(lambda: "bad address" in docker("logs", on_net).stderr, what="the failed lookup")
    port_taken = engine.create("port-taken", "-p", f"127.0.0.1:{port}:80",
                               cmd=("sleep", "100000"))
    start = docker("start", port_taken, check=False)
    assert start.returncode != 0 and "already allocated" in start.stderr, start.stderr
    yield {"token": token, "targets": (on_net, port_taken), "bystander": bystander}
    docker("rm", "-f", bystander, on_net, port_taken, check=False)
    docker("network", "rm", net, check=False)
    docker("volume", "rm", vol, check=False)


def test_bystander_is_nowhere_in_the_bundle_nor_on_stdout(scene, diagnose):
    token = scene["token"]
    runs = {fmt: diagnose(*scene["targets"], "--format", fmt, "--quiet", "--exit-zero")
            for fmt in FORMATS}
    for fmt, r in runs.items():
        assert r.code == 0, (fmt, r.stderr)
        assert token not in r.stdout, (fmt, r.stdout[max(r.stdout.find(token) - 300, 0):][:600])
        assert r.bundle is not None
        raw = gzip.decompress(r.bundle.read_bytes())
        leaked = [n for n, body in r.members().items() if token.encode() in body]
        assert token.encode() not in raw, (fmt, leaked)

    r = runs["json"]
    members = r.members()
    # The targets' own data is all there.
    doc = r.json()
    names = {t["name"] for t in doc["targets"]}
    assert names == set(scene["targets"])
    on_net, port_taken = scene["targets"]
    assert f"containers/{on_net}/inspect.json" in members
    # Of the engine, totals only (and in df.json the targets' own objects).
    for name in ("df", "images", "containers", "volumes", "networks"):
        assert json.loads(members[f"engine/{name}.json"])["scope"] == "targets", name
    df = json.loads(members["engine/df.json"])
    target_ids = {json.loads(members[f"containers/{t}/inspect.json"])["Id"]
                  for t in scene["targets"]}
    assert {c["Id"] for c in df["Containers"]} <= target_ids
    assert df["totals"]["containers"][0] >= 3 and not df["BuildCache"]
    # The shared network: the bystander is counted, not named.
    nets = json.loads(members[f"containers/{on_net}/networks.json"])
    (net,) = [v for k, v in nets.items() if k.startswith("dt-")]
    assert net["other_containers"] == 1 and len(net["inspect"]["Containers"]) == 1
    dns = next(f for t in doc["targets"] if t["name"] == on_net for f in t["findings"]
               if f["id"] == "dns-resolution-failure")
    assert "1 not diagnosed here" in json.dumps(dns["facts"]), dns["facts"]
    # The port: held by a container not diagnosed here (counted), and the finding says so.
    ports = json.loads(members[f"containers/{port_taken}/ports.json"])
    assert ports["containers"] == [] and ports["other_containers"] == 1
    f = next(f for t in doc["targets"] if t["name"] == port_taken for f in t["findings"]
             if f["id"] == "port-already-allocated")
    assert "held by containers not diagnosed here" in json.dumps(f["facts"]), f["facts"]


def test_engine_command_keeps_the_whole_view(scene, diagnose):
    """`diagnose engine` asked about the whole engine: its bundle does hold the bystander's
    objects (in df.json), so the token would be found if it leaked."""
    r = diagnose("engine", "--format", "json", "--quiet", "--exit-zero")
    assert r.code == 0, r.stderr
    raw = gzip.decompress(r.bundle.read_bytes())
    assert scene["token"].encode() in raw


def test_archive_has_one_top_directory_and_a_readme(scene, diagnose, tmp_path):
    """Unpacking a bundle makes one directory named after it; README.txt comes right after
    the manifest and says what to open first; analyze and redact read it."""
    r = diagnose(*scene["targets"], "--format", "json", "--quiet", "--exit-zero")
    assert r.bundle is not None, r.stderr
    top = r.bundle.name.removesuffix(".tar.gz")
    # Several targets: the first one and how many more (no longer `multi`).
    assert top.startswith(f"diagnose-{scene['targets'][0]}-and-1-more-"), top
    with tarfile.open(r.bundle, "r:gz") as tf:
        names = tf.getnames()
    assert names[:2] == [f"{top}/manifest.json", f"{top}/README.txt"], names[:3]
    assert all(n.startswith(top + "/") for n in names)
    unpack = tmp_path / "unpack"
    unpack.mkdir()
    subprocess.run(["tar", "-xzf", str(r.bundle), "-C", str(unpack)], check=True)
    assert [p.name for p in unpack.iterdir()] == [top]
    readme = (unpack / top / "README.txt").read_text()
    assert "summary.html" in readme and "summary.md" in readme and "containers/" in readme
    assert all(t in readme for t in scene["targets"]) and "2 containers" in readme
    manifest = json.loads((unpack / top / "manifest.json").read_text())
    assert "README.txt" in {f["path"] for f in manifest["files"]}
    # The readers: analyze reaches the same findings; redact writes a copy with its own top.
    offline = diagnose("analyze", str(r.bundle), "--format", "json", "--exit-zero")
    assert offline.code == 0, offline.stderr
    key = lambda doc: sorted((f["target"], f["id"]) for t in doc["targets"]  # noqa: E731
                             for f in t["findings"])
    assert key(offline.json()) == key(r.json())
    copy = tmp_path / "copy"
    copy.mkdir()
    red = run_diagnose("redact", str(r.bundle), "-o", str(copy / "diagnose-copy.tar.gz"),
                       cwd=tmp_path)
    assert red.code == 0, red.stderr
    with tarfile.open(copy / "diagnose-copy.tar.gz", "r:gz") as tf:
        copied = tf.getnames()
    assert copied[:2] == ["diagnose-copy/manifest.json", "diagnose-copy/README.txt"]
    assert {n.split("/", 1)[1] for n in copied} == {n.split("/", 1)[1] for n in names}


def test_no_bundle_writes_nothing(scene, tmp_path):
    """`--no-bundle`: the same report and exit code, and nothing written anywhere (not even
    a temporary file): the output directory need not exist, the working directory and TMPDIR
    stay empty."""
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    missing = tmp_path / "no-such-dir"
    env = {"TMPDIR": str(tmp)}
    with_bundle = run_diagnose(*scene["targets"], "--format", "json", "--quiet",
                               "--output", str(tmp_path), cwd=tmp_path)
    assert with_bundle.bundle is not None, with_bundle.stderr
    r = run_diagnose(*scene["targets"], "--no-bundle", "--format", "json", "--quiet",
                     "--output", str(missing), cwd=cwd, env=env)
    assert r.code == with_bundle.code, r.stderr
    assert r.stderr == ""
    doc = r.json()
    assert doc["bundle"] is None
    key = lambda d: sorted((f["target"], f["id"], f["title"]) for t in d["targets"]  # noqa: E731
                           for f in t["findings"])
    assert key(doc) == key(with_bundle.json())
    assert list(cwd.iterdir()) == [] and list(tmp.iterdir()) == [] and not missing.exists()
    text = run_diagnose(*scene["targets"], "--no-bundle", "--quiet", "--exit-zero", cwd=cwd,
                        env=env)
    assert text.code == 0 and "bundle:" not in text.stdout, text.stdout
    assert list(cwd.iterdir()) == [] and list(tmp.iterdir()) == []
    # `diagnose engine --no-bundle` too.
    eng = run_diagnose("engine", "--no-bundle", "--format", "json", "--quiet", "--exit-zero",
                       "--output", str(missing), cwd=cwd, env=env)
    assert eng.code == 0 and eng.json()["bundle"] is None, eng.stderr
    assert list(cwd.iterdir()) == [] and list(tmp.iterdir()) == [] and not missing.exists()
