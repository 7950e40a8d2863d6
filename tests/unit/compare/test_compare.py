"""diagnose.compare on canned evidence: each category read and compared, what always differs
left out, secrets compared but never shown, the ranking, and the JSON document against its
schema in every format.  The real-engine cases are tests/engine/test_diff.py."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

from diagnose.analysis.targets import analyse_container
from diagnose.compare.diff import Options, Party, compare
from diagnose.compare.items import PLACEHOLDER
from diagnose.evidence import layout
from diagnose.model.diff import Category, Change, Diff, Link
from diagnose.redact.rules import secret_name
from diagnose.redact.values import PLACEHOLDER_RE
from diagnose.render import Format
from diagnose.render.diff import DIFF_TEMPLATES, render_diff
from tests.support.evidence import make_container, make_engine, registry

IMAGE_ID = "sha256:" + "a" * 64
STAMP = "2026-12-03T00:00:00.000000000Z"


def inspect(name: str, **over: Any) -> dict[str, Any]:
    """A running container's inspect document; `over` replaces top-level sections."""
    doc: dict[str, Any] = {
        "Id": (name * 64)[:64], "Name": "/" + name, "Image": IMAGE_ID,
        "Created": STAMP, "RestartCount": 0,
        "State": {"Status": "running", "Running": True, "ExitCode": 0, "Pid": 42,
                  "StartedAt": STAMP, "FinishedAt": "0001-01-01T00:00:00Z", "OOMKilled": False},
        "Config": {"Image": "shop/web:1", "Hostname": name[:12], "User": "",
                   "Env": [f"HOSTNAME={name}", "PATH=/usr/bin:/bin", "APP_MODE=prod"],
                   "Entrypoint": ["/app"], "Cmd": ["serve"], "Labels": {"app": "web"},
                   "WorkingDir": "/srv"},
        "HostConfig": {"NetworkMode": "default", "RestartPolicy": {"Name": "no"},
                       "Memory": 0, "ReadonlyRootfs": False},
        "Mounts": [], "NetworkSettings": {"IPAddress": "172.17.0.2", "Networks": {
            "bridge": {"Aliases": None, "IPAddress": "172.17.0.2"}}},
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            doc[key] = {**doc[key], **value}
        else:
            doc[key] = value
    return doc


def exited(code: int, oom: bool = False) -> dict[str, Any]:
    return {"Status": "exited", "Running": False, "ExitCode": code, "Pid": 0, "OOMKilled": oom,
            "StartedAt": "2026-12-03T00:00:00.1Z", "FinishedAt": "2026-12-03T00:00:00.5Z"}


IMAGE = {"Id": IMAGE_ID, "RepoTags": ["shop/web:1"], "Os": "linux", "Architecture": "amd64",
         "Config": {"Env": ["PATH=/usr/bin:/bin"]},
         "RootFS": {"Layers": ["sha256:" + "1" * 64, "sha256:" + "2" * 64]}}
HISTORY = [{"CreatedBy": "/bin/sh -c #(nop)  CMD [\"serve\"]", "Size": 0},
           {"CreatedBy": "/bin/sh -c #(nop) ADD file:abc in / ", "Size": 1000}]


def party(label: str, doc: dict[str, Any], *, stderr: str = "", image: Any = None,
          history: Any = None, engine_id: str = "E1", version: str = "27.0",
          probe: Any = None) -> Party:
    files: dict[str, Any] = {layout.IMAGE_INSPECT: image or IMAGE,
                             layout.IMAGE_HISTORY: history or HISTORY}
    if probe is not None:
        files[layout.ENTRYPOINT] = probe
    if stderr:
        files[layout.LOG_STDERR] = "".join(f"{STAMP} {ln}\n" for ln in stderr.splitlines())
        files[layout.LOG_STDOUT] = ""
    key = doc["Name"].lstrip("/")
    c = make_container(key, inspect=doc, files=files,
                       collected=("inspect", "logs", "image", "history", "entrypoint"),
                       engine=make_engine({"ID": engine_id, "Driver": "overlay2",
                                           "Architecture": "x86_64"},
                                          files={layout.ENGINE_VERSION: {"Version": version}}))
    report, errors = analyse_container(c, registry(), debug=True)
    assert not errors
    return Party(label, key, "bundle", c, report)


def diff(a: Party, b: Party, together: bool = True, all_fields: bool = False) -> Diff:
    return compare(a, b, Options(secret_name, together, all_fields))


def fields(d: Diff) -> list[tuple[str, str]]:
    return [(x.category.value, x.field) for x in d.differences]


def test_a_container_against_itself_is_empty_and_exit_0() -> None:
    a = party("A", inspect("web"))
    d = diff(a, a)
    assert d.differences == () and d.exit_code() == 0
    assert "does not differ" in d.headline()


def test_what_always_differs_is_left_out_unless_all_fields() -> None:
    a, b = party("A", inspect("web-1")), party("B", inspect("web-2"))
    d = diff(a, b)
    assert d.differences == (), fields(d)
    full = diff(a, b, all_fields=True)
    got = {f for c, f in fields(full) if c == "other"}
    assert {"ID", "name", "hostname"} <= got
    assert ("other", "env HOSTNAME") in fields(full)
    # what always differs never decides the exit code
    assert all(x.category is Category.OTHER for x in full.differences)
    assert full.exit_code() == 0


FAILS = ("error: environment variable DATABASE_URL is not set\n")


def test_missing_env_var_links_the_env_difference_first() -> None:
    good = inspect("ok")
    good["Config"]["Env"] = [*good["Config"]["Env"], "DATABASE_URL=postgres://db/app",
                             "CACHE_TTL=60"]
    bad = inspect("bad", State=exited(1))
    a, b = party("A", good), party("B", bad, stderr=FAILS)
    d = diff(a, b)
    first = d.differences[0]
    assert (first.category, first.field, first.change) == (Category.ENV, "DATABASE_URL",
                                                            Change.REMOVED)
    assert first.link is Link.NAMED and "missing-env-var" in first.explains
    # Another variable is in the category the cause lives in, but the finding names the one
    # it is about: the other is listed next, not offered as an explanation.
    (ttl,) = [x for x in d.differences if x.field == "CACHE_TTL"]
    assert ttl.link is Link.NONE and ttl.rank == 2 and not ttl.explains
    one_side = [x for x in d.differences if x.category is Category.FINDINGS]
    assert any(x.field == "missing-env-var" and x.change is Change.ADDED for x in one_side)
    logs = [x for x in d.differences if x.category is Category.LOGS]
    assert logs and "DATABASE_URL is not set" in (logs[0].b or "")
    assert d.exit_code() == 1 and d.b.failing and not d.a.failing
    assert d.headline().startswith("B (bad) failed (D407 missing-env-var) and differs from A "
                                   "in 1 way that can explain it: DATABASE_URL"), d.headline()


def test_oom_ranks_the_memory_limit_first() -> None:
    a = party("A", inspect("ok"))
    bad = inspect("bad", State=exited(137, oom=True), HostConfig={"Memory": 32 * 2**20})
    d = diff(a, party("B", bad))
    first = d.differences[0]
    assert (first.category, first.field) == (Category.LIMITS, "memory")
    assert first.b == "32m" or "32" in (first.b or "")
    assert "oom-killed" in first.explains


def test_secret_values_are_compared_never_shown() -> None:
    ga, gb = inspect("a"), inspect("b")
    ga["Config"]["Env"].append("DB_PASSWORD=[redacted-1]")
    gb["Config"]["Env"].append("DB_PASSWORD=[redacted-2]")
    d = diff(party("A", ga), party("B", gb))
    (x,) = [x for x in d.differences if x.field == "DB_PASSWORD"]
    assert x.secret and x.a == x.b == "(redacted)"
    for fmt in DIFF_TEMPLATES:
        out = render_diff(d, fmt)
        assert "[redacted-1]" not in out and "[redacted-2]" not in out
    # the same placeholder within one redaction: the same secret
    gb["Config"]["Env"][-1] = "DB_PASSWORD=[redacted-1]"
    assert diff(party("A", ga), party("B", gb)).differences == ()
    # redacted by two runs: whether it changed cannot be told
    apart = diff(party("A", ga), party("B", gb), together=False)
    assert apart.differences == () and [u.field for u in apart.not_compared] == ["DB_PASSWORD"]


def test_placeholder_pattern_agrees_with_redaction() -> None:
    assert PLACEHOLDER.pattern == PLACEHOLDER_RE.pattern or PLACEHOLDER.fullmatch("[redacted-12]")
    assert PLACEHOLDER_RE.search("[redacted-12]")


def test_image_rebuilt_under_the_same_tag_shows_the_added_layer() -> None:
    new_id = "sha256:" + "b" * 64
    image_b = {**IMAGE, "Id": new_id, "RootFS": {"Layers": [*IMAGE["RootFS"]["Layers"],
                                                            "sha256:" + "3" * 64]}}
    history_b = [{"CreatedBy": "/bin/sh -c echo hi > /added", "Size": 3}, *HISTORY]
    d = diff(party("A", inspect("a")),
             party("B", inspect("b", Image=new_id), image=image_b, history=history_b))
    got = {x.field: x for x in d.differences if x.category is Category.IMAGE}
    assert "image ID" in got and "points to a different image" in got["image ID"].reason
    layer = [x for f, x in got.items() if f.startswith("layer ")]
    assert layer and layer[0].change is Change.ADDED
    assert "RUN echo hi > /added" in (layer[0].b or "")


@pytest.mark.parametrize("section,change,category", [
    ("Config", {"User": "1000"}, Category.USER),
    ("Config", {"WorkingDir": "/tmp"}, Category.WORKDIR),
    ("Config", {"Cmd": ["serve", "--debug"]}, Category.COMMAND),
    ("Config", {"Labels": {"app": "web", "tier": "front"}}, Category.LABELS),
    ("Config", {"Healthcheck": {"Test": ["CMD", "true"], "Interval": 5 * 10**9}},
     Category.HEALTHCHECK),
    ("HostConfig", {"RestartPolicy": {"Name": "always"}}, Category.RESTART),
    ("HostConfig", {"ReadonlyRootfs": True}, Category.READ_ONLY),
    ("HostConfig", {"CapAdd": ["NET_ADMIN"]}, Category.CAPABILITIES),
    ("HostConfig", {"SecurityOpt": ["no-new-privileges"]}, Category.SECURITY),
    ("HostConfig", {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}},
     Category.PORTS),
    ("HostConfig", {"PidsLimit": 100}, Category.LIMITS),
    ("Mounts", [{"Type": "bind", "Source": "/srv/data", "Destination": "/data", "RW": False}],
     Category.MOUNTS),
    ("NetworkSettings", {"Networks": {"shop": {"Aliases": ["api"]}}}, Category.NETWORKS),
])
def test_each_category_is_compared(section: str, change: Any, category: Category) -> None:
    b = copy.deepcopy(inspect("b"))
    if isinstance(change, dict) and isinstance(b[section], dict):
        b[section] = {**b[section], **change}
    else:
        b[section] = change
    d = diff(party("A", inspect("a")), party("B", b))
    assert d.differences and d.differences[0].category is category, fields(d)
    assert d.exit_code() == 1


