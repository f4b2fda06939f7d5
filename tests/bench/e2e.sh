#!/bin/bash
# e2e.sh - benchmark: tiny tasks completed per second through a local
# cluster (master + one agent + the hello framework), beside two
# baselines measured in the same run:
#   supervisor: the same number of tasks started one by one through
#               cairn-shim, each with its own sandbox and run directory,
#               without agent, master or messaging;
#   xargs:      `xargs -P2 /bin/true`, the plainest way to run them.
# Prints JSON lines (see run.sh). N defaults to 500.
set -euo pipefail
N=${CAIRN_BENCH_TASKS:-500}
. "${CAIRN_SRCDIR:-.}/tests/lib.sh" >/dev/null

now () { date +%s.%N; }
rate () { echo "$1 / ($3 - $2)" | bc -l; }

# Baseline: the supervisor alone.
SHIM=$B/agent/cairn-shim
mkdir -p "$T/shim"
t0=$(now)
for i in $(seq 1 "$N"); do
    mkdir -p "$T/shim/s$i" "$T/shim/r$i"
    "$SHIM" --sandbox="$T/shim/s$i" --run-dir="$T/shim/r$i" -- /bin/true >/dev/null
done
t1=$(now)
shim_rate=$(rate "$N" "$t0" "$t1")

# Baseline: xargs.
t0=$(now)
seq 1 "$N" | xargs -P2 -n1 /bin/true
t1=$(now)
xargs_rate=$(rate "$N" "$t0" "$t1")

# The cluster.
start_master --allocation-interval=100ms >/dev/null
start_agent bench1 --resources="cpus:2;mem:4096;disk:100" >/dev/null
t0=$(now)
"$HELLO_BIN" --master="$MASTER" --tasks="$N" --command=/bin/true \
    --resources="cpus:0.01;mem:4" >"$T/hello.out" 2>&1
t1=$(now)
cairn_rate=$(rate "$N" "$t0" "$t1")
stop_all >/dev/null

printf '{"bench":"e2e","metric":"tasks/s through master+agent (%d x /bin/true)","value":%.1f,"unit":"tasks/s","baseline":"cairn-shim + sandbox alone, sequential","baseline_value":%.1f,"ratio":%.3f}\n' \
    "$N" "$cairn_rate" "$shim_rate" "$(echo "$cairn_rate / $shim_rate" | bc -l)"
printf '{"bench":"e2e","metric":"tasks/s through master+agent (%d x /bin/true)","value":%.1f,"unit":"tasks/s","baseline":"xargs -P2 /bin/true","baseline_value":%.1f,"ratio":%.3f}\n' \
    "$N" "$cairn_rate" "$xargs_rate" "$(echo "$cairn_rate / $xargs_rate" | bc -l)"
rm -rf "$T"
_stopped=1
