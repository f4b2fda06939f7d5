#!/bin/bash
# e2e.sh - benchmark: tiny tasks (/bin/true) launched and completed per
# second on one agent, through the master and the hello framework, with
# the machine's isolation (cgroups as root: each task with its own shim,
# cgroup and sandbox, no shortcut), beside two baselines measured in the
# same run:
#   (a) launch-loop: the same shim + cgroup + sandbox work for each task
#       in a tight loop, without agent, master or messaging;
#   (b) xargs -P1 /bin/true.
# Prints JSON lines (see run.sh). N defaults to 500.
set -euo pipefail
N=${CAIRN_BENCH_TASKS:-500}
. "${CAIRN_SRCDIR:-.}/tests/lib.sh" >/dev/null

now () { date +%s.%N; }
rate () { echo "$1 / ($3 - $2)" | bc -l; }

# (a) The agent's per-task work alone.
read -r loop_rate isolation < <("$B/tests/bench/launch-loop" "$B/agent/cairn-shim" "$T/loop" "$N")

# (b) xargs.
t0=$(now)
seq 1 "$N" | xargs -P1 -n1 /bin/true
t1=$(now)
xargs_rate=$(rate "$N" "$t0" "$t1")

# The cluster.
start_master --allocation-interval=100ms >/dev/null
start_agent bench1 --resources="cpus:2;mem:4096;disk:100" --usage-interval=0s \
    --disk-check-interval=0s >/dev/null
t0=$(now)
"$HELLO_BIN" --master="$MASTER" --tasks="$N" --command=/bin/true \
    --resources="cpus:0.01;mem:4" >"$T/hello.out" 2>&1
t1=$(now)
cairn_rate=$(rate "$N" "$t0" "$t1")
stop_all >/dev/null

metric="tasks/s through master+agent ($N x /bin/true, $isolation)"
printf '{"bench":"e2e","metric":"%s","value":%.1f,"unit":"tasks/s","baseline":"(a) shim + cgroup + sandbox in a tight loop","baseline_value":%.1f,"ratio":%.3f}\n' \
    "$metric" "$cairn_rate" "$loop_rate" "$(echo "$cairn_rate / $loop_rate" | bc -l)"
printf '{"bench":"e2e","metric":"%s","value":%.1f,"unit":"tasks/s","baseline":"(b) xargs -P1 /bin/true","baseline_value":%.1f,"ratio":%.3f}\n' \
    "$metric" "$cairn_rate" "$xargs_rate" "$(echo "$cairn_rate / $xargs_rate" | bc -l)"
rm -rf "$T"
_stopped=1
