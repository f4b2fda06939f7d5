#!/bin/bash
# Master restart: a framework with a failover timeout runs tasks on two
# agents; the master is stopped (SIGTERM) and started again on the same
# ports and work dir. Agents and the framework re-register on their own;
# afterwards /state knows every task, RUNNING, on the same agents with
# the same ids, and the framework never hears TASK_LOST. The framework
# can still reconcile and kill through the new master. A task that ended
# while no master ran is reported once, as it ended. A framework that
# suppressed offers stays suppressed.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
[ -x "$SCHED_BIN" ] || skip_all "$SCHED_BIN is not built (make check builds it)"

start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=3
ok_or_bail $? "master starts"
start_agent agent1 --resources="cpus:2;mem:512"
ok_or_bail $? "agent1 registers"
start_agent agent2 --resources="cpus:2;mem:512"
ok_or_bail $? "agent2 registers"

start_sched fw --name=fw --failover-timeout=60 --max-tasks=4 --task-resources="cpus:1;mem:128" \
    --refuse=60
wait_line 20 fw '^registered '
ok $? "fw registers (failover timeout 60 s)"
f=$(sched_fwid fw)
four_running () { [ "$(fw_tasks "$f" TASK_RUNNING)" -eq 4 ]; }
wait_for 30 four_running
ok $? "fw runs four tasks"

# A small third agent no task of fw fits on, and a framework that
# declines it again and again until it suppresses offers.
start_agent agent3 --resources="cpus:0.2;mem:64"
ok_or_bail $? "agent3 registers"
start_sched sup --name=sup --decline-all --refuse=0.3 --failover-timeout=60
wait_line 20 sup '^offer ' 2
ok $? "sup is offered agent3 again and again"
sched_cmd sup suppress
sleep 1
sched_cmd sup echo suppressed
wait_line 10 sup '^echo suppressed'

# A task that ends while no master runs.
start_sched fin --name=fin --failover-timeout=60 --max-tasks=1 --task-resources="cpus:0.1;mem:32" \
    --command="sleep 2" --refuse=60
wait_line 20 fin '^status fin-1 TASK_RUNNING '
ok $? "fin runs a task that ends after 2 s"

before=$(master_state)
tasks_before=$(jq -c --arg f "$f" '[.tasks[] | select(.framework_id == $f) | {id, agent_id, framework_id, state}] | sort_by(.id)' <<<"$before")
agents_before=$(jq -c '[.agents[] | {id, hostname}] | sort_by(.id)' <<<"$before")
master_before=$(jq -r .master_id <<<"$before")
diag "tasks before: $tasks_before"

stop_master
ok $? "the master stops on SIGTERM"
sleep 3                 # fin's task ends meanwhile
restart_master
ok $? "a new master starts on the same ports and work dir"
master_after=$(master_state | jq -r .master_id)
[ "$master_after" != "$master_before" ]
ok $? "it is a new master process ($master_after)"

recovered () {
    local s
    s=$(master_state) || return 1
    [ "$(jq '[.agents[] | select(.state == "ACTIVE")] | length' <<<"$s")" -eq 3 ] &&
    [ "$(jq '[.tasks[] | select(.state == "TASK_RUNNING")] | length' <<<"$s")" -eq 4 ] &&
    [ "$(jq -r --arg f "$f" '.frameworks[] | select(.id == $f) | .connected' <<<"$s")" = true ]
}
wait_for 30 recovered
ok $? "the three agents, the framework and the four tasks come back"
after=$(master_state)
is "$(jq -c '[.agents[] | {id, hostname}] | sort_by(.id)' <<<"$after")" "$agents_before" \
   "the agents have the ids they had"
is "$(jq -c --arg f "$f" '[.tasks[] | select(.framework_id == $f) | {id, agent_id, framework_id, state}] | sort_by(.id)' <<<"$after")" \
   "$tasks_before" "every task is known, RUNNING, on the agent it ran on"
is "$(jq -r --arg f "$f" '.frameworks[] | select(.id == $f) | .name' <<<"$after")" "fw" \
   "the framework has its own name again (not '(recovered)')"
is "$(jq -r --arg f "$f" '.frameworks[] | select(.id == $f) | .failover_timeout_s' <<<"$after")" "60" \
   "and its failover timeout"
