"""D501 on canned Compose evidence: parsing depends_on, conditions, the root service."""

from __future__ import annotations

from diagnose.checks.dependency_failed import Dependency, dependency_failed, depends_on, failure

from tests.support.evidence import make_container, make_snapshot


def _c(service, status="running", exit_code=0, depends="", health=None, project="p"):
    labels = {"com.docker.compose.project": project, "com.docker.compose.service": service}
    if depends:
        labels["com.docker.compose.depends_on"] = depends
    state = {"Status": status, "ExitCode": exit_code,
             "StartedAt": "0001-01-01T00:00:00Z" if status == "created" else
             "2026-01-01T00:00:00Z"}
    if health:
        state["Health"] = {"Status": health}
    inspect = {"Id": service * 8, "Name": f"/{project}-{service}-1", "State": state,
               "Config": {"Labels": labels}}
    return make_container(f"{project}-{service}-1", inspect=inspect)


def test_depends_on_formats():
    assert depends_on(_c("w", depends="db:service_healthy:false,cache")) == [
        Dependency("db", "service_healthy"), Dependency("cache", "service_started")]
    assert depends_on(_c("w")) == []


def test_conditions():
    assert failure(_c("db", "running", health="starting"), "service_healthy")
    assert not failure(_c("db", "running", health="healthy"), "service_healthy")
    assert not failure(_c("db", "running"), "service_started")
    assert failure(_c("db", "exited", 1), "service_started") == "exited with code 1"
    assert not failure(_c("job", "exited", 0), "service_completed_successfully")
    assert failure(_c("job", "exited", 2), "service_completed_successfully")
    assert failure(_c("db", "created"), "service_started") == "never started"


def test_root_service_and_silence_for_running_dependants():
    db = _c("db", "exited", 1)
    api = _c("api", "created", depends="db:service_healthy:false")
    web = _c("web", "created", depends="api:service_started:false")
    ok = _c("ok", "running", depends="db:service_started:false")  # runs well: not reported
    other = _c("db", "running", project="q")  # another project's db is not ours
    snap = make_snapshot((db, api, web, ok, other))
    found = {f.target: f for f in dependency_failed(snap)}
    assert set(found) == {api.key, web.key}
    assert "root is db" in found[web.key].title
    facts = dict(found[web.key].facts)
    assert facts["dependency chain"] == "web -> api -> db"
