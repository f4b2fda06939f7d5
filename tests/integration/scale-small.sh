#!/bin/bash
# The agent emulator and the load framework at a small scale: 300
# emulated agents over two cairn-agent-sim processes (one connection
# each, over the real protocol) register, three cairn-load frameworks
# launch 3,000 tasks on them, and every task reaches TASK_RUNNING and
# TASK_FINISHED exactly once, with every status update acknowledged and
# nothing lost. Correctness only: no timing is asserted (the figures are
# tests/bench/scale.sh's, in make bench).
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
SIM_BIN=$B/agent/cairn-agent-sim
LOAD_BIN=$B/tests/bench/cairn-load
[ -x "$SIM_BIN" ] || skip_all "$SIM_BIN is not built"
[ -x "$LOAD_BIN" ] || skip_all "$LOAD_BIN is not built (make check builds it)"
AGENTS=300
TASKS=3000

metric () {             # metric NAME{LABELS}: its value in the master's /metrics
    http_get "http://$MASTER_HTTP/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
all_active () {
    [ "$(metric 'cairn_master_agents{state="active"}')" = "$AGENTS" ]
}

start_master --allocation-interval=100ms
ok_or_bail $? "master starts"

# Limits are checked before anything connects, with a sentence to act on.
"$SIM_BIN" --master="$MASTER" --agents=30000 --processes=1 >"$T/limit.out" 2>"$T/limit.err"
is "$?" 2 "too many agents for one process is refused"
like "$(cat "$T/limit.err")" "open-file limit.*--processes=" "and the message says what to do"

run_bg sim "$SIM_BIN" --master="$MASTER" --agents=$AGENTS --processes=2 \
    --resources="cpus:4;mem:4096;disk:1000" --attributes="rack:r1" --task-runtime=200ms
wait_for 60 all_active
ok $? "all $AGENTS emulated agents are active"
hosts=$(master_state | jq '[.agents[].hostname] | unique | length')
is "$hosts" "$AGENTS" "each with its own hostname"
attr=$(master_state | jq -r '.agents[0].attributes.rack')
is "$attr" "r1" "and the attributes given"

"$LOAD_BIN" --master="$MASTER" --frameworks=3 --tasks=$TASKS --tasks-per-offer=5 \
    --task-resources="cpus:0.1;mem:16" --timeout=50s >"$T/load.json" 2>"$T/load.err"
ok $? "cairn-load ends without timing out"
LOGS+=("$T/load.err")     # checked for sanitizer reports by stop_all
jq -c . "$T/load.json" | sed 's/^/# /'
is "$(jq .registered "$T/load.json")" 3 "three frameworks registered"
is "$(jq .launched "$T/load.json")" $TASKS "every task launched"
is "$(jq .accept_to_running_ms.count "$T/load.json")" $TASKS "every task reported TASK_RUNNING"
is "$(jq .finished "$T/load.json")" $TASKS "every task reported TASK_FINISHED"
is "$(jq '.failed + .killed + .lost + .error + .dropped' "$T/load.json")" 0 \
    "no task failed, was lost or dropped"
is "$(jq '.errors + .invalid + .foreign_updates' "$T/load.json")" 0 \
    "no error, invalid message or stray update reached the frameworks"

# The master's books agree: every task finished, none still live.
live=$(http_get "http://$MASTER_HTTP/state/summary" |
       jq '[.tasks | to_entries[] | select(.key != "TASK_FINISHED") | .value] | add // 0')
is "$live" 0 "the master holds no live task"
all_active
ok $? "all agents are still active"

# The emulator's own counters: stop it and read its summary line.
kill -TERM "$PID_sim"
wait_for 20 test -s "$T/sim.log"
wait "$PID_sim" 2>/dev/null
sim=$(grep '^{' "$T/sim.log" | tail -1)
diag "sim: $sim"
is "$(jq .processes <<<"$sim")" 2 "the emulator ran two processes"
is "$(jq .registrations <<<"$sim")" $AGENTS "each agent registered once"
is "$(jq .launched <<<"$sim")" $TASKS "the agents launched every task once"
is "$(jq .duplicate_launches <<<"$sim")" 0 "no launch arrived twice"
is "$(jq .finished <<<"$sim")" $TASKS "and finished every one"
is "$(jq .acks <<<"$sim")" $((3 * TASKS)) "every update (STARTING, RUNNING, FINISHED) was acknowledged"
is "$(jq '.errors + .invalid + .reconnects' <<<"$sim")" 0 "no error from the master, no reconnection"

done_testing
