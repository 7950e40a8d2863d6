"""Engine and cleanup checks (D6xx) on canned evidence: thresholds, severities, exact objects.

The real-engine proofs are in tests/engine/test_engine_cleanup.py; these cover the thresholds
and the branches a shared engine cannot be put into (gigabytes of build cache, huge disks).
"""

from __future__ import annotations

from diagnose.checks.build_cache_large import build_cache_large
from diagnose.checks.dangling_images import dangling_images
from diagnose.checks.dangling_volumes import dangling_volumes
from diagnose.checks.engine_api_skew import engine_api_skew
from diagnose.checks.engine_disk_low import engine_disk_low
from diagnose.checks.engine_warnings import engine_warnings
from diagnose.checks.exited_containers import exited_containers
from diagnose.checks.no_memory_limit import no_memory_limit
from diagnose.checks.unused_networks import unused_networks

from diagnose.collect.cleanup import targets_df
from diagnose.collect.scope import Scope
from diagnose.evidence.readings.cleanup import totals_documents
from diagnose.evidence.snapshot import Snapshot
from diagnose.model.findings import Severity
from tests.support.evidence import make_container, make_engine, make_host, make_snapshot

GiB = 1024 ** 3


def snap(engine: dict | None = None, host: dict | None = None) -> Snapshot:
    files = {f"engine/{k}.json": v for k, v in (engine or {}).items()}
    return make_snapshot(engine=make_engine(files=files), host=make_host(host))


def one(findings):
    found = list(findings)
    assert len(found) <= 1
    return found[0] if found else None


def version(client: str, negotiated: str) -> dict:
    return {"Version": "x", "ApiVersion": negotiated, "NegotiatedAPIVersion": negotiated,
            "ClientMaxAPIVersion": client, "MinAPIVersion": "1.12"}


def test_api_skew_thresholds():
    assert one(engine_api_skew(snap({"version": version("1.45", "1.41")}))) is None
    info = one(engine_api_skew(snap({"version": version("1.45", "1.40")})))
    assert info.severity is Severity.INFO and "5 minor versions behind" in info.title
    warn = one(engine_api_skew(snap({"version": version("1.45", "1.35")})))
    assert warn.severity is Severity.WARNING
    older_client = one(engine_api_skew(snap({"version": version("1.41", "1.47")})))
    assert older_client.severity is Severity.INFO and "SDK" in older_client.title


def test_engine_warnings_quoted_and_classified():
    notes = ["WARNING: No swap limit support", "WARNING: No cpu cfs quota support"]
    f = one(engine_warnings(snap({"info": {"Warnings": notes}})))
    assert f.severity is Severity.INFO
    assert [e.excerpt for e in f.evidence] == notes
    assert [e.pointer for e in f.evidence] == ["/Warnings/0", "/Warnings/1"]
    f = one(engine_warnings(snap({"info": {"Warnings": [
        *notes, "WARNING: bridge-nf-call-iptables is disabled"]}})))
    assert f.severity is Severity.WARNING
    assert "sysctl -w net.bridge.bridge-nf-call-iptables=1" in f.remediation.commands
    assert one(engine_warnings(snap({"info": {"Warnings": None}}))) is None


def root(total: int, free: int, **extra: int) -> dict:
    return {"data_root": {"path": "/var/lib/docker", "total": total, "used": total - free,
                          "free": free, "percent": 100 * (total - free) / total, **extra}}


def test_disk_low_thresholds():
    assert one(engine_disk_low(snap(host=root(100 * GiB, 30 * GiB)))) is None
    assert one(engine_disk_low(snap(host=root(100 * GiB, 8 * GiB)))).severity is Severity.WARNING
    assert one(engine_disk_low(snap(host=root(100 * GiB, 3 * GiB)))).severity is Severity.ERROR
    # Under 5 GiB free is a warning even at a high share.
    assert one(engine_disk_low(snap(host=root(8 * GiB, 4 * GiB)))).severity is Severity.WARNING
    # 3% of 10 TiB is 300 GiB: never an emergency.
    assert one(engine_disk_low(snap(host=root(10240 * GiB, 307 * GiB)))).severity \
        is Severity.WARNING
    inodes = root(100 * GiB, 50 * GiB, inodes_total=1000, inodes_free=20)
    f = one(engine_disk_low(snap(host=inodes)))
    assert f.severity is Severity.ERROR and "inodes" in f.title
    # A remote engine: nothing measured, nothing claimed.
    assert one(engine_disk_low(snap(host={"engine_local": False}))) is None


