#!/usr/bin/env bash
# Set up everything and run the whole test suite against a real engine.
#   scripts/test.sh [pytest args...]
# With CI=true a missing engine fails the run (the engine tests never skip).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/engine.sh
scripts/browser.sh
.venv/bin/ruff check diagnose checks tests scripts
.venv/bin/mypy diagnose checks scripts/bench.py scripts/make_samples.py
exec .venv/bin/python -m pytest "$@"
