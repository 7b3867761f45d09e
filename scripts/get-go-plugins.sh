#!/usr/bin/env bash
# Builds the Go reference plugins the benchmarks run beside ours, pinned, with
#   GOBIN=... GOTOOLCHAIN=auto go install <module>/cmd/<name>@<version>
# through the Go module proxy, into
# ${AI_PLUGIN_CACHE:-$HOME/.cache/vault-plugin-secrets-ai}/go-plugins/.
#
#   bash scripts/get-go-plugins.sh [name...]   # default: all; last stdout line: the directory
#
# A plugin already built at its pinned version is not rebuilt (the record is
# in go-plugins.stamps/, so go-plugins/ holds executables only). Progress goes
# to stderr; a failed build passes the Go error through and exits non-zero.
set -euo pipefail

say() { printf '%s\n' "$*" >&2; }

# name | module | pinned version
PLUGINS=(
  "vault-plugin-secrets-openai|github.com/gitrgoliveira/vault-plugin-secrets-openai|v0.1.0"
  "vault-plugin-secrets-litellm|github.com/benemon/vault-plugin-secrets-litellm|v0.2.0"
)

CACHE="${AI_PLUGIN_CACHE:-$HOME/.cache/vault-plugin-secrets-ai}"
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd) # GOBIN must be absolute
DEST="$CACHE/go-plugins"
STAMPS="$CACHE/go-plugins.stamps"
mkdir -p "$DEST" "$STAMPS"

command -v go >/dev/null 2>&1 || { say "get-go-plugins: go is not on PATH"; exit 1; }
WORK=$(mktemp -d "$CACHE/.go-plugins-build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export GOTOOLCHAIN=auto CGO_ENABLED=0

build_one() { # name module version
  local name=$1 module=$2 version=$3
  local want="$module@$version"
  if [ -x "$DEST/$name" ] && [ "$(cat "$STAMPS/$name" 2>/dev/null)" = "$want" ]; then
    say "get-go-plugins: $name $version already built"
    return 0
  fi
  say "get-go-plugins: go install $module/cmd/$name@$version"
  if ! GOBIN="$WORK" go install -trimpath -ldflags "-s -w" "$module/cmd/$name@$version"; then
    say "get-go-plugins: FAILED to build $name $version (the Go error is above)"
    return 1
  fi
  mv -f "$WORK/$name" "$DEST/$name"
  printf '%s\n' "$want" >"$STAMPS/$name"
  say "get-go-plugins: built $DEST/$name ($(du -h "$DEST/$name" | cut -f1))"
}

status=0
for entry in "${PLUGINS[@]}"; do
  IFS='|' read -r name module version <<<"$entry"
  if [ $# -gt 0 ]; then
    case " $* " in *" $name "*) ;; *) continue ;; esac
  fi
  build_one "$name" "$module" "$version" || status=1
done
[ "$status" -eq 0 ] || exit "$status"
printf '%s\n' "$DEST"
