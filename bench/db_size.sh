#!/usr/bin/env bash
# How big Headroom's database grows: 50 meters polled every 15 minutes for a year, with and
# without retention (raw readings 90 days, hourly roll-ups 2 years). Prints a Markdown table
# (docs/performance.md has the figures). Options: --meters N, --days D, --keep DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -p headroom-core --bench db_size -- "$@"