def test_engines_are_compared_only_when_they_differ() -> None:
    d = diff(party("A", inspect("a")), party("B", inspect("b"), engine_id="E2"))
    assert d.differences == ()  # same versions on both engines: nothing to say
    assert diff(party("A", inspect("a")), party("B", inspect("b"))).differences == ()
    other = diff(party("A", inspect("a")),
                 party("B", inspect("b"), engine_id="E2", version="28.1"))
    assert [(x.category, x.field, x.a, x.b) for x in other.differences] == [
        (Category.ENGINE, "version", "27.0", "28.1")]
    # the same versions on one engine: not compared at all
    assert diff(party("A", inspect("a")), party("B", inspect("b"), version="28.1")
                ).differences == ()


def schema() -> dict[str, Any]:
    text = resources.files("diagnose.schema").joinpath("diff-v1.json").read_text()
    return json.loads(text)


def test_json_follows_its_schema_and_every_format_renders() -> None:
    good = inspect("ok")
    good["Config"]["Env"] = [*good["Config"]["Env"], "DATABASE_URL=postgres://db/app"]
    d = diff(party("A", good), party("B", inspect("bad", State=exited(1)), stderr=FAILS))
    doc = json.loads(render_diff(d, Format.JSON))
    jsonschema.validate(doc, schema())
    assert doc["schema"] == "diagnose/diff-v1" and doc["differences"][0]["rank"] == 1
    text = render_diff(d, Format.TEXT)
    assert text.splitlines()[0] == d.headline()
    painted = render_diff(d, Format.TEXT, color=True)
    assert "\x1b[1m" in painted and "\x1b[" not in text
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**doc, "exit_code": 5}, schema())


