#!/usr/bin/env bash
# Set up everything and run the whole test suite against a real engine.
#   scripts/test.sh [pytest args...]
# With CI=true a missing engine fails the run (the engine tests never skip).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/engine.sh
scripts/images.sh   # the failure-taxonomy images (tests/engine/test_taxonomy.py)
scripts/browser.sh
.venv/bin/ruff check diagnose checks tests scripts
.venv/bin/mypy diagnose checks tests/support scripts/bench.py scripts/make_samples.py
.venv/bin/lint-imports  # the layer contracts of pyproject.toml [tool.importlinter]
exec .venv/bin/python -m pytest "$@"
