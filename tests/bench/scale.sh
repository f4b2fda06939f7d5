#!/bin/bash
# scale.sh - benchmark: the master with thousands of emulated agents over
# real connections (cairn-agent-sim, one ZeroMQ connection per agent) and
# the load framework (cairn-load). Prints JSON lines (see run.sh), each
# figure beside a baseline measured in the same run, and writes curves
# for the plots to $CAIRN_BENCH_OUT (default bench-results/):
#   registration-<N>.dat   seconds since start, agents active
#
# Figures: registration time (5,000 and 15,000 agents); master RSS and
# heap per agent; heap per running task; allocation at 15,000 agents with
# 1, 100 and 1,000 frameworks; accept->RUNNING p50/p99 at 15,000 agents
# and on an idle 2-agent cluster; sustained launch throughput; /state and
# /state/summary at 15,000 agents and 100,000 tasks with the longest wait
# of a message in the master's loop meanwhile.
#
# Then the same cluster sizes with CURVE on every link (the master with
# a secret key and an allow directory, every emulated agent and framework
# a CURVE client): registration, RSS per agent, idle latency and
# throughput, each beside its plain figure from this run.
#
# BENCH_QUICK=1: 1,000 and 3,000 agents, fewer tasks (a minute or so).
set -euo pipefail
. "${CAIRN_SRCDIR:-.}/tests/lib.sh" >/dev/null
SIM_BIN=$B/agent/cairn-agent-sim
LOAD_BIN=$B/tests/bench/cairn-load
OUT=${CAIRN_BENCH_OUT:-$B/bench-results}
mkdir -p "$OUT"
if [ -n "${BENCH_QUICK:-}" ]; then
    SMALL=1000 BIG=3000 LAT_TASKS=2000 TPUT_TASKS=20000 STATE_TASKS=20000 FWS="1 100"
else
    SMALL=5000 BIG=15000 LAT_TASKS=10000 TPUT_TASKS=100000 STATE_TASKS=100000 FWS="1 100 1000"
fi
RES="cpus:16;mem:65536;disk:100000;ports:[31000-32000]"

