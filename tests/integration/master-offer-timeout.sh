#!/bin/bash
# --offer-timeout: an offer a framework holds without answering is
# rescinded after the timeout and offered again later; accepting the
# rescinded offer is refused with TASK_DROPPED; an offer answered in
# time launches normally.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
[ -x "$SCHED_BIN" ] || skip_all "$SCHED_BIN is not built (make check builds it)"

ts () {                 # ts NAME REGEX N: time (ms) of the Nth matching line
    grep -E -- "^[0-9]+ ($2)" "$T/$1.log" | sed -n "${3}p" | cut -d' ' -f1
}
field () {              # field NAME REGEX N K: field K (after the time) of the Nth matching line
    grep -E -- "^[0-9]+ ($2)" "$T/$1.log" | sed -n "${3}p" | cut -d' ' -f$(($4 + 1))
}

start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=10 \
    --offer-timeout=2s
ok_or_bail $? "master starts with --offer-timeout=2s"
start_agent agent1 --resources="cpus:2;mem:256"
ok_or_bail $? "agent1 registers"
a1=$(master_state | jq -r '.agents[0].id')

start_sched h --name=h --hold --timestamps
wait_line 20 h '^[0-9]+ offer '
ok $? "h is offered agent1 and holds the offer"
o1=$(field h 'offer ' 1 2)
age=$(master_state | jq --arg o "$o1" '.offers[] | select(.id == $o) | .age_s')
diag "offer $o1 is outstanding, $age s old"
[ -n "$age" ]
ok $? "/state lists the held offer"
wait_line 10 h "^[0-9]+ rescind $o1\$"
ok $? "the held offer is rescinded"
held=$(( $(ts h "rescind $o1\$" 1) - $(ts h 'offer ' 1) ))
diag "rescinded $held ms after h got it"
[ "$held" -ge 1700 ]
ok $? "not before the 2 s timeout ($held ms)"
[ "$held" -le 6000 ]
ok $? "and within a few housekeeping ticks of it"

wait_line 10 h '^[0-9]+ offer ' 2
ok $? "agent1 is offered again after the rescind"
o2=$(field h 'offer ' 2 2)
[ -n "$o2" ] && [ "$o2" != "$o1" ]
ok $? "as a new offer ($o2)"
is "$(field h 'offer ' 2 3)" "$a1" "for the same agent"

# Answer the new offer at once: it launches. The rescinded one is dead.
sched_cmd h accept "$o2" ok=cpus:0.5\;mem:32
sched_cmd h accept "$o1" late=cpus:0.5\;mem:32
wait_line 20 h '^[0-9]+ status ok TASK_RUNNING '
ok $? "a task launched on an offer answered in time runs"
wait_line 10 h '^[0-9]+ status late '
like "$(grep -E '^[0-9]+ status late ' "$T/h.log" | head -1)" \
     "status late TASK_DROPPED REASON_INVALID_OFFERS - .*$o1 is not outstanding" \
     "accepting the rescinded offer gives TASK_DROPPED / REASON_INVALID_OFFERS"
# The rest of agent1 is offered again, held, and rescinded again.
wait_line 10 h '^[0-9]+ rescind ' 2
ok $? "the next held offer is rescinded too"
is "$(master_state | jq '[.tasks[] | select(.id == "ok" and .state == "TASK_RUNNING")] | length')" \
   "1" "/state shows the launched task running"

sched_cmd h "stop teardown"
sched_wait h
is "$?" "0" "h stops cleanly"

done_testing
