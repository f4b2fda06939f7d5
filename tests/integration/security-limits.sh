#!/bin/bash
# The master's limits on what one client can make it hold (issue 10),
# each configurable:
# - --max-tasks-per-launch: a larger launch fails whole, TASK_ERROR;
# - --max-string-length: a longer command fails its task, TASK_ERROR;
# - --max-message-size: a larger body gets a too-large error and is
#   dropped before decoding;
# - --max-pending-per-peer: replies to a peer that floods and never
#   reads are dropped, counted, and the master stays healthy;
# - --max-connections-per-ip: connections over the limit are cut; an
#   agent gets in once others leave.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
FLOOD=$B/tests/tools/cairn-flood

metric () {             # metric NAME: its value in the master's /metrics
    http_get "http://$MASTER_HTTP/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

start_master --allocation-interval=100ms --max-tasks-per-launch=2 --max-string-length=300 \
    --max-message-size=16384 --max-pending-per-peer=1000
ok_or_bail $? "master starts with limits"
start_agent a1 --resources="cpus:4;mem:1024"
ok_or_bail $? "an agent registers"

## Tasks per launch
start_sched three --per-offer=3 --max-tasks=3 --task-resources='cpus:0.1;mem:16' --command='sleep 30'
wait_line 20 three '^status .* TASK_ERROR .*max-tasks-per-launch' 3
ok $? "a launch of 3 tasks over --max-tasks-per-launch=2: TASK_ERROR for each, saying why"
is "$(sched_lines three 'TASK_RUNNING' | wc -l)" 0 "none of them runs"
# It would take every offer again (and fail again): stop it first.
kill -TERM "$PID_three"
start_sched two --per-offer=2 --max-tasks=2 --task-resources='cpus:0.1;mem:16' --command='sleep 30'
wait_line 20 two '^status .* TASK_RUNNING' 2
ok $? "a launch of 2 tasks runs"
kill -TERM "$PID_two"

## String lengths
long=$(printf 'true %0400d' 0)
start_sched long --max-tasks=1 --task-resources='cpus:0.1;mem:16' --command="$long"
wait_line 20 long '^status .* TASK_ERROR .*max-string-length'
ok $? "a 405-byte command over --max-string-length=300: TASK_ERROR naming the limit"
kill -TERM "$PID_long"

## Message size
before=$(metric cairn_master_messages_invalid_total)
huge=$(printf 'true %020000d' 0)
start_sched huge --max-tasks=1 --task-resources='cpus:0.1;mem:16' --command="$huge"
too_large () { grep -q "over this master's limit of 16384 (--max-message-size)" "$T/master.log"; }
wait_for 20 too_large
ok $? "a 20 kB launch over --max-message-size=16384 is refused before decoding (logged)"
[ "$(metric cairn_master_messages_invalid_total)" -gt "$before" ]
ok $? "and counted as invalid"
is "$(sched_lines huge 'TASK_RUNNING' | wc -l)" 0 "its task never runs"
kill -TERM "$PID_huge"

## Pending messages per peer
# How many PINGs it takes to fill ZeroMQ's and the kernel's buffers
# before the master's own queue depends on the machine: the flood goes on
# until the master says it dropped some, then stops.
run_bg flood "$FLOOD" --master="$MASTER" --count=100000000 --linger=0
dropped_some () { [ "$(metric cairn_master_messages_dropped_total)" -gt 0 ]; }
wait_for 180 dropped_some
ok $? "a peer floods PINGs and reads none of the PONGs: the master drops replies beyond --max-pending-per-peer=1000 (cairn_master_messages_dropped_total)"
kill -TERM "$PID_flood" 2>/dev/null
grep -q "a peer's queue is full" "$T/master.log"
ok $? "and logs it"
http_get "http://$MASTER_HTTP/health" >/dev/null
ok $? "the master is still healthy"
agent_registered a1 >/dev/null
ok $? "and its agent still registered"
stop_all

## Connections per IP address (a master of its own, on a fresh work dir)
PIDS=()
LOGS=()
_stopped=0
mv "$T/master.log" "$T/master-limits.log"
rm -rf "$T/master"
start_master --max-connections-per-ip=3 --agent-ping-timeout=500ms
ok_or_bail $? "a master with --max-connections-per-ip=3 starts"
# Four connections: three get in, the fourth is cut (again and again, as
# it reconnects); once that shows, the three are surely in.
run_bg holder "$FLOOD" --master="$MASTER" --connections=4 --linger=8
some_cut () { [ "$(metric cairn_master_connections_cut_total)" -gt 0 ]; }
wait_for 20 some_cut
ok $? "a fourth connection from 127.0.0.1 is cut"
run_bg late "$AGENT_BIN" --master="$MASTER" --ip=127.0.0.1 --http-port=0 --hostname=late \
    --work-dir="$T/late" --shutdown-tasks --cgroup-root="$CGROUP_ROOT" --resources="cpus:1;mem:64"
sleep 3
grep -q "connections open already (--max-connections-per-ip)" "$T/master.log"
ok $? "the master logs it"
is "$(master_state | jq '[.agents[] | select(.hostname == "late")] | length')" 0 \
   "the late agent is not registered meanwhile"
wait_for 30 agent_registered late
ok $? "once the holder leaves, the agent gets in"

done_testing
