#!/usr/bin/env bash
# Retire standby groups the policy no longer keeps, for every service in the config, and keep
# the JSON report. Meant for cron (see ./crontab); safe to run by hand.
#
# No lock is needed around it: every step retire takes is idempotent (a group already deleted
# is done, a target group already out of the listener is left alone), a second run with
# nothing to do makes no change at all, and a service with a swap in flight is skipped whole.
# Two overlapping runs, or a run after one that was killed half-way, simply converge.
#
# Exit status: 0 when everything the policy retires was deleted; non-zero when something could
# not be (the report's "failed" is true and "skipped" says why), or on bad config (2).
set -euo pipefail

cd "${SWITCHYARD_DIR:-/opt/switchyard}"           # where switchyard.config.yaml lives
report_dir="${SWITCHYARD_REPORT_DIR:-/var/log/switchyard}"
mkdir -p "$report_dir"
report="$report_dir/retire-$(date -u +%Y%m%dT%H%M%SZ).json"

status=0
npx --no-install switchyard retire --all --json >"$report" || status=$?

# one summary line for the cron mail / syslog
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`retire: deleted ${r.deleted.length}, kept ${r.kept.length}, skipped ${r.skipped.length}${r.failed ? " (FAILED)" : ""}`);
  for (const s of r.skipped) console.log(`  skipped ${s.name}: ${s.reason}`);
' "$report" 2>/dev/null || true

exit "$status"
