#!/bin/bash
# Decline filters, suppress and revive, as frameworks see them:
# - a framework that declines with refuse 3 s is not offered that agent
#   again before 3 s have passed, but is soon after, while another
#   framework gets the agent meanwhile;
# - after SUPPRESS no offers arrive; after REVIVE they come back;
# - REVIVE lifts a long decline filter at once;
# - resources freed on the agent (a task ended) lift a filter early;
# - a decline without a refuse time filters for --default-refuse.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
[ -x "$SCHED_BIN" ] || skip_all "$SCHED_BIN is not built (make check builds it)"

# ts NAME REGEX N: the time (ms) of the Nth line of NAME matching REGEX
# (lines of a --timestamps scheduler: "MS event ...").
ts () {
    grep -E -- "^[0-9]+ ($2)" "$T/$1.log" | sed -n "${3}p" | cut -d' ' -f1
}

start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=3 \
    --default-refuse=2s
ok_or_bail $? "master starts (--default-refuse=2s)"
start_agent agent1 --resources="cpus:2;mem:256"
ok_or_bail $? "agent1 registers"
a1=$(master_state | jq -r '.agents[0].id')

## Decline filter
start_sched da --name=da --decline-all --refuse=3 --timestamps
wait_line 20 da '^[0-9]+ decline '
ok $? "da gets agent1 offered and declines it for 3 s"
start_sched db --name=db --decline-all --refuse=0.5 --timestamps
wait_line 20 da '^[0-9]+ offer ' 2
ok $? "da is offered agent1 again"
t_decline=$(ts da 'decline ' 1)
t_again=$(ts da 'offer ' 2)
gap=$((t_again - t_decline))
diag "da declined at $t_decline and was offered agent1 again $gap ms later"
[ "$gap" -ge 2900 ]
ok $? "not before the 3 s filter expired ($gap ms)"
[ "$gap" -le 8000 ]
ok $? "but soon after it (within 8 s)"
like "$(grep -E '^[0-9]+ offer ' "$T/da.log" | sed -n 2p)" " offer [^ ]+ $a1 agent1 " \
     "the second offer is for agent1 again"
between=$(grep -E '^[0-9]+ offer ' "$T/db.log" |
          awk -v a="$t_decline" -v b="$t_again" '$1 > a && $1 < b' | wc -l)
diag "db got $between offers while da's filter held"
[ "$between" -ge 2 ]
ok $? "db is offered agent1 meanwhile (declining for 0.5 s each time)"
sched_cmd da "stop teardown"
sched_cmd db "stop teardown"
sched_wait da
is "$?" "0" "da stops cleanly (exit 0)"
sched_wait db
is "$?" "0" "db stops cleanly (exit 0)"

## Suppress and revive
start_sched sr --name=sr --decline-all --refuse=0.3 --timestamps
wait_line 20 sr '^[0-9]+ offer ' 3
ok $? "sr is offered agent1 again and again (declining for 0.3 s)"
sched_cmd sr suppress
sleep 1                         # ten allocation intervals: anything in flight has landed
sched_cmd sr echo quiet
sleep 2.5
sched_cmd sr echo end
wait_line 10 sr '^[0-9]+ echo end'
ok $? "sr answers commands"
quiet=$(sed -n '/^[0-9]* echo quiet$/,/^[0-9]* echo end$/p' "$T/sr.log" | grep -cE '^[0-9]+ offer ')
is "$quiet" "0" "no offers for 2.5 s after SUPPRESS"
is "$(master_state | jq '[.offers[]] | length')" "0" "the master holds no offer for sr"
sched_cmd sr revive
wait_for 5 sh -c "sed -n '/^[0-9]* echo end\$/,\$p' '$T/sr.log' | grep -qE '^[0-9]+ offer '"
ok $? "after REVIVE offers come back (within 5 s)"
sched_cmd sr "stop teardown"
sched_wait sr

## Revive lifts a decline filter
start_sched rv --name=rv --decline-all --refuse=600 --timestamps
wait_line 20 rv '^[0-9]+ decline '
ok $? "rv declines agent1 for 600 s"
sleep 1.5
is "$(grep -cE '^[0-9]+ offer ' "$T/rv.log")" "1" "rv is not offered agent1 again while filtered"
sched_cmd rv revive
wait_line 5 rv '^[0-9]+ offer ' 2
ok $? "REVIVE clears the filter: agent1 is offered again at once"
sched_cmd rv "stop teardown"
sched_wait rv

## Resources freed on the agent lift a filter early
start_sched fl --name=fl --max-tasks=1 --task-resources="cpus:1;mem:64" --refuse=600
wait_line 20 fl '^status fl-1 TASK_RUNNING '
ok $? "fl runs one task and gives the rest of agent1 back for 600 s"
sleep 1
is "$(grep -c '^offer ' "$T/fl.log")" "1" "fl is not offered agent1 again while filtered"
sched_cmd fl kill fl-1
wait_line 10 fl '^status fl-1 TASK_KILLED '
ok $? "fl's task is killed"
wait_line 5 fl '^offer ' 2
ok $? "the freed cpu lifts the filter: agent1 is offered to fl again"
like "$(grep '^offer ' "$T/fl.log" | sed -n 2p)" "^offer [^ ]+ $a1 agent1 cpus:2;" \
     "with all of agent1's cpus"
sched_cmd fl "stop teardown"
sched_wait fl

## A decline without a refuse time uses --default-refuse
start_sched dd --name=dd --decline-all --refuse=-1 --timestamps
wait_line 20 dd '^[0-9]+ offer ' 2
ok $? "dd declines without a refuse time and is offered agent1 again"
gap=$(( $(ts dd 'offer ' 2) - $(ts dd 'decline ' 1) ))
diag "dd was offered agent1 again $gap ms after declining it"
[ "$gap" -ge 1900 ] && [ "$gap" -le 6000 ]
ok $? "after the master's default refuse time, 2 s ($gap ms)"
sched_cmd dd "stop teardown"
sched_wait dd

done_testing
