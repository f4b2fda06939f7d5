#!/bin/bash
# An agent partitioned from the master (SIGSTOP past ping timeout x
# misses): its frameworks see TASK_LOST (TASK_UNREACHABLE when
# partition-aware) and AGENT_LOST, offers on it are rescinded, and it is
# offered to nobody. After SIGCONT it re-registers with the same id, its
# tasks are reported TASK_RUNNING again and /state shows them RUNNING;
# the task of a framework torn down meanwhile is killed then.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
[ -x "$SCHED_BIN" ] || skip_all "$SCHED_BIN is not built (make check builds it)"

start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=3
ok_or_bail $? "master starts (agents unreachable after 3 x 500 ms)"
start_agent agent1 --resources="cpus:6;mem:1536"
ok_or_bail $? "agent1 registers"
a1=$(master_state | jq -r '.agents[] | select(.hostname == "agent1") | .id')

# Two tasks each on agent1; the rest of agent1 they decline for 60 s.
TASK="cpus:1;mem:256"
start_sched lost --name=lost --max-tasks=2 --task-resources="$TASK" --refuse=60
start_sched unr --name=unr --partition-aware --max-tasks=2 --task-resources="$TASK" --refuse=60
wait_line 30 lost '^status lost-2 TASK_RUNNING ' && wait_line 30 lost '^status lost-1 TASK_RUNNING '
ok $? "lost runs two tasks"
wait_line 30 unr '^status unr-2 TASK_RUNNING ' && wait_line 30 unr '^status unr-1 TASK_RUNNING '
ok $? "unr (partition-aware) runs two tasks"
flost=$(sched_fwid lost)
funr=$(sched_fwid unr)
is "$(master_state | jq --arg a "$a1" '[.tasks[] | select(.agent_id == $a and .state == "TASK_RUNNING")] | length')" \
   "4" "/state shows the four tasks running on agent1"
# A framework that will be torn down while agent1 is away.
start_sched td --name=td --max-tasks=1 --task-resources="$TASK" --refuse=60
wait_line 30 td '^status td-1 TASK_RUNNING '
ok $? "td runs a task on agent1"
ftd=$(sched_fwid td)

# A second agent, and a framework that holds every offer it gets.
start_agent agent2 --resources="cpus:1;mem:256"
ok_or_bail $? "agent2 registers"
a2=$(master_state | jq -r '.agents[] | select(.hostname == "agent2") | .id')
start_sched holder --name=holder --hold
wait_line 20 holder "^offer [^ ]+ $a1 " && wait_line 20 holder "^offer [^ ]+ $a2 "
ok $? "holder holds offers on agent1 and agent2"
o_a1=$(awk -v a="$a1" '$1 == "offer" && $3 == a { print $2; exit }' "$T/holder.log")
o_a2=$(awk -v a="$a2" '$1 == "offer" && $3 == a { print $2; exit }' "$T/holder.log")

# _after_has NAME MARK REGEX: NAME printed a line matching REGEX after "echo MARK".
_after_has () {
    sed -n "/^echo $2\$/,\$p" "$T/$1.log" | grep -qE -- "$3"
}

# Partition agent1.
kill -STOP "$PID_agent1"
stopped_at=$(date +%s%3N)
wait_line 20 lost "^agent_lost $a1\$"
ok $? "lost hears agent_lost for agent1"
wait_line 5 unr "^agent_lost $a1\$"
ok $? "unr hears agent_lost for agent1"
wait_line 5 holder "^rescind $o_a1\$"
ok $? "holder's offer on agent1 is rescinded"
state=$(master_state)
# While agent1 is away: a kill cannot be delivered, reconciliation
# reports the task lost, and nobody is offered agent1.
sched_cmd td stop teardown
sched_wait td
is "$?" "0" "td stops with teardown while agent1 is away"
sched_cmd lost echo partitioned
sched_cmd lost kill lost-1
sched_cmd lost reconcile lost-2
wait_for 5 _after_has lost partitioned '^status lost-1 '
wait_for 5 _after_has lost partitioned '^status lost-2 '
sleep 1
offers_while_away=$(awk -v a="$a1" '$1 == "offer" && $3 == a { n++ } END { print n + 0 }' "$T/holder.log")
kill -CONT "$PID_agent1"
diag "agent1 was stopped for $(( $(date +%s%3N) - stopped_at )) ms"