def test_hostile_values_are_escaped_in_every_format() -> None:
    evil = "<script>alert(1)</script> | @admin \x1b]0;pwned\x07 #12"
    good = inspect("ok")
    bad = inspect("bad", State=exited(1))
    bad["Config"]["Env"] = [*bad["Config"]["Env"], f"MODE={evil}"]
    d = diff(party("A", good), party("B", bad, stderr=f"fatal: {evil}\n"))
    html = render_diff(d, Format.HTML)
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "Content-Security-Policy\" content=\"default-src 'none'" in html
    md = render_diff(d, Format.MARKDOWN)
    assert "\\<script" not in md and "`<script>alert(1)</script> \\| @admin" in md
    for fmt in (Format.TEXT, Format.MARKDOWN, Format.HTML):
        assert "\x1b" not in render_diff(d, fmt)
    assert json.loads(render_diff(d, Format.JSON))["differences"]


def test_log_lines_only_new_shapes_of_the_failing_side_errors_first() -> None:
    ok = "starting worker 1\nconnected to db in 12 ms\nserving on :8080\n"
    bad = ("starting worker 2\nconnected to db in 40 ms\nretrying cache 3\n"
           "Error: cannot open /data/state.db\nshutting down\n")
    d = diff(party("A", inspect("ok"), stderr=ok),
             party("B", inspect("bad", State=exited(1)), stderr=bad))
    logs = [x.b for x in d.differences if x.category is Category.LOGS]
    # same shapes (digits as 0) are not new; the error line comes first
    assert logs[0] == "Error: cannot open /data/state.db"
    assert set(logs) == {"Error: cannot open /data/state.db", "retrying cache 3",
                         "shutting down"}
    # the working side's logs are not listed
    assert all(x.a is None for x in d.differences if x.category is Category.LOGS)


