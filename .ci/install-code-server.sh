#!/usr/bin/env bash
# Install a real VS Code (code-server, pinned) for tests/vscode_real, from the registries alone.
# Idempotent: a second run only checks and prints where it is. Prints what it cost.
# Recipe and reasons: /work/shared/FACTS.md, "A real VS Code" (postinstall fetches ripgrep
# from GitHub, so scripts are skipped and the native parts rebuilt by hand).
set -euo pipefail
VERSION=4.99.3
ROOT="${SAMOKODER_REAL_DIR:-$HOME/.cache/samokoder-real}/code-server"
PKG="$ROOT/node_modules/code-server"
STAMP="$ROOT/.installed-$VERSION"
start=$(date +%s)

case "$(node --version 2>/dev/null)" in
    v20.*) ;;
    *) echo "install-code-server: code-server $VERSION needs node 20 (found: $(node --version 2>/dev/null || echo none))" >&2 ;;
esac

need_apt=()
for tool in rg:ripgrep chromium:chromium cc:build-essential; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool#*:}")
done
[ -e /usr/include/krb5.h ] || [ -e /usr/include/gssapi/gssapi.h ] || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "install-code-server: need apt packages ${need_apt[*]} (run as root)" >&2
        exit 1
    fi
fi

if [ ! -e "$STAMP" ]; then
    rm -rf "$ROOT"
    mkdir -p "$ROOT"
    cd "$ROOT"
    echo '{"name":"samokoder-code-server","private":true}' > package.json
    npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION" >/dev/null
    (cd node_modules && npm rebuild argon2 >/dev/null)
    cd "$PKG/lib/vscode"
    npm install --no-audit --no-fund --omit=dev --ignore-scripts >/dev/null
    mkdir -p node_modules/@vscode/ripgrep/bin
    ln -sf "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
    npm_config_yes=true npm rebuild >/dev/null
    # the links code-server's postinstall.sh makes
    ln -sfn node_modules node_modules.asar
    (cd bin/remote-cli && ln -sfn code-linux.sh code-server)
    (cd bin/helpers && ln -sfn browser-linux.sh browser.sh)
    (cd extensions && npm install --no-audit --no-fund --omit=dev >/dev/null)
    touch "$STAMP"
fi

BIN="$PKG/out/node/entry.js"
node "$BIN" --version >/dev/null
echo "code-server $VERSION at $PKG (bin: node $BIN); chromium: $(command -v chromium); $(( $(date +%s) - start )) s"