def images_doc(ids: list[str]) -> dict:
    return {"dangling_total": len(ids), "truncated": False,
            "dangling": [{"Id": i, "Created": 1, "Size": 100} for i in ids]}


def test_dangling_images_threshold_exact_ids_and_in_use():
    ids = ["sha256:" + str(n) * 64 for n in range(1, 7)]
    containers = {"images_in_use": [ids[0]]}
    f = one(dangling_images(snap({"images": images_doc(ids[:5]), "containers": containers})))
    assert f is None  # 5 dangling, but one is in use: 4 < 5
    f = one(dangling_images(snap({"images": images_doc(ids), "containers": containers})))
    assert f.severity is Severity.INFO
    cmd = " ".join(f.remediation.commands)
    assert all(i[7:19] in cmd for i in ids[1:]) and ids[0][7:19] not in cmd
    assert ("dangling but used by a container (kept)", "1") in f.facts
    big = {"Images": [{"Id": ids[1], "Size": 12 * GiB, "SharedSize": 0, "Containers": 0}]}
    f = one(dangling_images(snap({"images": images_doc(ids[1:2]), "containers": {},
                                  "df": big})))
    assert f.severity is Severity.WARNING and "12.0 GiB" in f.title


def test_exited_containers_threshold_and_volume_warning():
    anon = "a" * 64
    exited = [{"Id": f"{n:064x}", "Names": [f"c{n}"], "Status": "Exited (0)",
               "Mounts": [{"Type": "volume", "Name": anon if n == 3 else "data"}]}
              for n in range(10)]
    assert one(exited_containers(snap({"containers": {"exited": exited[:9],
                                                      "exited_total": 9}}))) is None
    f = one(exited_containers(snap({"containers": {"exited": exited, "exited_total": 10}})))
    assert f.severity is Severity.INFO
    assert f.remediation.commands[0] == "docker rm " + " ".join(f"c{n}" for n in range(10))
    assert f.remediation.commands[-1] == "docker rm -v c3"
    assert "DELETES the anonymous volumes of 1" in f.remediation.summary


def test_dangling_volumes_split_anonymous_and_named():
    vols = [{"Name": f"{n:064x}"} for n in range(4)] + [{"Name": "pgdata"}]
    f = one(dangling_volumes(snap({"volumes": {"dangling": vols, "dangling_total": 5}})))
    assert f is not None
    first = f.remediation.commands[0]
    assert first.startswith("docker volume rm ") and "pgdata" not in first
    assert "docker volume inspect pgdata" in f.remediation.commands
    assert f.remediation.commands[-1].startswith("docker volume rm pgdata  # named")
    assert "deletes its data" in f.remediation.summary


def test_unused_networks_never_lists_networks_a_stopped_container_names():
    nets = [{"Id": f"id{n}", "Name": f"net{n}", "Driver": "bridge", "Scope": "local"}
            for n in range(7)]
    nets += [{"Id": "b", "Name": "bridge", "Driver": "bridge", "Scope": "local"},
             {"Id": "o", "Name": "over", "Driver": "overlay", "Scope": "swarm"}]
    used = {"networks_in_use": {"ids": ["id0"], "names": ["net1"]}}
    f = one(unused_networks(snap({"networks": {"networks": nets}, "containers": used})))
    assert f.severity is Severity.INFO
    assert f.remediation.commands == ("docker network rm net2 net3 net4 net5 net6",)
    assert one(unused_networks(snap({"networks": {"networks": nets[:6]},
                                     "containers": used}))) is None
    crowded = nets + [{"Id": f"x{n}", "Name": f"x{n}", "Driver": "bridge", "Scope": "local"}
                      for n in range(20)]
    f = one(unused_networks(snap({"networks": {"networks": crowded}, "containers": used})))
    assert f.severity is Severity.WARNING


def test_build_cache_threshold():
    def cache(*sizes_inuse):
        return {"BuildCache": [{"ID": f"r{n}", "Size": s, "InUse": u, "Shared": False}
                               for n, (s, u) in enumerate(sizes_inuse)]}

    assert one(build_cache_large(snap({"df": cache((4 * GiB, False), (9 * GiB, True))}))) is None
    f = one(build_cache_large(snap({"df": cache((6 * GiB, False))})))
    assert f.severity is Severity.INFO
    f = one(build_cache_large(snap({"df": cache((11 * GiB, False))})))
    assert f.severity is Severity.WARNING


