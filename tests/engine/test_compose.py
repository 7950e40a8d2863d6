"""Compose projects: --project selects every container of a project, the report has a section
per service, and a service that did not run because a dependency failed points at the root."""

from __future__ import annotations

import uuid

from tests.support.engine import wait_for
from tests.support.runs import cause_ids, finding


def _compose(engine, project, service, *args, depends="", cmd=("sleep", "100000"),
             create=False):
    labels = ["--label", f"com.docker.compose.project={project}",
              "--label", f"com.docker.compose.service={service}",
              "--label", "com.docker.compose.container-number=1"]
    if depends:
        labels += ["--label", f"com.docker.compose.depends_on={depends}"]
    make = engine.create if create else engine.run
    return make(f"{project}-{service}-1", *labels, *args, cmd=cmd)


def test_failed_dependency_points_at_the_root_service(engine, diagnose):
    project = f"shop{uuid.uuid4().hex[:6]}"
    db = _compose(engine, project, "db", cmd=("sh", "-c",
                                              "echo 'FATAL: database files are incompatible' "
                                              ">&2; exit 1"))
    api = _compose(engine, project, "api", depends="db:service_healthy:false", create=True)
    web = _compose(engine, project, "web", depends="api:service_started:false", create=True)
    cache = _compose(engine, project, "cache",
                     "--health-cmd", "true", "--health-interval", "1s")
    engine.wait_status(db, "exited")
    wait_for(lambda: engine.inspect(cache)["State"]["Health"]["Status"] == "healthy",
             what="cache healthy")

    r = diagnose("--project", project, "-q", "-f", "json")
    assert r.code == 1, r.stderr
    doc = r.json()
    assert {t["name"] for t in doc["targets"]} == {db, api, web, cache}
    assert {t["service"] for t in doc["targets"]} == {"db", "api", "web", "cache"}
    assert all(t["project"] == project for t in doc["targets"])

    f = finding(r, "dependency-failed", api)
    assert "db exited with code 1" in f["title"]
    facts = {x["name"]: x["value"] for x in f["facts"]}
    assert facts["root service"].startswith(f"db ({db})")
    assert facts["depends on"] == "db (condition service_healthy)"
    # Transitively: web waits on api, which never started because db failed.
    f = finding(r, "dependency-failed", web)
    facts = {x["name"]: x["value"] for x in f["facts"]}
    assert "root is db" in f["title"] and facts["root service"].startswith(f"db ({db})")
    assert facts["dependency chain"] == "web -> api -> db"
    target = next(t for t in doc["targets"] if t["name"] == web)
    assert target["verdict"]["id"] == "dependency-failed"  # outranks created-not-started
    assert any(s["stage"] == "project" for s in target["path"])
    # The root and the healthy service get no dependency finding.
    assert "dependency-failed" not in cause_ids(r, db)
    assert "app-exit-error" in cause_ids(r, db)
    assert not cause_ids(r, cache)
    # Listed with their targets, not twice.
    assert not [x for x in doc["run"]["findings"] if x["id"] == "dependency-failed"]

    text = diagnose("--project", project, "-q", "--no-color").stdout
    assert "Compose services" in text and f"{project}/db" in text
    md = diagnose("--project", project, "-q", "-f", "markdown").stdout
    assert "| Compose service |" in md

    offline = diagnose("analyze", str(r.bundle), "-f", "json")
    assert cause_ids(offline, web) == cause_ids(r, web)


def test_unknown_project_exits_2(engine, diagnose):
    r = diagnose("--project", f"nothing{uuid.uuid4().hex[:6]}", "-q")
    assert r.code == 2 and "no container matches" in r.stderr
