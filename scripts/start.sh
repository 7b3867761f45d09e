#!/usr/bin/env bash
# The main job: set up, build, then a dev OpenBao with the engine mounted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node_modules/.bin/node scripts/start.ts "$@"