emit () {   # emit METRIC VALUE UNIT BASELINE BASELINE_VALUE
    jq -cn --arg m "$1" --argjson v "$2" --arg u "$3" --arg b "$4" --argjson bv "$5" \
        '{bench:"scale", metric:$m, value:$v, unit:$u, baseline:$b, baseline_value:$bv,
          ratio:(if $bv == 0 then null else ($v / $bv * 1000 | round / 1000) end)}'
}
metric () {         # metric NAME: its value in the master's /metrics
    http_get "http://$MASTER_HTTP/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
active () { metric 'cairn_master_agents{state="active"}'; }
rss_kib () { awk '/^VmRSS:/ { print $2 }' "/proc/$PID_master/status"; }
heap () { metric cairn_master_heap_bytes; }
now () { date +%s.%N; }
calc () { echo "scale=6; $*" | bc -l; }

# A fresh master and N emulated agents; waits until all are active and
# records the registration curve. Sets REG_S, RSS0/RSS1 (KiB), HEAP0/HEAP1.
MASTER_EXTRA=() CLIENT_EXTRA=() RUN=plain
cluster () {
    local n=$1 curve=$OUT/registration-$1.dat
    [ "$RUN" = plain ] || curve=$OUT/registration-$1-$RUN.dat
    start_master --allocation-interval=1s --work-dir="$T/master-$n-$RUN" "${MASTER_EXTRA[@]}" \
        >/dev/null
    sleep 0.5
    RSS0=$(rss_kib) HEAP0=$(heap)
    local t0 a=0
    t0=$(now)
    run_bg "sim$n" "$SIM_BIN" --master="$MASTER" --agents="$n" --resources="$RES" \
        --task-runtime=1s "${CLIENT_EXTRA[@]}"
    : >"$curve"
    while [ "$a" -lt "$n" ]; do
        a=$(active)
        echo "$(calc "$(now) - $t0") $a" >>"$curve"
        if [ "$(calc "$(now) - $t0 > ${SCALE_REG_TIMEOUT:-120}")" = 1 ]; then
            echo "scale.sh: only $a of $n agents registered in time; logs:" >&2
            tail -5 "$T/sim$n.log" "$T/master.log" >&2
            return 1
        fi
        sleep 0.2
    done
    REG_S=$(calc "$(now) - $t0")
    sleep 2     # let the first pings and allocations settle
    RSS1=$(rss_kib) HEAP1=$(heap)
}
teardown () {
    stop_all >/dev/null
    _stopped=0 PIDS=() LOGS=()
}
load () {           # load ARGS...: runs cairn-load, prints its JSON
    "$LOAD_BIN" --master="$MASTER" "${CLIENT_EXTRA[@]}" "$@" 2>>"$T/load.err"
}

# --- Baseline cluster: 2 emulated agents, idle. ---------------------------
cluster 2
idle=$(load --frameworks=1 --tasks=500 --rate=100 --tasks-per-offer=1)
tput2=$(load --frameworks=10 --tasks="$TPUT_TASKS" --task-runtime=0s --timeout=10m)
teardown

# --- Registration at SMALL agents. ----------------------------------------
cluster "$SMALL"
reg_small=$REG_S
teardown

# --- The big cluster: everything else runs on it. -------------------------
cluster "$BIG"
reg_big=$REG_S
emit "registration: $BIG emulated agents active" "$reg_big" s \
    "$SMALL agents, same run, x $((BIG / SMALL))" "$(calc "$reg_small * $BIG / $SMALL")"
emit "registration: $SMALL emulated agents active" "$reg_small" s \
    "$SMALL x the per-agent time at $BIG" "$(calc "$reg_big * $SMALL / $BIG")"
rss_agent=$(calc "($RSS1 - $RSS0) / $BIG")
heap_agent=$(calc "($HEAP1 - $HEAP0) / 1024 / $BIG")
emit "master RSS per connected agent ($BIG agents)" "$rss_agent" KiB \
    "master heap per agent (libzmq included)" "$heap_agent"
emit "master heap per agent ($BIG agents, libzmq included)" "$heap_agent" KiB \
    "master RSS per agent" "$rss_agent"

# Allocation: F frameworks registered suppressed, then all revived: one
# full cycle (or a few) offering all agents. Time in allocation runs from
# /metrics, and the time until the frameworks hold offers for every agent.
alloc_ref=$(jq -r 'select(.bench == "allocator" and (.metric | test("50000 agents x 1000 frameworks, accepting"))) | .value' \
    "$OUT/results.jsonl" 2>/dev/null | tail -1 || true)
for f in $FWS; do
    s0=$(metric cairn_master_allocation_run_seconds_total)
    r=$(load --mode=revive --frameworks="$f" --expect-agents="$BIG" --timeout=120s)
    s1=$(metric cairn_master_allocation_run_seconds_total)
    ms=$(calc "($s1 - $s0) * 1000")
    emit "allocation at $BIG agents x $f frameworks: time in allocation runs to offer every agent" \
        "$ms" ms "in-process allocator, 50000 x 1000, accepting" "${alloc_ref:-0}"
    emit "allocation at $BIG agents x $f frameworks: revive to offers for every agent" \
        "$(jq .revive_to_offers_ms <<<"$r")" ms "time in allocation runs" "$ms"
    # The frameworks left (torn down): wait for their offers to come back.
    no_offers_out () { [ "$(metric cairn_master_offers_outstanding)" = 0 ]; }
    wait_for 60 no_offers_out || true
done

# Launch latency at BIG agents, the same load as on the idle cluster.
busy=$(load --frameworks=1 --tasks=500 --rate=100 --tasks-per-offer=1)
for p in p50 p99; do
    emit "accept->RUNNING $p at $BIG agents (100 tasks/s)" \
        "$(jq ".accept_to_running_ms.$p" <<<"$busy")" ms \
        "idle 2-agent cluster, same load" "$(jq ".accept_to_running_ms.$p" <<<"$idle")"
done
# ... and under a high launch rate.
hot=$(load --frameworks=10 --tasks="$LAT_TASKS" --rate=2000 --tasks-per-offer=1 --timeout=5m)
for p in p50 p99; do
    emit "accept->RUNNING $p at $BIG agents (2000 tasks/s, 10 frameworks)" \
        "$(jq ".accept_to_running_ms.$p" <<<"$hot")" ms \
        "idle 2-agent cluster, 100 tasks/s" "$(jq ".accept_to_running_ms.$p" <<<"$idle")"
done

# Sustained throughput: TPUT_TASKS tasks, as fast as offers allow.
tput=$(load --frameworks=10 --tasks="$TPUT_TASKS" --task-runtime=0s --timeout=10m)
emit "sustained throughput at $BIG agents ($TPUT_TASKS tasks, 10 frameworks, accept->FINISHED)" \
    "$(jq .throughput <<<"$tput")" tasks/s "same load on 2 emulated agents" \
    "$(jq .throughput <<<"$tput2")"

# /state with STATE_TASKS running tasks: the tasks stay up while
# cairn-load lingers; heap per task from the master's heap.
heap_t0=$(heap)
"$LOAD_BIN" --master="$MASTER" --frameworks=10 --tasks="$STATE_TASKS" --task-runtime=1h \
    --until=running --linger=10m --timeout=10m >"$T/state-load.json" 2>>"$T/load.err" &
state_load=$!
wait_for 600 test -s "$T/state-load.json" || true
sleep 2
heap_t1=$(heap)
running=$(jq .running "$T/state-load.json")
heap_task=$(calc "($heap_t1 - $heap_t0) / $running")
emit "master heap per running task ($running tasks)" "$heap_task" bytes \
    "master heap per agent" "$(calc "$heap_agent * 1024")"
# Idle probe (baseline), then probes while /state is fetched.
probe_idle=$(load --frameworks=0 --probe=2ms --duration=3s)
"$LOAD_BIN" --master="$MASTER" --frameworks=0 --probe=2ms --duration=20s \
    >"$T/probe.json" 2>>"$T/load.err" &
probe=$!
sleep 0.5
t_sum=$(curl -s -o /dev/null -w '%{time_total}' "http://$MASTER_HTTP/state/summary")
t_state=$(curl -s -o "$T/state.json" -w '%{time_total}' "http://$MASTER_HTTP/state")
t_state2=$(curl -s -o /dev/null -w '%{time_total}' "http://$MASTER_HTTP/state")
kill -TERM "$probe"
wait "$probe" || true
size=$(stat -c %s "$T/state.json")
emit "/state at $BIG agents, $running tasks ($size bytes)" "$(calc "$t_state * 1000")" ms \
    "/state/summary" "$(calc "$t_sum * 1000")"
emit "/state at $BIG agents, $running tasks, again" "$(calc "$t_state2 * 1000")" ms \
    "/state/summary" "$(calc "$t_sum * 1000")"
emit "longest wait of a message (PING->PONG) while /state is built" \
    "$(jq .probe_ms.max "$T/probe.json")" ms "longest PING->PONG, idle master, same cluster" \
    "$(jq .probe_ms.max <<<"$probe_idle")"
kill -TERM "$state_load"
wait "$state_load" || true

teardown

# --- CURVE on every link: the same clusters again. -------------------------
# One key pair for the master, one shared by the emulated agents and one
# by the load frameworks (each is one principal), both allowed.
"$CAIRN_BIN" keygen --name=master --out="$T/keys" >/dev/null
"$CAIRN_BIN" keygen --name=clients --out="$T/keys" --principal=bench >/dev/null
mkdir -p "$T/keys/allow"
cp "$T/keys/clients.key" "$T/keys/allow/"
MASTER_EXTRA=(--curve-secret="$T/keys/master.key_secret" --curve-allow-dir="$T/keys/allow")
CLIENT_EXTRA=(--master-public-key="$T/keys/master.key" --curve-cert="$T/keys/clients.key_secret")
RUN=curve

cluster 2
c_idle=$(load --frameworks=1 --tasks=500 --rate=100 --tasks-per-offer=1)
c_tput2=$(load --frameworks=10 --tasks="$TPUT_TASKS" --task-runtime=0s --timeout=10m)
teardown
for p in p50 p99; do
    emit "CURVE: accept->RUNNING $p, idle 2-agent cluster (100 tasks/s)" \
        "$(jq ".accept_to_running_ms.$p" <<<"$c_idle")" ms "the same without CURVE, this run" \
        "$(jq ".accept_to_running_ms.$p" <<<"$idle")"
done
emit "CURVE: sustained throughput on 2 emulated agents ($TPUT_TASKS tasks, 10 frameworks)" \
    "$(jq .throughput <<<"$c_tput2")" tasks/s "the same without CURVE, this run" \
    "$(jq .throughput <<<"$tput2")"

cluster "$SMALL"
emit "CURVE: registration: $SMALL emulated agents active" "$REG_S" s \
    "the same without CURVE, this run" "$reg_small"
teardown

cluster "$BIG"
emit "CURVE: registration: $BIG emulated agents active" "$REG_S" s \
    "the same without CURVE, this run" "$reg_big"
emit "CURVE: master RSS per connected agent ($BIG agents)" \
    "$(calc "($RSS1 - $RSS0) / $BIG")" KiB "the same without CURVE, this run" "$rss_agent"
c_tput=$(load --frameworks=10 --tasks="$TPUT_TASKS" --task-runtime=0s --timeout=10m)
emit "CURVE: sustained throughput at $BIG agents ($TPUT_TASKS tasks, 10 frameworks)" \
    "$(jq .throughput <<<"$c_tput")" tasks/s "the same without CURVE, this run" \
    "$(jq .throughput <<<"$tput")"

# Raw results for the record (stderr: run.sh keeps stdout for JSON lines).
for name in idle busy hot tput tput2 c_idle c_tput2 c_tput; do
    echo "scale.sh: $name: ${!name}" >&2
done
teardown
rm -rf "$T"
_stopped=1
