#!/usr/bin/env bash
# Main job: open the editor on the bundled demo project (headless demo generation when there is no display).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scripts/bootstrap.sh"
exec "$VENV/bin/foley-studio" "$@"
