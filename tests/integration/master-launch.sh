#!/bin/bash
# Launch validation through the real library path (protocol section 10):
# what a scheduler can get wrong with the public API — a task asking for
# more than the offer, duplicate task ids, a task with no cpus or mem,
# an offer accepted twice, offers on different agents, an offer listed
# twice, an offer that was never made — gets TASK_ERROR /
# REASON_TASK_INVALID or TASK_DROPPED / REASON_INVALID_OFFERS, and only
# the valid tasks run. (Raw-protocol cases are in hostile.sh.)
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
[ -x "$SCHED_BIN" ] || skip_all "$SCHED_BIN is not built (make check builds it)"

# status_of TASK: the first status line s printed for TASK.
status_of () {
    grep -E "^status $1 " "$T/s.log" | head -1
}
# offers_on AGENT_ID: s's offer ids for that agent, oldest first.
offers_on () {
    awk -v a="$1" '$1 == "offer" && $3 == a { print $2 }' "$T/s.log"
}
new_offer_on () {       # new_offer_on AGENT_ID N: s got at least N offers on the agent
    [ "$(offers_on "$1" | wc -l)" -ge "$2" ]
}

start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=10
ok_or_bail $? "master starts"
start_agent agent1 --resources="cpus:2;mem:512"
ok_or_bail $? "agent1 registers"
start_agent agent2 --resources="cpus:2;mem:512"
ok_or_bail $? "agent2 registers"
a1=$(master_state | jq -r '.agents[] | select(.hostname == "agent1") | .id')
a2=$(master_state | jq -r '.agents[] | select(.hostname == "agent2") | .id')

start_sched s --name=s --hold
wait_for 20 new_offer_on "$a1" 1 && wait_for 20 new_offer_on "$a2" 1
ok $? "s holds an offer on each agent"
o1=$(offers_on "$a1" | sed -n 1p)
o2=$(offers_on "$a2" | sed -n 1p)

## Tasks checked one by one against what is left of the offer (cpus:2)
sched_cmd s accept "$o1" big=cpus:4\;mem:64 ok1=cpus:0.5\;mem:64 ok1=cpus:0.5\;mem:64 \
    zero= diskonly=disk:10 ok2=cpus:1\;mem:64 over=cpus:1\;mem:64
for t in big ok1 zero diskonly ok2 over; do
    wait_line 20 s "^status $t "
done
like "$(status_of big)" "^status big TASK_ERROR REASON_TASK_INVALID $a1 task big asks for cpus:4(;|$)" \
     "a task asking for more than the offer: TASK_ERROR / REASON_TASK_INVALID"
like "$(grep -E '^status ok1 ' "$T/s.log" | grep -v TASK_STARTING | grep -v TASK_RUNNING | head -1)" \
     "^status ok1 TASK_ERROR REASON_TASK_INVALID $a1 task id ok1 is already in use" \
     "the same task id twice in one accept: the second gets TASK_ERROR"
like "$(status_of zero)" "^status zero TASK_ERROR REASON_TASK_INVALID $a1 a task must ask for some cpus or mem" \
     "a task with no resources: TASK_ERROR / REASON_TASK_INVALID"
like "$(status_of diskonly)" "^status diskonly TASK_ERROR REASON_TASK_INVALID $a1 a task must ask for some cpus or mem" \
     "a task with only disk: TASK_ERROR / REASON_TASK_INVALID"
like "$(status_of over)" "^status over TASK_ERROR REASON_TASK_INVALID $a1 task over asks for .* but the offers have only cpus:0.5" \
     "a task that fits the offer but not what earlier tasks left: TASK_ERROR"
wait_line 20 s '^status ok1 TASK_RUNNING ' && wait_line 20 s '^status ok2 TASK_RUNNING '
ok $? "the two valid tasks of that accept run"

## The same offer accepted twice
sched_cmd s accept "$o1" again=cpus:0.1\;mem:32
wait_line 20 s '^status again '
like "$(status_of again)" "^status again TASK_DROPPED REASON_INVALID_OFFERS - offer $o1 is not outstanding" \
     "an offer accepted twice: TASK_DROPPED / REASON_INVALID_OFFERS, no agent"

