#!/usr/bin/env bash
# Create .venv with diagnose installed (editable) and its test tools.  Idempotent: a stamp
# holding the hash of pyproject.toml makes repeated runs instant.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.diagnose-setup
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    exit 0
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup.sh: diagnose needs Python 3.11+ ($PY is $("$PY" --version 2>&1))" >&2
    exit 1
fi
echo "setup.sh: creating .venv and installing diagnose with its test tools" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { "$PY" -m venv .venv \
       && .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip \
       && .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]' \
       && .venv/bin/python -c 'import diagnose, docker, typer, jinja2, psutil, tabulate'; \
     } >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" >&2 || true
    echo "setup.sh: installation failed" >&2
    exit 1
fi
echo "$want" >"$stamp"
