#!/bin/sh
# run.sh - `make fuzz`: runs each libFuzzer harness for a while, one at a
# time, and prints one summary line per harness.
#   run.sh FUZZDIR SEED-CORPUS SECONDS HARNESS...
# New inputs go to FUZZDIR/work/<harness> (the seeds are read, never
# written); crashes, leaks, timeouts and out-of-memory inputs to
# FUZZDIR/crashes/<harness>/. The libFuzzer output is kept in
# FUZZDIR/<harness>.log. Exits 1 if any harness found something.
fuzzdir=$1
seeds=$2
seconds=$3
shift 3

# Bounded allocations are a property of the parsers: one over 256 MiB is
# reported (libFuzzer's -malloc_limit_mb), as is a process over 2 GiB.
ASAN_OPTIONS="detect_leaks=1:${ASAN_OPTIONS:-}"
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export ASAN_OPTIONS UBSAN_OPTIONS

# The agent harness makes a work directory (and an SQLite checkpoint)
# per input: on tmpfs, fdatasync costs nothing.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
    TMPDIR=/dev/shm
    export TMPDIR
fi

status=0
summary=""
for h in "$@"; do
    mkdir -p "$fuzzdir/work/$h" "$fuzzdir/crashes/$h"
    log="$fuzzdir/$h.log"
    echo "fuzz: $h for ${seconds}s (log in $log)"
    "$fuzzdir/$h" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=256 -max_len=8192 -print_final_stats=1 \
        -artifact_prefix="$fuzzdir/crashes/$h/" \
        "$fuzzdir/work/$h" "$seeds/$h" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | sed 's/ft: //')
    corpus=$(ls "$fuzzdir/work/$h" | wc -l)
    crashes=$(ls "$fuzzdir/crashes/$h" | wc -l)
    line=$(printf '%-10s %10s execs %7s/s  cov %5s  ft %6s  new inputs %5s  crashes %s' \
        "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$crashes")
    summary="$summary$line
"
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
        status=1
        grep -m 3 -E 'ERROR|fuzz:|runtime error' "$log" | sed 's/^/    /'
    fi
done
echo
echo "fuzz summary (${seconds}s per harness):"
printf '%s' "$summary"
exit $status