## Offers on two agents in one accept
wait_for 20 new_offer_on "$a1" 2
ok $? "the rest of agent1 is offered again"
o1b=$(offers_on "$a1" | sed -n 2p)
sched_cmd s accept "$o1b,$o2" split=cpus:0.1\;mem:32
wait_line 20 s '^status split '
like "$(status_of split)" "^status split TASK_DROPPED REASON_INVALID_OFFERS - offers $o1b and $o2 are on different agents" \
     "offers on different agents: TASK_DROPPED / REASON_INVALID_OFFERS"
wait_for 10 new_offer_on "$a1" 3 && wait_for 10 new_offer_on "$a2" 2
ok $? "both offers go back to the pool without a filter and are offered again"

## One offer listed twice
o2b=$(offers_on "$a2" | sed -n 2p)
sched_cmd s accept "$o2b,$o2b" twice=cpus:0.1\;mem:32
wait_line 20 s '^status twice '
like "$(status_of twice)" "^status twice TASK_DROPPED REASON_INVALID_OFFERS - offer $o2b is listed twice" \
     "an offer listed twice: TASK_DROPPED / REASON_INVALID_OFFERS"
wait_for 10 new_offer_on "$a2" 3
ok $? "and it is offered again"

## An offer that was never made
sched_cmd s accept no-such-offer ghost=cpus:0.1\;mem:32
wait_line 20 s '^status ghost '
like "$(status_of ghost)" "^status ghost TASK_DROPPED REASON_INVALID_OFFERS - offer no-such-offer is not outstanding" \
     "an offer id never made: TASK_DROPPED / REASON_INVALID_OFFERS"

## A task id in use by a live task, on another agent and another accept
o2c=$(offers_on "$a2" | sed -n 3p)
sched_cmd s accept "$o2c" ok1=cpus:0.1\;mem:32 fresh=cpus:0.1\;mem:32 \
    badport=cpus:0.1\;mem:32\;ports:[40000-40000]
wait_line 20 s '^status fresh TASK_RUNNING '
ok $? "a valid task next to invalid ones runs"
wait_line 20 s '^status badport '
like "$(status_of badport)" "^status badport TASK_ERROR REASON_TASK_INVALID $a2 task badport asks for .*ports:\\[40000-40000\\] but" \
     "a port that was not offered: TASK_ERROR / REASON_TASK_INVALID"
like "$(grep -E '^status ok1 TASK_ERROR' "$T/s.log" | sed -n 2p)" \
     "^status ok1 TASK_ERROR REASON_TASK_INVALID $a2 task id ok1 is already in use" \
     "the id of a live task in a later accept: TASK_ERROR / REASON_TASK_INVALID"

## The books
sleep 0.5
state=$(master_state)
is "$(jq -c '[.tasks[] | .id] | sort' <<<"$state")" '["fresh","ok1","ok2"]' \
   "/state lists only the three valid tasks"
is "$(jq -c '[.completed_tasks[] | .id]' <<<"$state")" '[]' "and no refused task as completed"
is "$(jq -r --arg a "$a1" '.tasks[] | select(.id == "ok1") | .agent_id' <<<"$state")" "$a1" \
   "ok1 is the one on agent1"
is "$(jq --arg a "$a1" '.agents[] | select(.id == $a) | .used.cpus' <<<"$state")" "1.5" \
   "agent1 has only the valid tasks' cpus in use (1.5)"
is "$(jq --arg a "$a2" '.agents[] | select(.id == $a) | .used.cpus' <<<"$state")" "0.1" \
   "agent2 has only fresh's cpus in use (0.1)"
is "$(grep -cE '^(error|failed|bad-command) ' "$T/s.log")" "0" "the library accepted every call"

# The test tool itself.
sched_cmd s frobnicate now
wait_line 10 s '^bad-command frobnicate now$'
ok $? "cairn-sched names a command it does not know"
sched_cmd s "stop teardown"
sched_wait s
is "$?" "0" "s stops cleanly"
"$SCHED_BIN" --master="$MASTER" --bogus </dev/null >/dev/null 2>&1
is "$?" "2" "cairn-sched exits 2 on an unknown flag"
"$SCHED_BIN" </dev/null >/dev/null 2>&1
is "$?" "2" "cairn-sched exits 2 without --master"
"$SCHED_BIN" --master="$MASTER" --task-resources="cpus:x" </dev/null >/dev/null 2>&1
is "$?" "2" "cairn-sched exits 2 on bad --task-resources"

done_testing
