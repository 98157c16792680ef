#!/usr/bin/env bash
# The whole default test suite (slow tests excluded; add `-m slow` for them).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scripts/bootstrap.sh"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest -q "$@"
