#!/usr/bin/env bash
# Build the Foley Studio desktop app with PyInstaller, pack a Linux tarball, and smoke-test the result.
#
#   packaging/build.sh                 # CPU torch (default): packaging/dist/FoleyStudio/ + tarball + smoke test
#   packaging/build.sh --cuda          # allow the CUDA torch named by FOLEY_TORCH_SPEC (see packaging/README.md)
#   packaging/build.sh --no-tarball    # skip packing (the smoke test still runs)
#   packaging/build.sh --no-smoke      # skip the smoke test
#
# Everything it needs comes from this script: a separate build venv (packaging/.build-venv, never the
# developer's .venv) with the chosen torch, the package (not editable) and PyInstaller from the `package`
# extra. Outputs: packaging/dist/FoleyStudio/ (the app folder), packaging/dist/FoleyStudio-<ver>-linux-<arch>.tar.gz,
# packaging/dist/build-report.json (size, build time, smoke result). Build files: packaging/build/.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="$HERE/.build-venv"
DIST="$HERE/dist"
WORK="$HERE/build"
PY="${PYTHON:-python3}"
# CPU torch by default. On machines whose pip does not already offer the +cpu wheel, add PyTorch's CPU index:
#   FOLEY_TORCH_SPEC="torch==2.13.0+cpu --extra-index-url <PyTorch CPU wheel index>"
TORCH_SPEC="${FOLEY_TORCH_SPEC:-torch==2.13.0+cpu}"
ALLOW_CUDA=0 TARBALL=1 SMOKE=1
for arg in "$@"; do
  case "$arg" in
    --cuda) ALLOW_CUDA=1 ;;
    --no-tarball) TARBALL=0 ;;
    --no-smoke) SMOKE=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
  esac
done

log() { echo "[package] $*" >&2; }

build_venv() {
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  local stamp="$VENV/.package-stamp" want
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16) $TORCH_SPEC"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing the build venv ($TORCH_SPEC, the package's dependencies, PyInstaller)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # torch first: with it present, the package's unpinned torch requirement installs nothing more.
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install -q $TORCH_SPEC
    "$VENV/bin/python" -m pip install -q "$ROOT[package]"
    echo "$want" > "$stamp"
  fi
  # Always bundle the current source: re-install just the package (seconds).
  "$VENV/bin/python" -m pip install -q --no-deps --force-reinstall "$ROOT"
}

check_torch() {
  local cuda
  cuda="$("$VENV/bin/python" -c 'import torch; print(torch.version.cuda or "")')"
  if [ -n "$cuda" ] && [ "$ALLOW_CUDA" = 0 ]; then
    log "error: the build venv has a CUDA build of torch (CUDA $cuda) but --cuda was not given."
    log "       For the default CPU app set FOLEY_TORCH_SPEC to a +cpu torch, or pass --cuda on purpose."
    exit 2
  fi
  log "torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)') (CUDA: ${cuda:-none})"
}

build_venv
check_torch
VERSION="$("$VENV/bin/python" -c 'import foley_studio; print(foley_studio.__version__)')"
ARCH="$(uname -m)"
log "building Foley Studio $VERSION for linux-$ARCH"

start=$(date +%s)
rm -rf "$DIST/FoleyStudio"
FOLEY_STUDIO_VERSION="$VERSION" "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
  --distpath "$DIST" --workpath "$WORK" "$HERE/foley_studio.spec"
build_s=$(( $(date +%s) - start ))
APP="$DIST/FoleyStudio"
app_mb=$(du -sm "$APP" | cut -f1)
log "app folder: $APP ($app_mb MB, built in $build_s s)"

tar_path="" tar_mb=0
if [ "$TARBALL" = 1 ]; then
  tar_path="$("$HERE/linux/make_tarball.sh" "$APP" "$VERSION")"
  tar_mb=$(du -sm "$tar_path" | cut -f1)
  log "tarball: $tar_path ($tar_mb MB)"
fi

smoke="skipped"
if [ "$SMOKE" = 1 ]; then
  if "$VENV/bin/python" "$HERE/smoke_test.py" "$APP/FoleyStudio" --json "$DIST/smoke-report.json"; then
    smoke="passed"
  else
    smoke="failed"
  fi
  # Also through the X11 plugin users get (libqxcb and its xcb libraries), on a virtual display.
  if command -v xvfb-run >/dev/null 2>&1; then
    xvfb-run -a "$VENV/bin/python" "$HERE/smoke_test.py" "$APP/FoleyStudio" --platform xcb \
      --json "$DIST/smoke-report-xcb.json" || smoke="failed"
  else
    log "xvfb-run not found: skipping the X11 (xcb) smoke run"
  fi
fi

"$VENV/bin/python" - "$DIST/build-report.json" <<EOF
import json, sys
from pathlib import Path
smoke_path = Path("$DIST/smoke-report.json")
report = {"version": "$VERSION", "platform": "linux-$ARCH", "torch_spec": "$TORCH_SPEC",
          "app_dir": "$APP", "app_size_mb": $app_mb, "build_seconds": $build_s,
          "tarball": "$tar_path" or None, "tarball_size_mb": $tar_mb, "smoke": "$smoke",
          "smoke_report": json.loads(smoke_path.read_text()) if "$smoke" != "skipped" and smoke_path.exists() else None}
Path(sys.argv[1]).write_text(json.dumps(report, indent=2))
EOF
log "report: $DIST/build-report.json (smoke test: $smoke)"
[ "$smoke" != "failed" ]
