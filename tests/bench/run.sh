#!/bin/bash
# run.sh - `make bench`: runs every benchmark, prints a table, and writes
# all results to bench-results/results.json.
#
# Common format: each benchmark prints JSON lines, one per figure:
#   {"bench": NAME, "metric": WHAT, "value": V, "unit": UNIT,
#    "baseline": WHAT-IT-IS-COMPARED-WITH, "baseline_value": B, "ratio": V/B}
# The baseline is measured in the same run, because these machines are
# shared and noisy: compare ratios, not absolute values.
set -euo pipefail
B=${CAIRN_BUILDDIR:-$(pwd)}
S=${CAIRN_SRCDIR:-$B}
export CAIRN_BUILDDIR=$B CAIRN_SRCDIR=$S
OUT=$B/bench-results
mkdir -p "$OUT"
: >"$OUT/results.jsonl"
for bench in "$B/tests/bench/codec" "$B/tests/bench/allocator" "$B/tests/bench/state" \
             "$S/tests/bench/e2e.sh"; do
    echo "running $(basename "$bench") ..." >&2
    if [[ $bench == *.sh ]]; then bash "$bench"; else "$bench"; fi >>"$OUT/results.jsonl"
done
jq -s '{date: (now | todate), results: .}' "$OUT/results.jsonl" >"$OUT/results.json"
printf '%-58s %14s  %-42s %14s %7s\n' "METRIC" "VALUE" "BASELINE" "BASELINE" "RATIO"
jq -r '.results[] | [.metric, "\(.value) \(.unit)", .baseline, "\(.baseline_value)", .ratio] | @tsv' \
    "$OUT/results.json" |
while IFS=$'\t' read -r metric value baseline bvalue ratio; do
    printf '%-58s %14s  %-42s %14s %7.3f\n' "${metric:0:58}" "$value" "${baseline:0:42}" "$bvalue" "$ratio"
done
echo "results: $OUT/results.json"
