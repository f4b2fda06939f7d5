#!/bin/bash
# Master high availability under trouble, two masters and an agent over a
# three-server ZooKeeper ensemble:
# - the ZooKeeper leader is killed while tasks launch: the masters ride
#   through it (no failover, the leader does not even pause) and the work
#   finishes;
# - the leading master is frozen (SIGSTOP) past the session timeout: the
#   standby takes over; thawed (SIGCONT), the old leader does not act as
#   leader again (no offer, no registry write): it finds its session gone
#   and exits, and the agent stays with the new leader.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
. "$S/tests/zk.sh"

SESSION_S=4
zk_start 3
ok_or_bail $? "a ZooKeeper ensemble of three servers elects a leader"

start_ha_master () {
    zk_master "$1" --allocation-interval=100ms --agent-ping-timeout=500ms \
        --max-agent-ping-misses=10
}
health () { curl -s --max-time 3 "http://${MHTTP[$1]}/health"; }
role_is () { [ "$(zk_role "$1")" = "$2" ]; }
metric () {             # metric MASTER NAME
    curl -s --max-time 3 "http://${MHTTP[$1]}/metrics" | sed -n "s/^$2 //p"
}

start_ha_master m1
ok_or_bail $? "m1 starts"
wait_for 20 role_is m1 leader
ok_or_bail $? "m1 leads"
start_ha_master m2
ok_or_bail $? "m2 starts"
wait_for 10 role_is m2 standby
ok $? "m2 is a standby"

MASTER=$ZK_URL
MASTER_HTTP=${MHTTP[m1]}
start_agent a1 --resources="cpus:4;mem:2048"
ok_or_bail $? "agent a1 registers through zk://"

## The ZooKeeper leader dies under load.
BATCH=$B/frameworks/batch/cairn-batch
"$BATCH" run --master="$ZK_URL" --count=400 --cpus=0.05 --mem=8 -- sleep 1 \
    >"$T/load.out" 2>"$T/load.err" &
load_pid=$!
LOGS+=("$T/load.err")
some_done () {
    master_state | jq_e '[.completed_tasks[] | select(.state == "TASK_FINISHED")] | length >= 20'
}
wait_for 60 some_done
ok_or_bail $? "tasks are finishing"
changes=$(metric m1 cairn_master_leader_changes_total)
zl=$(zk_leader)
zk_kill "$zl"
diag "killed ZooKeeper server $zl (the ensemble's leader)"
new_zk_leader () { local l; l=$(zk_leader) && [ "$l" != "$zl" ]; }
wait_for 30 new_zk_leader
ok $? "the ensemble elects another leader"
wait "$load_pid"
is "$?" 0 "the 400-task run finishes and exits 0"
like "$(cat "$T/load.out")" "400 tasks: 400 succeeded" "every task succeeded"
sleep 1
role_is m1 leader
ok $? "m1 still leads"
role_is m2 standby
ok $? "m2 is still a standby"
is "$(metric m1 cairn_master_leader_changes_total)" "$changes" "no master failover happened"
is "$(metric m1 cairn_master_leader_pauses_total)" 0 "the leader never stopped acting"
is "$(metric m2 cairn_master_offers_total)" 0 "the standby made no offer"
zk_restart "$zl"

## The leading master freezes past the session timeout.
offers_before=$(metric m1 cairn_master_offers_total)
kill -STOP "${MPID[m1]}"
wait_for $((SESSION_S + 15)) role_is m2 leader
ok_or_bail $? "with m1 frozen, m2 takes over"
MASTER_HTTP=${MHTTP[m2]}
agent_back () {
    master_state | jq_e '[.agents[] | select(.hostname == "a1" and .state == "ACTIVE")] | length == 1'
}
wait_for 30 agent_back
ok $? "the agent registers with m2"
kill -CONT "${MPID[m1]}"
exited () { ! kill -0 "${MPID[m1]}" 2>/dev/null; }
wait_for $((SESSION_S + 10)) exited
ok $? "thawed, m1 exits instead of leading again"
like "$(cat "$T/m1.log")" "no word from ZooKeeper for [0-9]+ ms: not acting as the leader" \
     "m1 stopped acting first: its lease had run out"
like "$(cat "$T/m1.log")" "this master no longer leads" "then found its session gone"
if grep -q "acting again" "$T/m1.log"; then
    ok 1 "m1 never acted as the leader again"
else
    ok 0 "m1 never acted as the leader again"
fi
is "$(grep -c 'elected the leading master' "$T/m1.log")" 1 "m1 was elected once only"
role_is m2 leader
ok $? "m2 still leads"
sleep 1
agent_back
ok $? "the agent stays with m2"
diag "m1 had made $offers_before offers before it froze"

done_testing
