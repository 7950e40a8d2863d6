#!/usr/bin/env bash
# Set up everything and run the whole test suite against a real engine.
#   scripts/test.sh [pytest args...]
# With CI=true a missing engine fails the run (the engine tests never skip); the same holds
# for the Podman service of tests/podman (scripts/podman.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/engine.sh
scripts/images.sh   # the failure-taxonomy images (tests/engine/test_taxonomy.py)
scripts/podman.sh   # the Podman service tests/podman runs against (its own socket)
scripts/browser.sh
.venv/bin/ruff check diagnose checks tests scripts
.venv/bin/mypy diagnose checks tests/support scripts/bench.py scripts/bench_watch.py \
    scripts/make_samples.py scripts/make_man.py
.venv/bin/lint-imports  # the layer contracts of pyproject.toml [tool.importlinter]
exec .venv/bin/python -m pytest "$@"
