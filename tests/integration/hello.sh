#!/bin/bash
# The first offer cycle end to end: a master and two agents on 127.0.0.1,
# the hello framework running 20 tasks, checked through the master's
# /state, the agents' sandbox files and the cairn CLI.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

start_master --allocation-interval=200ms
ok $? "master starts and answers /health"
# One cpu each: 20 tasks of 0.1 cpus cannot all fit on one agent.
start_agent agent1 --resources="cpus:1;mem:1024;ports:[31000-31099]"
ok $? "agent1 registers"
start_agent agent2 --resources="cpus:1;mem:1024;ports:[31100-31199]"
ok $? "agent2 registers"

timeout 120 "$HELLO_BIN" --master="$MASTER" --tasks=20 >"$T/hello.out" 2>&1
is "$?" "0" "hello runs 20 tasks and exits 0"
LOGS+=("$T/hello.out")      # the framework library is checked for reports too
like "$(tail -3 "$T/hello.out")" "20 of 20 tasks finished, 0 did not" "hello reports 20 of 20 finished"

state=$(master_state)
is "$(jq '[.tasks[], .completed_tasks[]] | map(select(.state == "TASK_FINISHED")) | length' <<<"$state")" \
   "20" "the master's /state shows 20 tasks FINISHED"
is "$(jq '[.tasks[], .completed_tasks[]] | map(.id) | unique | length' <<<"$state")" \
   "20" "20 distinct task ids"
a1=$(jq -r '.agents[] | select(.hostname == "agent1") | .id' <<<"$state")
a2=$(jq -r '.agents[] | select(.hostname == "agent2") | .id' <<<"$state")
n1=$(jq --arg a "$a1" '.completed_tasks | map(select(.agent_id == $a)) | length' <<<"$state")
n2=$(jq --arg a "$a2" '.completed_tasks | map(select(.agent_id == $a)) | length' <<<"$state")
diag "agent1 ran $n1 tasks, agent2 ran $n2"
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ]
ok $? "both agents ran some of the tasks"
is "$((n1 + n2))" "20" "every task ran on one of the two agents"
is "$(jq '.agents | map(.used.cpus) | add' <<<"$state")" "0" "no resources stay in use after the tasks ended"
is "$(jq -r '.frameworks[0].removed' <<<"$state")" "true" "hello's framework is torn down after it stopped"

# The task's output, read through the agent's files endpoint.
fw=$(jq -r '.frameworks[0].id' <<<"$state")
task=$(jq -r --arg a "$a1" '.completed_tasks | map(select(.agent_id == $a)) | .[0].id' <<<"$state")
out=$(http_get "http://$(agent_http agent1)/files/read?framework_id=$fw&task_id=$task&file=stdout")
is "$out" "hello from $task" "the task's stdout holds its greeting"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$(agent_http agent1)/files/read?framework_id=$fw&task_id=$task&file=../x")
is "$code" "400" "the files endpoint refuses paths outside the sandbox"

# The CLI sees the same.
is "$("$CAIRN_BIN" --master="$MASTER" --json tasks --state=FINISHED | jq length)" "20" \
   "cairn tasks --state=FINISHED lists 20 tasks"
like "$("$CAIRN_BIN" --master="$MASTER" agents)" "agent1.*ACTIVE" "cairn agents shows agent1 active"
"$CAIRN_BIN" --master="$MASTER" bogus >/dev/null 2>&1
is "$?" "2" "cairn exits 2 on an unknown command"
"$CAIRN_BIN" --master=127.0.0.1:1 --timeout=500ms agents >/dev/null 2>&1
is "$?" "1" "cairn exits 1 when no master answers"

# Failures are reported with the exit status.
timeout 60 "$HELLO_BIN" --master="$MASTER" --tasks=2 --command='echo oops >&2; exit 3' \
    >"$T/fail.out" 2>&1
is "$?" "1" "hello exits 1 when its tasks fail"
like "$(cat "$T/fail.out")" "TASK_FAILED on agent[12]: exited with status 3" \
     "a failed task is reported with its exit status"

"$MASTER_BIN" --bogus-flag >/dev/null 2>&1
is "$?" "2" "cairn-master exits 2 on an unknown flag"
"$AGENT_BIN" --master="$MASTER" --resources="cpus:x" >/dev/null 2>&1
is "$?" "2" "cairn-agent exits 2 on bad resources"

done_testing
