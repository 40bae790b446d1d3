#!/usr/bin/env bash
# Install Emacs with eglot for tests/emacs_real (marker real_emacs): Debian's emacs-nox,
# plus elpa-eglot where Emacs is older than 29 (29+ has eglot built in). apt installs
# system-wide, so there is nothing under SAMOKODER_REAL_DIR. Idempotent: a second run
# only checks. Prints what it cost.
set -euo pipefail
start=$(date +%s)

has_eglot() {
    command -v emacs >/dev/null 2>&1 && emacs --batch --eval "(require 'eglot)" >/dev/null 2>&1
}

if ! has_eglot; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "install-emacs: need root and apt-get to install emacs-nox and elpa-eglot" >&2
        exit 1
    fi
    apt-get update -qq
    packages=(emacs-nox)
    if apt-cache show elpa-eglot >/dev/null 2>&1; then
        packages+=(elpa-eglot)
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${packages[@]}" >/dev/null
    if ! has_eglot; then
        echo "install-emacs: emacs is installed but (require 'eglot) fails" >&2
        exit 1
    fi
fi

eglot=$(emacs --batch --eval '(princ (locate-library "eglot"))' 2>/dev/null)
echo "install-emacs: $(emacs --version | head -1); eglot from $eglot;" \
    "$(( $(date +%s) - start )) s"