ARM_ELF = {"path": "/app", "kind": "elf", "elf_class": "ELF64", "machine": "aarch64",
           "static": True, "runs_natively": False, "executable": True, "mode_octal": "0755"}


def test_exec_format_error_ranks_the_image_first() -> None:
    new_id = "sha256:" + "c" * 64
    probe = {"argv": ["/app", "serve"], "argv0": "/app", "filesystem": {"readable": True},
             "path_env": "/usr/bin:/bin", "path_source": "image",
             "shell": {"usable": True, "path": "/bin/sh"}, "exists": True, "resolved": "/app",
             "executable": True, "file": ARM_ELF,
             "candidates": [{"path": "/app", "exists": True}]}
    bad = inspect("bad", Image=new_id, State=exited(255),
                  HostConfig={"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}})
    d = diff(party("A", inspect("ok")),
             party("B", bad, image={**IMAGE, "Id": new_id, "Architecture": "arm64"},
                   stderr="exec /app: exec format error", probe=probe))
    # an arm64 image on an amd64 engine: the image was the wrong one (exec format error with it)
    assert d.b.verdict is not None and d.b.verdict["id"] == "image-platform-mismatch"
    assert [x.category for x in d.differences[:2]] == [Category.IMAGE, Category.IMAGE]
    assert {x.field for x in d.differences[:2]} == {"image ID", "platform"}
    # the restart policy differs too, but says nothing about an exec format error
    (policy,) = [x for x in d.differences if x.category is Category.RESTART]
    assert policy.link is Link.NONE and policy.rank > 2


def test_state_health_and_restarts_rank_after_what_decides() -> None:
    sick = inspect("sick", RestartCount=4, State={"Health": {"Status": "unhealthy"}},
                   Config={"Healthcheck": {"Test": ["CMD", "false"], "Retries": 1}})
    well = inspect("well", State={"Health": {"Status": "healthy"}},
                   Config={"Healthcheck": {"Test": ["CMD", "true"], "Retries": 1}})
    d = diff(party("A", well), party("B", sick))
    got = [(x.category, x.field, x.a, x.b) for x in d.differences]
    assert got[0][:2] == (Category.HEALTHCHECK, "health test")
    assert (Category.STATE, "health", "healthy", "unhealthy") in got
    assert (Category.STATE, "restarts", None, "4") in got
    assert max(i for i, g in enumerate(got) if g[0] is Category.HEALTHCHECK) < min(
        i for i, g in enumerate(got) if g[0] is Category.STATE)
