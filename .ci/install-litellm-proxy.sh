#!/usr/bin/env bash
# A real LiteLLM proxy for tests/real_proxy (marker real_proxy), in a venv of its own.
#
# `litellm[proxy]==1.110.2` does not resolve from PyPI: the extra pins the unpublished
# `litellm-proxy` and `.postN` builds of `litellm-proxy-extras` / `litellm-enterprise`.
# So: litellm==1.110.2, then every requirement of its `proxy` extra (read from the
# wheel's METADATA) except those. Idempotent; a second run only checks and returns.
# Never litellm 1.82.7 / 1.82.8 (they shipped credential-stealing malware).
set -euo pipefail

VERSION="1.110.2"
ROOT="${SAMOKODER_REAL_DIR:-$HOME/.cache/samokoder-real}/litellm-proxy"
VENV="$ROOT/venv"
STAMP="$ROOT/installed-$VERSION"
# Requirements of the `proxy` extra that PyPI cannot satisfy (not needed without a database).
UNRESOLVABLE="litellm-proxy litellm-proxy-extras litellm-enterprise"

start=$(date +%s.%N)
elapsed() { awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

if [[ -f "$STAMP" && -x "$VENV/bin/litellm" ]] \
    && "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('litellm') != '$VERSION')"; then
    echo "litellm proxy $VERSION already installed in $VENV ($(elapsed) s)"
    exit 0
fi

if command -v uv >/dev/null 2>&1; then
    UV=(uv)
else
    python3 -m pip install --quiet "uv==0.13.9"
    UV=(python3 -m uv)
fi

mkdir -p "$ROOT"
rm -f "$STAMP"
"${UV[@]}" venv --quiet --allow-existing --python 3.11 "$VENV" 2>/dev/null \
    || "${UV[@]}" venv --quiet --allow-existing "$VENV"
PY="$VENV/bin/python"

# The wheel's METADATA lists the extra: fetch the wheel alone and read it.
WHEELS="$ROOT/wheel"
rm -rf "$WHEELS"
mkdir -p "$WHEELS"
"${UV[@]}" pip install --quiet --python "$PY" pip
"$PY" -m pip download --quiet --no-deps --only-binary=:all: -d "$WHEELS" "litellm==$VERSION" \
    2> >(grep -v "^WARNING: Location .* is ignored" >&2)
WHEEL=$(ls "$WHEELS"/litellm-"$VERSION"-*.whl)

REQS="$ROOT/proxy-requirements.txt"
"$PY" - "$WHEEL" "$UNRESOLVABLE" >"$REQS" <<'EOF'
import sys
import zipfile

from pip._vendor.packaging.requirements import Requirement

wheel, skip = sys.argv[1], set(sys.argv[2].split())
with zipfile.ZipFile(wheel) as zf:
    name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
    lines = zf.read(name).decode().splitlines()
for line in lines:
    if not line.startswith("Requires-Dist:"):
        continue
    req = Requirement(line.split(":", 1)[1].strip())
    if req.marker is None or not req.marker.evaluate({"extra": "proxy"}):
        continue
    if req.marker.evaluate({"extra": ""}):
        continue  # a base requirement, installed with litellm itself
    if req.name.lower().replace("_", "-") in skip:
        print(f"# skipped (does not resolve from PyPI): {req}", file=sys.stderr)
        continue
    req.marker = None
    print(req)
EOF
echo "proxy extra, installable part: $(grep -vc '^#' "$REQS") requirements"

# The constraint keeps any requirement from pulling another litellm.
CONSTRAINTS="$ROOT/constraints.txt"
echo "litellm==$VERSION" >"$CONSTRAINTS"
"${UV[@]}" pip install --quiet --python "$PY" -c "$CONSTRAINTS" "$WHEEL" -r "$REQS"

"$PY" -c "import importlib.metadata as m; v = m.version('litellm'); assert v == '$VERSION', v"
LITELLM_LOCAL_MODEL_COST_MAP=True "$VENV/bin/litellm" --help >/dev/null
touch "$STAMP"
echo "litellm proxy $VERSION installed in $VENV ($(elapsed) s)"
