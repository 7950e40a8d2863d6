"""The user's configuration file: extra redaction patterns and secret names.

Found at `--config FILE`, else `$DIAGNOSE_CONFIG`, else `$XDG_CONFIG_HOME/diagnose/config.toml`
(`~/.config/diagnose/config.toml` when XDG_CONFIG_HOME is unset).  A missing default file
means no configuration; a file named explicitly must exist.  TOML:

    # extra patterns to redact (RE2 syntax): group 1 when the regex has groups, else the
    # whole match
    redact = ["ACME-[0-9]{8}", "internal_id=(\\w+)"]
    # extra name fragments (case-insensitive) that make an env var, label or flag secret
    redact_names = ["MYCORP_", "LICENSE"]

    # findings the team has decided to live with: a check (id or code), optionally the
    # targets it applies to (a glob), why (required) and until when (optional)
    [[ignore]]
    check = "runs-as-root"
    target = "legacy-*"
    reason = "vendor image, cannot change its user; ticket OPS-123"
    expires = 2027-06-30
"""

from __future__ import annotations

import datetime
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from diagnose.model.errors import UsageError
from diagnose.model.ignore import IgnoreRule
from diagnose.redact.user import compile_patterns

KNOWN_KEYS = ("redact", "redact_names", "ignore")
IGNORE_KEYS = ("check", "target", "reason", "expires")


@dataclass(frozen=True)
class Config:
    """What the configuration file says (empty when there is none)."""

    redact: tuple[str, ...] = ()
    redact_names: tuple[str, ...] = ()
    source: Path | None = None
    ignores: tuple[IgnoreRule, ...] = ()


def default_path(environ: Mapping[str, str]) -> Path:
    """Where the configuration is looked for when --config is not given."""
    if environ.get("DIAGNOSE_CONFIG"):
        return Path(environ["DIAGNOSE_CONFIG"])
    base = environ.get("XDG_CONFIG_HOME") or str(Path(environ.get("HOME") or "~").expanduser()
                                                  / ".config")
    return Path(base) / "diagnose" / "config.toml"


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the configuration (raise UsageError, exit 2, when it is unusable)."""
    env = os.environ if environ is None else environ
    explicit = path is not None or bool(env.get("DIAGNOSE_CONFIG"))
    where = path if path is not None else default_path(env)
    try:
        raw = where.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise UsageError(f"config file {where} does not exist",
                             "create it or fix the --config path") from None
        return Config()
    except OSError as exc:
        raise UsageError(f"cannot read config file {where}: {exc.strerror}",
                         "check its permissions") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {where} is not valid TOML: {exc}",
                         "see README, section Redaction") from None
    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        raise UsageError(f"config file {where}: unknown key {unknown[0]!r}",
                         f"known keys: {', '.join(KNOWN_KEYS)}")
    patterns = _strings(data, "redact", where)
    if patterns:
        compile_patterns(patterns, f"config file {where}: redact")
    return Config(patterns, _strings(data, "redact_names", where), where,
                  _ignores(data.get("ignore", []), where))


def _strings(data: Mapping[str, object], key: str, where: Path) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"config file {where}: {key} must be a list of strings",
                         f'write {key} = ["...", "..."]')
    return tuple(value)


def _ignores(value: object, where: Path) -> tuple[IgnoreRule, ...]:
    """The `[[ignore]]` tables, validated (whether each names a known check is decided with
    the check registry: :meth:`Registry.ignoring`)."""
    example = 'write [[ignore]] tables: check = "D705", reason = "...", optional target = ' \
        '"web-*" and expires = 2027-06-30'
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise UsageError(f"config file {where}: ignore must be a list of tables", example)
    rules = []
    for n, entry in enumerate(value, 1):
        at = f"config file {where}: [[ignore]] #{n}"
        # What the report says about it later: the file's name, no local directory.
        unknown = sorted(set(entry) - set(IGNORE_KEYS))
        if unknown:
            raise UsageError(f"{at}: unknown key {unknown[0]!r}",
                             f"known keys: {', '.join(IGNORE_KEYS)}")
        for key in ("check", "reason"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise UsageError(f"{at}: {key} is required (a non-empty string)", example)
        target = entry.get("target", "")
        if not isinstance(target, str):
            raise UsageError(f"{at}: target must be a string (a glob such as web-*)", example)
        rules.append(IgnoreRule(entry["check"].strip(), entry["reason"].strip(), target,
                                _expiry(entry.get("expires"), at),
                                f"config file {where.name}: [[ignore]] #{n}"))
    return tuple(rules)


def _expiry(value: object, at: str) -> str:
    """`expires` as YYYY-MM-DD: a TOML date (2027-06-30) or a string holding one."""
    if value is None:
        return ""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, str) and len(value) == 10 and value[4] == value[7] == "-":
        try:
            return datetime.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise UsageError(f"{at}: expires {value!r} is not a date",
                     "write expires = YYYY-MM-DD, e.g. 2027-06-30")
