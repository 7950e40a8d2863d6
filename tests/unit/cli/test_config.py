"""The configuration file: location, format, and one-line errors for bad content."""

from __future__ import annotations

import pytest

from diagnose.cli.config import default_path, load_config
from diagnose.model.errors import UsageError


def test_default_location_follows_xdg(tmp_path):
    assert default_path({"XDG_CONFIG_HOME": str(tmp_path)}) == \
        tmp_path / "diagnose" / "config.toml"
    assert default_path({"HOME": "/home/u"}) == \
        default_path({"HOME": "/home/u", "XDG_CONFIG_HOME": ""})
    assert str(default_path({"HOME": "/home/u"})) == "/home/u/.config/diagnose/config.toml"
    assert default_path({"DIAGNOSE_CONFIG": "/etc/d.toml"}).as_posix() == "/etc/d.toml"


def test_missing_default_is_empty_but_missing_explicit_is_an_error(tmp_path):
    cfg = load_config(None, {"XDG_CONFIG_HOME": str(tmp_path)})
    assert cfg.redact == () and cfg.source is None
    with pytest.raises(UsageError, match="does not exist"):
        load_config(tmp_path / "nope.toml", {})


def test_reads_patterns_and_names(tmp_path):
    d = tmp_path / "diagnose"
    d.mkdir()
    (d / "config.toml").write_text('redact = ["ACME-[0-9]{6}", "id=(\\\\w+)"]\n'
                                   'redact_names = ["LICENSE"]\n')
    cfg = load_config(None, {"XDG_CONFIG_HOME": str(tmp_path)})
    assert cfg.redact == ("ACME-[0-9]{6}", "id=(\\w+)")
    assert cfg.redact_names == ("LICENSE",)
    assert cfg.source == d / "config.toml"


@pytest.mark.parametrize("content,message", [
    ("redact = [", "not valid TOML"),
    ('redact = "x"', "must be a list of strings"),
    ('redact = ["(unclosed"]', "not valid RE2 syntax"),
    ('redact = ["(?<=user=)\\\\w+"]', "not valid RE2 syntax: invalid perl operator"),
    ('redcat = ["x"]', "unknown key 'redcat'"),
    ('ignore = "D705"', "ignore must be a list of tables"),
    ('[[ignore]]\nreason = "r"', r"\[\[ignore\]\] #1: check is required"),
    ('[[ignore]]\ncheck = "D705"\nreason = " "', "reason is required"),
    ('[[ignore]]\ncheck = "D705"\nreason = "r"\ntarget = 3', "target must be a string"),
    ('[[ignore]]\ncheck = "D705"\nreason = "r"\nexpires = 2027-06-30T10:00:00',
     "is not a date"),
    ('[[ignore]]\ncheck = "D705"\nreason = "r"\nexpires = "2027-02-30"', "is not a date"),
])
def test_bad_content_is_a_usage_error(tmp_path, content, message):
    f = tmp_path / "c.toml"
    f.write_text(content)
    with pytest.raises(UsageError, match=message) as err:
        load_config(f, {})
    assert "\n" not in err.value.message


def test_reads_ignore_entries(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[[ignore]]\ncheck = "runs-as-root"\ntarget = "web-*"\nreason = " why "\n'
                 'expires = 2027-06-30\n\n[[ignore]]\ncheck = "D706"\nreason = "r"\n'
                 'expires = "2027-01-02"\n')
    first, second = load_config(f, {}).ignores
    assert (first.check, first.target, first.reason, first.expires) == (
        "runs-as-root", "web-*", "why", "2027-06-30")
    assert first.where == "config file c.toml: [[ignore]] #1"  # no local directory
    assert second.expires == "2027-01-02" and second.target == ""
    assert first.covers("web-1") and first.covers("engine-2/web-1")
    assert not first.covers("db") and second.covers("anything")
    assert not first.expired("2027-06-30") and first.expired("2027-07-01")
