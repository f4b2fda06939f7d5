#!/bin/bash
# run.sh - `make bench`: runs every benchmark, prints a table, writes all
# results to bench/results.json in the build directory and draws the
# scale curves as PNG plots there (with gnuplot, if installed).
#
# Common format: each benchmark prints JSON lines, one per figure:
#   {"bench": NAME, "metric": WHAT, "value": V, "unit": UNIT,
#    "baseline": WHAT-IT-IS-COMPARED-WITH, "baseline_value": B, "ratio": V/B}
# The baseline is measured in the same run, because these machines are
# shared and noisy: compare ratios, not absolute values.
#
# BENCH_QUICK=1 runs a quick pass (smaller clusters, fewer tasks).
# CAIRN_BENCH_ONLY="scale e2e" runs only the named benchmarks.
# A benchmark that fails is reported and the others still run; run.sh
# then exits non-zero.
set -uo pipefail
B=${CAIRN_BUILDDIR:-$(pwd)}
S=${CAIRN_SRCDIR:-$B}
export CAIRN_BUILDDIR=$B CAIRN_SRCDIR=$S
OUT=$B/bench
export CAIRN_BENCH_OUT=$OUT
mkdir -p "$OUT"
: >"$OUT/results.jsonl"
rm -f "$OUT"/registration-*.dat "$OUT"/*.png     # curves of an earlier run
if [ -n "${BENCH_QUICK:-}" ]; then
    export CAIRN_BENCH_TASKS=${CAIRN_BENCH_TASKS:-100}
fi

# name, command: the order matters (scale.sh pairs its allocation figure
# with the allocator's in-process figure from the same run).
benches=(
    "codec|$B/tests/bench/codec"
    "allocator|$B/tests/bench/allocator"
    "state|$B/tests/bench/state"
    "e2e|bash $S/tests/bench/e2e.sh"
    "scale|bash $S/tests/bench/scale.sh"
)
# Master failover with ZooKeeper (needs Java and the server jar).
benches+=("failover|bash $S/tests/bench/failover.sh")
# The batch framework's benchmark, when it is there.
if [ -f "$S/tests/bench/batch.sh" ]; then
    benches+=("batch|bash $S/tests/bench/batch.sh")
fi

failed=()
t_all=$(date +%s)
for entry in "${benches[@]}"; do
    name=${entry%%|*}
    cmd=${entry#*|}
    if [ -n "${CAIRN_BENCH_ONLY:-}" ] && [[ " $CAIRN_BENCH_ONLY " != *" $name "* ]]; then
        continue
    fi
    echo "running $name ..." >&2
    t0=$(date +%s)
    # Only JSON objects go into the results; anything else is shown.
    $cmd 2>"$OUT/$name.err" | tee "$OUT/$name.out" | { grep '^{' || true; } >>"$OUT/results.jsonl"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        echo "  $name FAILED (exit $rc); last lines of $OUT/$name.err:" >&2
        tail -5 "$OUT/$name.err" | sed 's/^/    /' >&2
        failed+=("$name")
    fi
    echo "  $name: $(( $(date +%s) - t0 )) s" >&2
done

jq -s --arg quick "${BENCH_QUICK:-}" --argjson failed "$(printf '%s\n' "${failed[@]}" | jq -R 'select(. != "")' | jq -s .)" \
    '{date: (now | todate), quick: ($quick != ""), failed: $failed, results: .}' \
    "$OUT/results.jsonl" >"$OUT/results.json"
printf '%-70s %16s  %-44s %14s %8s\n' "METRIC" "VALUE" "BASELINE" "BASELINE" "RATIO"
jq -r '.results[] | [.metric, "\(.value) \(.unit)", .baseline, "\(.baseline_value)", (.ratio // "-" | tostring)] | @tsv' \
    "$OUT/results.json" |
while IFS=$'\t' read -r metric value baseline bvalue ratio; do
    printf '%-70s %16s  %-44s %14s %8s\n' "${metric:0:70}" "$value" "${baseline:0:44}" \
        "$bvalue" "$ratio"
done

# Plots.
if command -v gnuplot >/dev/null; then
    bash "$S/tests/bench/plot.sh" "$OUT" || echo "plots failed (see above)" >&2
else
    echo "gnuplot is not installed: no plots (apt-get install gnuplot-nox)" >&2
fi
echo "results: $OUT/results.json ($(( $(date +%s) - t_all )) s)"
[ ${#failed[@]} -eq 0 ]
