#!/usr/bin/env bash
# Regenerates the TypeScript protobuf code into a temporary copy and compares
# it with the committed code, so the two cannot drift apart.
set -euo pipefail
cd "$(dirname "$0")/../packages/sdk"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r proto buf.yaml "$tmp/"
sed 's#out: src/proto#out: gen#; s#local: ../../node_modules#local: '"$PWD"'/../../node_modules#' buf.gen.yaml > "$tmp/buf.gen.yaml"
(cd "$tmp" && "$OLDPWD/../../node_modules/.bin/buf" generate)
diff -r "$tmp/gen" src/proto
