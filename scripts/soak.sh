#!/usr/bin/env bash
# The reliability suite's long form: the same scenarios as in CI, at full size
# (1,000 leases across a restart, 200 clients for 60 s, 10,000 leases revoked by
# prefix, a million fuzz cases, minutes of provider outage). Ends with the
# summary table; exits 1 if any scenario failed.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
RELIABILITY_REPORT=$(mktemp --suffix=.jsonl)
export RELIABILITY_REPORT SOAK=1
node_modules/.bin/node --test --test-reporter=spec --test-timeout=7200000 'test/reliability/*.test.ts'
status=$?
node_modules/.bin/node test/reliability/summary.ts "$RELIABILITY_REPORT" || status=1
exit $status
