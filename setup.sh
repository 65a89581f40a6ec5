#!/usr/bin/env bash
# One-step set-up: a virtual environment in .venv, the CPU build of torch first (never the
# multi-GB CUDA build), then this package. With --test: the test extra and Debian chromium for the
# browser test. Safe to run again: what is already there is kept.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
if [ "${1:-}" = "--test" ]; then
  .venv/bin/pip install -q -e '.[test]'
  if [ ! -x /usr/bin/chromium ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get install -y chromium >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y chromium >/dev/null; }
  fi
else
  .venv/bin/pip install -q -e .
fi
