#!/bin/bash
# failover.sh - benchmark: master failover time with N emulated agents
# (cairn-agent-sim, one connection each, following the leader through
# zk://) and a framework, over a three-server ZooKeeper ensemble on
# loopback. Two masters run with --zk --zk-session-timeout=5s; the leader
# is killed with SIGKILL and the clock runs until
#   elected:  the standby says it leads,
#   agents:   every emulated agent is active on it again,
#   offers:   it has made an offer to the framework,
# for N = 100, 1,000 and 10,000 (BENCH_QUICK: 100 and 1,000). Each time is
# printed beside the session timeout of the same run: no failover can be
# faster than ZooKeeper expiring the dead leader's session. The Mesos
# paper reports 4-8 s failovers (doc/performance.md compares).
set -euo pipefail
. "${CAIRN_SRCDIR:-.}/tests/lib.sh" >/dev/null
. "$S/tests/zk.sh" >/dev/null
SIM_BIN=$B/agent/cairn-agent-sim
if [ -n "${BENCH_QUICK:-}" ]; then SIZES="100 1000"; else SIZES="100 1000 10000"; fi
SESSION_S=5
RES="cpus:16;mem:65536;disk:100000;ports:[31000-32000]"

emit () {   # emit METRIC VALUE UNIT BASELINE BASELINE_VALUE
    jq -cn --arg m "$1" --argjson v "$2" --arg u "$3" --arg b "$4" --argjson bv "$5" \
        '{bench:"failover", metric:$m, value:$v, unit:$u, baseline:$b, baseline_value:$bv,
          ratio:(if $bv == 0 then null else ($v / $bv * 1000 | round / 1000) end)}'
}
now () { date +%s.%N; }
calc () { echo "scale=3; $*" | bc -l; }
metric () {         # metric HTTP NAME
    curl -s --max-time 2 "http://$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'
}

active () { metric "$1" 'cairn_master_agents{state="active"}'; }
all_active () { [ "$(active "$1")" = "$2" ]; }
leads () { curl -s --max-time 1 "http://$1/health" | jq_e '.ha.role == "leader"' >/dev/null; }
offered () { [ "$(metric "$1" cairn_master_offers_total)" -gt 0 ] 2>/dev/null; }

zk_start 3 >/dev/null || { echo "failover.sh: no ZooKeeper ensemble" >&2; exit 1; }
run=0
for n in $SIZES; do
    run=$((run + 1))
    declare -A H=()
    for m in a b; do
        port=$(free_port) http=$(free_port)
        run_bg "m$m$run" "$MASTER_BIN" --ip=127.0.0.1 --port="$port" --http-port="$http" \
            --work-dir="$T/m$m$run" --zk="zk://$ZK_HOSTS/bench-$run" \
            --zk-session-timeout="${SESSION_S}s" --agent-reregister-timeout=10m
        H[$m]=127.0.0.1:$http
        eval "P_$m=\$PID_m$m$run"
        wait_for 20 http_get "http://127.0.0.1:$http/health"
        [ "$m" = a ] && wait_for 20 leads "127.0.0.1:$http"
    done
    MASTER="zk://$ZK_HOSTS/bench-$run"
    run_bg "sim$run" "$SIM_BIN" --master="$MASTER" --agents="$n" --resources="$RES"
    wait_for 300 all_active "${H[a]}" "$n" || {
        echo "failover.sh: $n agents did not register" >&2; exit 1; }
    start_sched "fw$run" --decline-all --refuse=0 >/dev/null
    wait_for 30 offered "${H[a]}"
    sleep 1
    t0=$(now)
    kill -KILL "$P_a"
    elected= agents= offers=
    while [ -z "$offers" ] || [ -z "$agents" ]; do
        t=$(calc "$(now) - $t0")
        if [ "$(calc "$t > 120")" = 1 ]; then
            echo "failover.sh: no complete failover with $n agents in 120 s" >&2
            tail -5 "$T/mb$run.log" >&2
            exit 1
        fi
        [ -z "$elected" ] && leads "${H[b]}" && elected=$t
        if [ -n "$elected" ]; then
            [ -z "$agents" ] && all_active "${H[b]}" "$n" && agents=$t
            [ -z "$offers" ] && offered "${H[b]}" && offers=$t
        fi
        sleep 0.05
    done
    emit "failover with $n agents: leader killed to a new leader" "$elected" s \
        "ZooKeeper session timeout" "$SESSION_S"
    emit "failover with $n agents: to all agents re-registered" "$agents" s \
        "ZooKeeper session timeout" "$SESSION_S"
    emit "failover with $n agents: to offers flowing again" "$offers" s \
        "ZooKeeper session timeout" "$SESSION_S"
    stop_all >/dev/null || true
    _stopped=0 PIDS=() LOGS=()
done
zk_stop
