#!/usr/bin/env bash
# Regenerate samples/ (see scripts/make_samples.py):
#   scripts/make-samples.sh            # real broken containers -> bundles -> renderings (engine)
#   scripts/make-samples.sh --render   # re-render the committed bundles only (offline)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "${1:-}" != "--render" ]; then
    scripts/engine.sh
fi
exec .venv/bin/python scripts/make_samples.py "$@"
