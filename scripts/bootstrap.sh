#!/usr/bin/env bash
# Idempotent set-up shared by ./run.sh and ./test.sh: system libraries, .venv, CPU torch, the package.
# Sourced, not executed. Quick the second time: it re-installs only when pyproject.toml changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
TORCH_SPEC="${FOLEY_TORCH_SPEC:-torch==2.13.0}"   # GPU users: FOLEY_TORCH_SPEC="torch==X --index-url <their CUDA index>"

# Libraries Qt's xcb/offscreen platforms and PortAudio need at run time.
SYSTEM_PACKAGES=(libportaudio2 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxcb-xinerama0 libxcb-image0
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libegl1 libgl1 libfontconfig1 libdbus-1-3
  libglib2.0-0 xvfb)

_missing_system_packages() {
  command -v dpkg >/dev/null 2>&1 || return 0
  local p
  for p in "${SYSTEM_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || printf '%s ' "$p"
  done
}

_install_system_packages() {
  local missing
  missing="$(_missing_system_packages)"
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "[setup] installing system libraries: $missing" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null \
      || echo "[setup] warning: apt-get could not install: $missing" >&2
  else
    echo "[setup] missing system libraries; run: sudo apt-get install $missing" >&2
  fi
}

_install_python_packages() {
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  local stamp="$VENV/.bootstrap-stamp" want
  want="$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-16) $TORCH_SPEC"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  echo "[setup] installing Python packages into .venv (first run takes a few minutes; log: .venv/setup.log)" >&2
  local log="$VENV/setup.log"
  # torch first: with it present, the package's unpinned torch requirement installs nothing more.
  # shellcheck disable=SC2086
  if ! { "$VENV/bin/python" -m pip install -q --upgrade pip \
         && "$VENV/bin/python" -m pip install -q $TORCH_SPEC \
         && "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]"; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "[setup] failed; the whole log is in $log" >&2
    return 1
  fi
  echo "$want" > "$stamp"
}

_install_system_packages
_install_python_packages
export HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"
export TRANSFORMERS_OFFLINE="${TRANSFORMERS_OFFLINE:-1}"
