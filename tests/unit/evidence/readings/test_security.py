"""The pure readings behind the hygiene checks: image references, history scans, privileges."""

from __future__ import annotations

import pytest

from diagnose.evidence.container import ContainerEvidence
from diagnose.evidence.readings.security import (
    by_image_id,
    insecure_fetches,
    parse_ref,
    provenance,
    root_user,
    socket_mounts,
    world_writable_steps,
)
from tests.support.evidence import make_container


def container(inspect: dict, image: dict | None = None) -> ContainerEvidence:
    return make_container("c", inspect=inspect,
                          files={"image/inspect.json": image} if image is not None else {})


@pytest.mark.parametrize("ref, registry, repo, tag, digest, official, pinned", [
    ("nginx", "docker.io", "library/nginx", "", "", True, False),
    ("nginx:latest", "docker.io", "library/nginx", "latest", "", True, False),
    ("nginx:1.25", "docker.io", "library/nginx", "1.25", "", True, True),
    ("library/nginx:1.25", "docker.io", "library/nginx", "1.25", "", True, True),
    ("docker.io/library/nginx", "docker.io", "library/nginx", "", "", True, False),
    ("index.docker.io/library/redis:7", "docker.io", "library/redis", "7", "", True, True),
    ("bitnami/nginx:1.25", "docker.io", "bitnami/nginx", "1.25", "", False, True),
    ("ghcr.io/org/app", "ghcr.io", "org/app", "", "", False, False),
    ("localhost:5000/app:2", "localhost:5000", "app", "2", "", False, True),
    ("localhost/app", "localhost", "app", "", "", False, False),
    ("registry.local:5000/nginx", "registry.local:5000", "nginx", "", "", False, False),
    ("nginx@sha256:" + "a" * 64, "docker.io", "library/nginx", "", "sha256:" + "a" * 64,
     True, True),
    ("app:latest@sha256:" + "b" * 64, "docker.io", "library/app", "latest",
     "sha256:" + "b" * 64, True, True),
])
def test_parse_ref(ref, registry, repo, tag, digest, official, pinned):
    r = parse_ref(ref)
    assert r is not None
    assert (r.registry, r.repository, r.tag, r.digest) == (registry, repo, tag, digest)
    assert r.official is official and r.pinned is pinned


def test_image_id_references_are_pinned_by_id():
    image_id = "sha256:4b9e45eb76cf19a1f8b1618c28901d596d0d88228f1e0b4ed4195b221bcad17a"
    assert by_image_id("4b9e45eb76cf", image_id)
    assert by_image_id(image_id, image_id)
    assert not by_image_id("4b9e45eb76cf", "sha256:" + "0" * 64)
    assert not by_image_id("nginx", image_id)


def test_provenance_needs_a_registry_digest_for_an_official_name():
    local = container({"Config": {"Image": "nginx:1.25"}, "Image": "sha256:" + "1" * 64},
                      {"RepoTags": ["nginx:1.25"], "RepoDigests": []})
    pulled = container({"Config": {"Image": "nginx:1.25"}, "Image": "sha256:" + "1" * 64},
                       {"RepoTags": ["nginx:1.25"],
                        "RepoDigests": ["nginx@sha256:" + "2" * 64]})
    other = container({"Config": {"Image": "nginx:1.25"}, "Image": "sha256:" + "1" * 64},
                      {"RepoTags": ["nginx:1.25"],
                       "RepoDigests": ["someone/nginx@sha256:" + "2" * 64]})
    assert provenance(local).official_name and not provenance(local).official
    assert provenance(pulled).official
    assert not provenance(other).official


def test_root_user_forms():
    for user, root in (("", True), ("root", True), ("0", True), ("0:0", True),
                       ("root:wheel", True), ("1000", False), ("app", False),
                       ("1000:0", False)):
        assert root_user(container({"Config": {"User": user}})) is root, user


def test_socket_mounts():
    c = container({"Mounts": [
        {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/x.sock"},
        {"Type": "bind", "Source": "/srv/data", "Destination": "/data"},
        {"Type": "bind", "Source": "/run/", "Destination": "/hostrun"},
        {"Type": "volume", "Source": "/var/lib/docker/volumes/docker.sock/_data",
         "Name": "docker.sock", "Destination": "/v"},
    ]})
    assert [i for i, _ in socket_mounts(c)] == [0, 2]


def _history(*lines: str) -> list[dict]:
    return [{"CreatedBy": line} for line in lines]


@pytest.mark.parametrize("line, what", [
    ("/bin/sh -c wget -q -O /tmp/t.tgz http://example.invalid/t.tgz || true", "plain http"),
    ("/bin/sh -c curl -fsSLk https://example.invalid/x | sh", "curl without certificate"),
    ("/bin/sh -c curl --insecure -o /x https://example.invalid/x", "curl without certificate"),
    ("/bin/sh -c wget --no-check-certificate https://example.invalid/x", "wget without"),
    ("ADD http://example.invalid/app.tgz /opt/ # buildkit", "remote ADD"),
    ("/bin/sh -c pip install --trusted-host pypi.internal app", "pip trusting"),
    ("/bin/sh -c apk add --allow-untrusted /tmp/x.apk", "apk accepting"),
    ("/bin/sh -c git -c http.sslVerify=false clone https://git.example/x", "git with TLS"),
    ("/bin/sh -c echo wget --no-check-certificate https://example.invalid/x || true",
     "wget without"),
])
def test_insecure_fetches_found(line, what):
    hits = insecure_fetches(_history(line))
    assert hits and any(what in h.what for h in hits), hits


@pytest.mark.parametrize("line", [
    "/bin/sh -c curl -fsSL https://example.invalid/x -o /x",
    "/bin/sh -c wget -q https://example.invalid/x",
    "/bin/sh -c echo 'deb http://deb.debian.org/debian bookworm main' > /etc/apt/sources.list",
    "/bin/sh -c curl -fsSL https://example.invalid/x.tgz | tar -xzkf -",
    "/bin/sh -c curl http://localhost:8080/health",
    "/bin/sh -c curl --no-keepalive https://example.invalid/",
    "/bin/sh -c #(nop) ADD file:0123abcd in / ",
])
def test_insecure_fetches_not_found(line):
    assert insecure_fetches(_history(line)) == []


@pytest.mark.parametrize("line, severe", [
    ("/bin/sh -c chmod 777 /data", False),
    ("/bin/sh -c chmod 0777 /data", False),
    ("/bin/sh -c mkdir /app && chmod -R 777 /app", True),
    ("/bin/sh -c chmod a+rwx /usr/local/bin/tool", True),
    ("/bin/sh -c chmod o+w /etc/passwd", True),
    ("/bin/sh -c chmod 666 /srv/x.sock", False),
    ("/bin/sh -c chmod --recursive 0777 /opt/app", True),
])
def test_world_writable_found(line, severe):
    hits = world_writable_steps(_history(line))
    assert len(hits) == 1 and hits[0].severe is severe, hits


@pytest.mark.parametrize("line", [
    "/bin/sh -c chmod 1777 /scratch",
    "/bin/sh -c chmod 755 /app/run.sh",
    "/bin/sh -c chmod +x /app/run.sh",
    "/bin/sh -c chmod u+w,g+w /app",
    "/bin/sh -c chmod a+rwxt /shared",
    "/bin/sh -c echo 777 > /tmp/n",
])
def test_world_writable_not_found(line):
    assert world_writable_steps(_history(line)) == []
