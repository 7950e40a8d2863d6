#!/usr/bin/env bash
# Set up everything and run the whole test suite against a real engine.
#   scripts/test.sh                  # everything (what .ci/run and the README call)
#   scripts/test.sh [pytest args...] # the setup and linters, then pytest with these arguments
# With CI=true a missing engine fails the run (the engine tests never skip); the same holds
# for the Podman service of tests/podman (scripts/podman.sh).
#
# With no arguments, tests/unit (which needs no engine, no Podman and no browser) runs while
# the engine, the taxonomy images, Podman and the browser are set up (on a clean machine that
# is minutes of apt-get and image builds); the engine and Podman tests run after that, alone,
# so nothing competes with what they time.  The unit run's output is printed when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
unit_pid=""
if [ $# -eq 0 ]; then
    mkdir -p test-artifacts
    unit_log=test-artifacts/unit-tests.log
    # Its own temporary root and no cache: the second pytest below shares neither.
    .venv/bin/python -m pytest tests/unit -p no:cacheprovider \
        --basetemp="${TMPDIR:-/tmp}/diagnose-unit-tests" >"$unit_log" 2>&1 &
    unit_pid=$!
    trap '[ -n "$unit_pid" ] && kill "$unit_pid" 2>/dev/null || true' EXIT
fi
scripts/engine.sh
scripts/images.sh   # the failure-taxonomy images (tests/engine/test_taxonomy.py)
scripts/podman.sh   # the Podman service tests/podman runs against (its own socket)
scripts/browser.sh
.venv/bin/ruff check diagnose checks tests scripts
.venv/bin/mypy diagnose checks tests/support scripts/bench.py scripts/bench_card_floor.py \
    scripts/bench_watch.py scripts/make_samples.py scripts/make_man.py
.venv/bin/lint-imports  # the layer contracts of pyproject.toml [tool.importlinter]
if [ -z "$unit_pid" ]; then
    exec .venv/bin/python -m pytest "$@"
fi
status=0
.venv/bin/python -m pytest tests/engine tests/podman || status=$?
unit_status=0
wait "$unit_pid" || unit_status=$?
unit_pid=""
echo "=== tests/unit (run while the engine was set up) ==="
cat "$unit_log"
if [ "$status" -eq 0 ]; then
    status=$unit_status
fi
exit "$status"