# sup and fin re-register on their own schedules, after fw maybe. Until
# fin does, the task its agent reported stands for it as "(recovered)".
three_frameworks () {
    master_state | jq_e '(.frameworks | length) >= 3
                         and ([.frameworks[] | select(.name == "(recovered)")] | length) == 0'
}
wait_for 30 three_frameworks
after=$(master_state)
is "$(jq -c '[.frameworks[] | .name] | sort' <<<"$after")" '["fin","fw","sup"]' \
   "there are the two frameworks, no more"
fin_done () {
    [ "$(master_state | jq '[.completed_tasks[] | select(.id == "fin-1" and .state == "TASK_FINISHED")] | length')" -eq 1 ]
}
wait_for 10 fin_done
ok $? "/state lists fin-1, which ended while no master ran, as TASK_FINISHED"
wait_line 30 fin '^status fin-1 TASK_FINISHED '
ok $? "fin hears TASK_FINISHED (resent by the agent)"
is "$(grep -cE '^status fin-1 TASK_(LOST|UNREACHABLE|KILLED|FAILED)' "$T/fin.log")" "0" \
   "and nothing else about its end"
sched_cmd fin reconcile fin-1
wait_line 10 fin '^status fin-1 [A-Z_]+ REASON_RECONCILIATION '
like "$(grep '^status fin-1 [A-Z_]* REASON_RECONCILIATION ' "$T/fin.log" | head -1)" \
     "^status fin-1 TASK_FINISHED REASON_RECONCILIATION " \
     "the new master reconciles fin-1 as TASK_FINISHED"
is "$(master_state | jq '[.agents[] | .used.cpus] | add')" "4" "the agents' used cpus count fw's four tasks only"
like "$(grep -E '^reregistered ' "$T/fw.log")" "^reregistered $f " "fw's scheduler says reregistered"
is "$(grep -c '^registered ' "$T/fw.log")" "1" "and registered only once, before the restart"

wait_line 20 sup '^reregistered '
ok $? "sup re-registers too"
sleep 3                 # several ping timeouts: nothing expires or gets lost late
is "$(sed -n '/^echo suppressed$/,$p' "$T/sup.log" | grep -c '^offer ')" "0" \
   "sup, suppressed before the restart, gets no offers after it"
is "$(fw_tasks "$f" TASK_RUNNING)" "4" "three seconds later the four tasks are still RUNNING"
is "$(grep -cE '^status .* TASK_(LOST|UNREACHABLE|KILLED|FAILED|FINISHED|DROPPED|ERROR|GONE)' "$T/fw.log")" \
   "0" "fw never heard TASK_LOST (or any end)"

sched_cmd fw echo reconcile
sched_cmd fw reconcile
rec_lines () { sed -n '/^echo reconcile$/,$p' "$T/fw.log" | grep -E "^status fw-[1-4] TASK_RUNNING REASON_RECONCILIATION a-"; }
four_rec () { [ "$(rec_lines | wc -l)" -ge 4 ]; }
wait_for 10 four_rec
ok $? "RECONCILE through the new master: the four tasks RUNNING"
is "$(rec_lines | awk '{ print $2, $5 }' | sort | tr '\n' ' ')" \
   "$(jq -r '.[] | "\(.id) \(.agent_id)"' <<<"$tasks_before" | sort | tr '\n' ' ')" \
   "each on the agent it ran on"

sched_cmd fw kill fw-1
wait_line 20 fw '^status fw-1 TASK_KILLED '
ok $? "a kill through the new master reaches the agent (TASK_KILLED)"
done_killed () {
    [ "$(master_state | jq '[.completed_tasks[] | select(.id == "fw-1" and .state == "TASK_KILLED")] | length')" -eq 1 ]
}
wait_for 10 done_killed
ok $? "/state lists fw-1 as TASK_KILLED"

# The allocator's books were rebuilt from the agents' reports: only the
# one freed cpu is offered, so of three more tasks exactly one starts.
sched_cmd fw launch 3
sched_cmd fw revive
wait_line 20 fw '^status fw-5 TASK_RUNNING '
ok $? "a new task runs on the freed cpu"
sleep 2
is "$(grep -cE '^launch .* fw-6( |$)' "$T/fw.log")" "0" \
   "and nothing more is launched: the four others' resources stay allocated"
is "$(fw_tasks "$f" TASK_RUNNING)" "4" "fw runs four tasks again"

done_testing
