#!/usr/bin/env bash
# Exactly once across crashes: kills `windowpane stream` with SIGKILL at
# random moments CYCLES times (default 100), restarting it each time with
# the same command, then lets it finish and checks that its summary.json is
# byte for byte the batch one and that every file was counted once.
#
#   bash bench/kill9.sh [CYCLES]
set -euo pipefail
cd "$(dirname "$0")/.."
cycles=${1:-100}
cargo build --release --quiet
exe="${CARGO_TARGET_DIR:-target}/release/windowpane"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files=1500
"$exe" generate "$work/in" --files $files --events 150000 --bad-lines 1 2>/dev/null
args=(stream -q --checkpoint "$work/ck" --report "$work/report" "$work/in")
kills=0
while [ "$kills" -lt "$cycles" ]; do
  "$exe" "${args[@]}" >/dev/null 2>>"$work/stderr" & pid=$!
  sleep "0.0$((RANDOM % 35 + 5))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
  committed=$(ls "$work/ck/commits" | wc -l)
  if [ "$committed" -ge "$files" ]; then echo "the stream finished after $kills kills; use more files"; exit 1; fi
done
before=$(ls "$work/ck/commits" | wc -l)
"$exe" "${args[@]}" >/dev/null
"$exe" batch --no-report --format summary "$work/in" > "$work/batch.json"
cmp "$work/batch.json" "$work/report/summary.json"
rows=$(($(wc -l < "$work/report/tables/triggers.csv") - 1))
[ "$rows" -eq "$files" ] || { echo "triggers.csv has $rows rows for $files files"; exit 1; }
echo "$kills kills (at $before of $files triggers committed when the last run started): summary.json equals batch, $rows triggers, each file once"
