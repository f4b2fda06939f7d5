#!/bin/bash
# Reconciliation and kill answers from the master (the scheduler runs in
# the library's dispatch mode): RECONCILE of all tasks gives every live
# task's latest state with REASON_RECONCILIATION; RECONCILE of named ids
# gives live and completed tasks' latest states, and TASK_UNKNOWN for an
# id the master never saw. KILL of an unknown id gives TASK_UNKNOWN /
# REASON_TASK_UNKNOWN; KILL of a completed task repeats its last state.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
[ -x "$SCHED_BIN" ] || skip_all "$SCHED_BIN is not built (make check builds it)"

# after MARK: r's output lines after the line "echo MARK".
after () {
    sed -n "/^echo $1\$/,\$p" "$T/r.log" | tail -n +2
}
after_count () {        # after_count MARK REGEX N: at least N lines after MARK match
    [ "$(after "$1" | grep -cE -- "$2")" -ge "$3" ]
}

start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=10
ok_or_bail $? "master starts"
start_agent agent1 --resources="cpus:4;mem:1024"
ok_or_bail $? "agent1 registers"
a1=$(master_state | jq -r '.agents[0].id')

start_sched r --name=r --dispatch --task-prefix=r --max-tasks=3 --task-resources="cpus:0.5;mem:64" \
    --refuse=60
for t in r1 r2 r3; do
    wait_line 30 r "^status $t TASK_RUNNING "
    ok $? "$t runs (callbacks in dispatch mode)"
done
sched_cmd r kill r1
wait_line 20 r '^status r1 TASK_KILLED '
ok $? "r1 is killed"

sched_cmd r echo all
sched_cmd r reconcile
wait_for 10 after_count all '^status ' 2
ok $? "RECONCILE of all tasks is answered"
sleep 1                 # anything more would have come by now
got=$(after all | grep '^status ' | sort)
printf '%s\n' "$got" | sed 's/^/#   /'
is "$(cut -d' ' -f2-5 <<<"$got")" \
   "r2 TASK_RUNNING REASON_RECONCILIATION $a1
r3 TASK_RUNNING REASON_RECONCILIATION $a1" \
   "it gives each live task's latest state with REASON_RECONCILIATION, and only those"

sched_cmd r echo named
sched_cmd r reconcile r1 r2 bogus-7
wait_for 10 after_count named '^status ' 3
ok $? "RECONCILE of three ids gets three answers"
sleep 1
got=$(after named | grep '^status ' | sort)
is "$(cut -d' ' -f2-5 <<<"$got")" \
   "bogus-7 TASK_UNKNOWN REASON_RECONCILIATION -
r1 TASK_KILLED REASON_RECONCILIATION $a1
r2 TASK_RUNNING REASON_RECONCILIATION $a1" \
   "completed r1 is KILLED, live r2 RUNNING, bogus-7 TASK_UNKNOWN with no agent"

sched_cmd r echo kills
sched_cmd r kill nobody-9
sched_cmd r kill r1
wait_for 10 after_count kills '^status ' 2
ok $? "both kills are answered"
sleep 1
like "$(after kills | grep '^status nobody-9 ')" \
     "^status nobody-9 TASK_UNKNOWN REASON_TASK_UNKNOWN - " \
     "KILL of an unknown task: TASK_UNKNOWN / REASON_TASK_UNKNOWN"
like "$(after kills | grep '^status r1 ')" "^status r1 TASK_KILLED [A-Z_]+ $a1 " \
     "KILL of a completed task repeats its last state (TASK_KILLED)"
is "$(after kills | grep -c '^status ')" "2" "one answer each"
is "$(fw_tasks "$(sched_fwid r)" TASK_RUNNING)" "2" "r2 and r3 still run"

sched_cmd r "stop teardown"
sched_wait r
is "$?" "0" "r stops cleanly"

done_testing
