#!/usr/bin/env bash
# Builds the real HashiCorp Vault server/CLI binary from the Go module proxy,
# through the tiny wrapper module in tools/vault (see tools/vault/NOTES.md).
#
#   bash scripts/get-vault.sh        # prints the binary path as its last stdout line
#
# The binary goes to ${AI_PLUGIN_CACHE:-$HOME/.cache/vault-plugin-secrets-ai}/vault/<version>/vault.
# If it is already there, nothing is built. Progress goes to stderr; on a failed
# build the Go error is passed through unchanged and the exit status is non-zero.
# A cold build (2 cores) takes ~15 min, peaks at ~4.6 GB RSS, downloads ~0.6 GB of
# module zips (~3.6 GB unpacked in GOMODCACHE) and fills ~3.9 GB of GOCACHE.
set -euo pipefail
cd "$(dirname "$0")/.."
WRAPPER="$PWD/tools/vault"

say() { printf '%s\n' "$*" >&2; }

# The pinned version is the one tools/vault/go.mod requires (read without the network).
VAULT_VERSION=$(awk '
  $1 == "require" && $2 == "github.com/hashicorp/vault" { print $3; exit }
  $1 == "github.com/hashicorp/vault" && $2 ~ /^v/        { print $2; exit }
' "$WRAPPER/go.mod")
VAULT_VERSION=${VAULT_VERSION#v}
if [ -z "$VAULT_VERSION" ]; then
  say "get-vault: cannot find the github.com/hashicorp/vault requirement in $WRAPPER/go.mod"
  exit 1
fi

CACHE="${AI_PLUGIN_CACHE:-$HOME/.cache/vault-plugin-secrets-ai}"
DEST_DIR="$CACHE/vault/$VAULT_VERSION"
DEST="$DEST_DIR/vault"

if [ -x "$DEST" ]; then
  say "get-vault: Vault $VAULT_VERSION already built at $DEST"
  printf '%s\n' "$DEST"
  exit 0
fi

command -v go >/dev/null 2>&1 || { say "get-vault: go is not on PATH"; exit 1; }

mkdir -p "$DEST_DIR"
TMP=$(mktemp "$DEST_DIR/.vault.XXXXXX")
trap 'rm -f "$TMP"' EXIT

say "get-vault: building Vault $VAULT_VERSION from the Go module proxy (cold: ~15 min, ~0.6 GB of module downloads)"
start=$(date +%s)
# -mod=readonly: go.mod/go.sum are the pin; never rewrite them during a build.
if ! (
  cd "$WRAPPER" &&
    GOTOOLCHAIN=auto CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -mod=readonly" \
      go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$TMP" .
); then
  say "get-vault: FAILED to build Vault $VAULT_VERSION (the Go error is above)"
  exit 1
fi

if ! "$TMP" version >&2; then
  say "get-vault: the built binary does not run"
  exit 1
fi
chmod 0755 "$TMP"
mv -f "$TMP" "$DEST"
trap - EXIT
say "get-vault: built $DEST in $(( $(date +%s) - start ))s ($(du -h "$DEST" | cut -f1))"
printf '%s\n' "$DEST"