for t in lost-1 lost-2; do
    like "$(grep -E "^status $t TASK_(LOST|UNREACHABLE)" "$T/lost.log" | head -1)" \
         "^status $t TASK_LOST REASON_AGENT_DISCONNECTED $a1 " \
         "lost sees $t TASK_LOST / REASON_AGENT_DISCONNECTED"
done
for t in unr-1 unr-2; do
    like "$(grep -E "^status $t TASK_(LOST|UNREACHABLE)" "$T/unr.log" | head -1)" \
         "^status $t TASK_UNREACHABLE REASON_AGENT_DISCONNECTED $a1 " \
         "unr (partition-aware) sees $t TASK_UNREACHABLE / REASON_AGENT_DISCONNECTED"
done
n=$(awk '/^agent_lost /{ exit } /^status lost-[12] TASK_LOST /{ n++ } END { print n + 0 }' "$T/lost.log")
is "$n" "2" "the TASK_LOST updates come before agent_lost"
is "$(grep -c "^rescind $o_a2\$" "$T/holder.log")" "0" "holder's offer on agent2 stays"
is "$(jq -r --arg a "$a1" '.agents[] | select(.id == $a) | .state' <<<"$state")" "UNREACHABLE" \
   "/state shows agent1 UNREACHABLE"
is "$(jq --arg a "$a1" '[.offers[] | select(.agent_id == $a)] | length' <<<"$state")" "0" \
   "no offer is outstanding on agent1"
like "$(sed -n '/^echo partitioned$/,$p' "$T/lost.log" | grep '^status lost-1 ' | head -1)" \
     "^status lost-1 TASK_LOST REASON_AGENT_DISCONNECTED $a1 .*cannot be delivered" \
     "a kill while agent1 is away: TASK_LOST, the kill cannot be delivered"
like "$(sed -n '/^echo partitioned$/,$p' "$T/lost.log" | grep '^status lost-2 ' | head -1)" \
     "^status lost-2 TASK_LOST REASON_RECONCILIATION $a1 " \
     "reconciliation while agent1 is away: TASK_LOST"
is "$offers_while_away" "1" "while agent1 is away it is offered to nobody (holder saw only the first offer)"
is "$(jq -r --arg f "$flost" '[.tasks[] | select(.framework_id == $f) | .state] | unique | join(",")' <<<"$state")" \
   "TASK_LOST" "/state shows lost's tasks TASK_LOST"
is "$(jq -r --arg f "$funr" '[.tasks[] | select(.framework_id == $f) | .state] | unique | join(",")' <<<"$state")" \
   "TASK_UNREACHABLE" "/state shows unr's tasks TASK_UNREACHABLE"

# Back from the partition.
wait_for 20 agent_registered agent1
ok $? "agent1 is ACTIVE again after SIGCONT"
is "$(master_state | jq -r '.agents[] | select(.hostname == "agent1") | .id')" "$a1" \
   "with the same agent id"
for t in lost-1 lost-2; do
    wait_line 20 lost "^status $t TASK_RUNNING REASON_RECONCILIATION $a1 "
    ok $? "lost sees $t TASK_RUNNING again (REASON_RECONCILIATION)"
done
for t in unr-1 unr-2; do
    wait_line 20 unr "^status $t TASK_RUNNING REASON_RECONCILIATION $a1 "
    ok $? "unr sees $t TASK_RUNNING again (REASON_RECONCILIATION)"
done
running_on_a1 () {
    [ "$(master_state | jq --arg a "$a1" '[.tasks[] | select(.agent_id == $a and .state == "TASK_RUNNING")] | length')" -eq 4 ]
}
wait_for 10 running_on_a1
ok $? "/state shows the four tasks RUNNING on agent1 again"
td_killed () {
    [ "$(master_state | jq --arg f "$ftd" '[.completed_tasks[] | select(.framework_id == $f and .id == "td-1" and .state == "TASK_KILLED")] | length')" -eq 1 ]
}
wait_for 20 td_killed
ok $? "td's task, whose kill could not be delivered, is killed when agent1 is back"
is "$(fw_tasks "$ftd" TASK_RUNNING)" "0" "td has no live task"
is "$(master_state | jq --arg a "$a1" '.agents[] | select(.id == $a) | .used.cpus')" "4" \
   "agent1's used cpus count the four tasks"
wait_line 20 holder "^offer [^ ]+ $a1 " 2
ok $? "agent1 is offered again (to holder)"
is "$(cat "$T/lost.log" "$T/unr.log" | grep -cE '^status .* TASK_(KILLED|FAILED|FINISHED|ERROR)')" "0" \
   "no task ended"

done_testing