def test_no_memory_limit_after_host_oom_is_a_warning():
    ins = {"Name": "/w", "State": {"OOMKilled": True}, "HostConfig": {"Memory": 0},
           "RestartCount": 0}
    c = make_container("w", inspect=ins)
    f = one(no_memory_limit(c))
    assert f.severity is Severity.WARNING and "host itself ran out" in f.title
    ins["HostConfig"]["Memory"] = 64 * 1024 * 1024
    c = make_container("w", inspect=ins)
    assert one(no_memory_limit(c)) is None


def test_exited_containers_never_lists_a_target_for_removal():
    """`diagnose --all`: every exited container is a target; none is named for removal."""
    exited = [{"Id": f"{n:064x}", "Names": [f"c{n}"], "Status": "Exited (0)", "Mounts": []}
              for n in range(12)]
    targets = [make_container(f"c{n}", inspect={"Id": f"{n:064x}", "Name": f"/c{n}"})
               for n in range(10)]
    s = make_snapshot(targets, engine=make_engine(files={
        "engine/containers.json": {"exited": exited, "exited_total": 12}}))
    f = one(exited_containers(s))
    assert f.remediation.commands[0] == "docker rm c10 c11"
    assert not any(f"c{n} " in c + " " for c in f.remediation.commands for n in range(10))
    assert "10 of them are diagnosed in this run" in f.remediation.summary
    everyone = make_snapshot([
        make_container(f"c{n}", inspect={"Id": f"{n:064x}", "Name": f"/c{n}"})
        for n in range(12)], engine=s.engine)
    f = one(exited_containers(everyone))
    assert not any(c.startswith("docker rm") for c in f.remediation.commands)


def test_container_run_totals_count_alike_and_name_nothing():
    """A container run's engine files are the totals of the full lists (counted by the same
    readings): each cleanup check then gives counts and sizes, names no object and points to
    `diagnose engine`."""
    ids = ["sha256:" + str(n) * 64 for n in range(1, 7)]
    exited = [{"Id": f"{n:064x}", "Names": [f"c{n}"], "Status": "Exited (0)", "Mounts": []}
              for n in range(10)]
    vols = [{"Name": f"{n:064x}"} for n in range(4)] + [{"Name": "pgdata"}]
    nets = [{"Id": f"id{n}", "Name": f"net{n}", "Driver": "bridge", "Scope": "local"}
            for n in range(7)]
    df = {"Images": [{"Id": i, "Size": 3 * GiB, "SharedSize": 0, "Containers": 0}
                     for i in ids],
          "Containers": [{"Id": c["Id"], "SizeRw": 10, "Names": c["Names"]} for c in exited],
          "Volumes": [{"Name": v["Name"], "UsageData": {"Size": 5, "RefCount": 0}}
                      for v in vols],
          "BuildCache": [{"ID": "r", "Size": 6 * GiB, "InUse": False, "Shared": False,
                          "Description": "RUN secret-build-step"}]}
    full = {"images": images_doc(ids), "containers": {"exited": exited, "exited_total": 10},
            "volumes": {"dangling": vols, "dangling_total": 5},
            "networks": {"networks": nets, "total": 7}, "df": df}
    whole = snap(full)
    reduced = totals_documents(whole.engine)
    reduced["engine/df.json"] = targets_df(whole.engine.df, Scope.of([{"Id": "0" * 64}]))
    totals = snap({k.removeprefix("engine/").removesuffix(".json"): v
                   for k, v in reduced.items()})
    names = [*ids, *(c["Names"][0] for c in exited), "pgdata", "net3", "secret-build-step"]
    for check_fn in (dangling_images, exited_containers, dangling_volumes, unused_networks,
                     build_cache_large):
        a, b = one(check_fn(whole)), one(check_fn(totals))
        assert a is not None and b is not None, check_fn
        assert (a.title, a.severity) == (b.title, b.severity), check_fn
        assert b.remediation.commands == ("diagnose engine",)
        text = repr(b)
        assert not [n for n in names if n in text], (check_fn, text)
