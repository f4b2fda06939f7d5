#!/bin/bash
# The cairn command line against real daemons: every command, with human
# and --json output; status of a single master; cairn run's exit status and streamed output; logs,
# --tail and --follow; kill and teardown; agent drain (surviving a master
# restart), undrain and gone; the event stream; top; and the exit status
# of usage errors (2) and failed operations (1).
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
command -v jq >/dev/null || skip_all "jq is not installed"
C=$CAIRN_BIN

start_master --allocation-interval=100ms
ok_or_bail $? "master starts"
export CAIRN_MASTER=$MASTER
# The event stream, followed from the start (checked at the end).
run_bg events "$C" --json events --follow
wait_for 10 grep -q SUBSCRIBED "$T/events.log"
ok $? "cairn events --follow subscribes"
start_agent a1 --resources="cpus:2;mem:1024;ports:[31000-31009]"
ok_or_bail $? "agent a1 registers"
start_agent a2 --resources="cpus:2;mem:1024;ports:[32000-32009]"
ok_or_bail $? "agent a2 registers"

# --- status ---------------------------------------------------------------
out=$("$C" status)
is "$?" "0" "cairn status of a single master exits 0"
like "$out" "MASTER +m-[0-9a-f]+ \(single\), version " "it names the master, single"
like "$out" "HA +none: a single master" "it says there is no HA"
like "$out" "AGENTS +2 active" "it counts the agents"
json=$("$C" status --json)
is "$(jq -r '(.ha == null), .leading, .master.role, .summary.agents.active' <<<"$json" | paste -sd' ')" \
   "true true single 2" "cairn status --json: no .ha, leading, single, the summary"
"$C" status extra >/dev/null 2>&1
is "$?" "2" "cairn status with an argument: exit 2"
"$C" --master=127.0.0.1:1 --timeout=1s status >/dev/null 2>&1
is "$?" "2" "cairn status with no master answering: exit 2"

# --- listing -------------------------------------------------------------
out=$("$C" agents)
ok $? "cairn agents"
like "$out" "HOSTNAME" "prints a table with a header"
like "$out" "a1 +ACTIVE" "with a1 active"
is "$("$C" agents --json | jq -r 'map(.hostname) | sort | join(",")')" "a1,a2" \
   "cairn agents --json (global flag after the command) lists both agents"
is "$("$C" --json agents | jq length)" "2" "and before it"
a1=$("$C" --json agents | jq -r '.[] | select(.hostname == "a1") | .id')
a2=$("$C" --json agents | jq -r '.[] | select(.hostname == "a2") | .id')

# --- cairn run -----------------------------------------------------------
"$C" run --name=hello -- sh -c 'echo to-stdout; echo to-stderr >&2' >"$T/run.out" 2>"$T/run.err"
is "$?" "0" "cairn run of a command that succeeds exits 0"
is "$(cat "$T/run.out")" "to-stdout" "its stdout is streamed to stdout"
like "$(cat "$T/run.err")" "to-stderr" "its stderr to stderr"
"$C" run -- sh -c 'exit 7' >/dev/null 2>&1
is "$?" "7" "a task's exit status is cairn run's"
"$C" run -- sh -c 'kill -TERM $$' >/dev/null 2>"$T/sig.err"
is "$?" "143" "a task killed by a signal: 128 + the signal"
like "$(cat "$T/sig.err")" "TASK_FAILED.*signal 15" "saying so"
"$C" run -- /nonexistent/program >/dev/null 2>"$T/noexec.err"
rc=$?
[ "$rc" -ne 0 ]
ok $? "a command that does not exist: non-zero ($rc)"
like "$(cat "$T/noexec.err")" "nonexistent" "naming the command"
out=$("$C" run --name=envtask --cpus=0.5 --mem=48 --env=GREETING=hi -- sh -c 'echo $GREETING' 2>/dev/null)
is "$out" "hi" "--env reaches the task"
task=$("$C" --json task envtask)
ok $? "cairn task --json"
is "$(jq -r '.resources.cpus' <<<"$task")" "0.5" "--cpus is the task's"
is "$(jq -r '.resources.mem' <<<"$task")" "48" "--mem is the task's"
is "$(jq -r '[.history[].state] | join(",")' <<<"$task")" "TASK_STAGING,TASK_STARTING,TASK_RUNNING,TASK_FINISHED" \
   "its status history"
last_msg=$(jq -r '.history[-1].message // empty' <<<"$task")
[ -n "$last_msg" ] && [ "$last_msg" = "$(jq -r '.message' <<<"$task")" ]
ok $? "each entry keeps its update's message (the last: '$last_msg')"
out=$("$C" task envtask)
like "$out" "TASK_FINISHED" "cairn task shows the history for people"
like "$out" "a[12]" "and the agent"

# --- logs ----------------------------------------------------------------
"$C" run --name=lines -- sh -c 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done' >/dev/null 2>&1
is "$("$C" logs lines | paste -sd' ')" "out1 out2 out3 out4 out5" "cairn logs prints stdout"
is "$("$C" logs --stderr lines | paste -sd' ')" "err1 err2 err3 err4 err5" "--stderr prints stderr"
is "$("$C" logs --tail=2 lines | paste -sd' ')" "out4 out5" "--tail=2 prints the last two lines"
# --follow: a task that writes over three seconds; the follower prints
# everything and ends when the task does.
"$C" run --name=slow -- sh -c 'for i in 1 2 3; do echo tick$i; sleep 1; done' >"$T/slow.run" 2>&1 &
runpid=$!
wait_for 20 bash -c "'$C' --json task slow | jq_e '.state == \"TASK_RUNNING\"'"
ok $? "the slow task runs"
timeout 30 "$C" logs --follow slow >"$T/follow.out" 2>"$T/follow.err"
is "$?" "0" "cairn logs --follow returns when the task ends"
is "$(paste -sd' ' "$T/follow.out")" "tick1 tick2 tick3" "having printed all of its output"
wait $runpid
is "$?" "0" "cairn run of the slow task exits 0"
"$C" logs nosuchtask >/dev/null 2>"$T/err"
is "$?" "1" "logs of an unknown task: exit 1"
like "$(cat "$T/err")" "nosuchtask" "naming it"

# --- tasks with filters ---------------------------------------------------
is "$("$C" --json tasks --state=TASK_FINISHED | jq -r 'map(.id) | index("hello") != null')" "true" \
   "cairn tasks --state=TASK_FINISHED includes a finished task"
is "$("$C" --json tasks --state=TASK_RUNNING | jq length)" "0" "and --state=TASK_RUNNING none now"
n1=$("$C" --json tasks --agent="$a1" | jq length)
n2=$("$C" --json tasks --agent="$a2" | jq length)
nall=$("$C" --json tasks | jq length)
is "$((n1 + n2))" "$nall" "--agent splits the tasks between the two agents ($n1 + $n2)"
fw=$("$C" --json tasks | jq -r '.[] | select(.id == "hello") | .framework_id')
is "$("$C" --json tasks --framework="$fw" | jq -r 'map(.id) | join(",")')" "hello" "--framework"
like "$("$C" tasks)" "FINISHED" "cairn tasks prints a table"
like "$("$C" frameworks)" "cairn-run" "cairn frameworks lists the one-shot frameworks"
is "$("$C" --json frameworks | jq -r 'map(.name) | unique | join(",")')" "cairn-run" "--json too"
"$C" state | jq_e '.agents and .frameworks' >/dev/null
ok $? "cairn state prints the master's /state"

# --- kill and teardown ---------------------------------------------------
"$C" run --name=victim -- sleep 300 >/dev/null 2>"$T/victim.err" &
victim=$!
wait_for 20 bash -c "'$C' --json task victim | jq_e '.state == \"TASK_RUNNING\"'"
ok $? "a long task runs"
"$C" kill victim
is "$?" "0" "cairn kill"
wait $victim
rc=$?
[ "$rc" -ne 0 ]
ok $? "cairn run of the killed task exits non-zero ($rc)"
is "$("$C" --json task victim | jq -r .state)" "TASK_KILLED" "the task is KILLED"
"$C" kill victim >/dev/null 2>&1
is "$?" "1" "killing it again fails (exit 1)"

# A signal to cairn run (Ctrl-C, SIGTERM) kills its task, and cairn run
# ends with the task's status.
"$C" run --name=interrupted -- sleep 300 >/dev/null 2>"$T/int.err" &
ipid=$!
wait_for 20 bash -c "'$C' --json task interrupted | jq_e '.state == \"TASK_RUNNING\"'"
kill -TERM $ipid
wait_for 20 sh -c "! kill -0 $ipid"
ok $? "SIGTERM to cairn run ends it"
wait $ipid
is "$?" "143" "with the status of its task, killed by SIGTERM"
is "$("$C" --json task interrupted | jq -r .state)" "TASK_KILLED" "the task is KILLED"
like "$(cat "$T/int.err")" "killing task interrupted" "cairn run says so"

"$C" run --name=torndown -- sleep 300 >/dev/null 2>&1 &
tpid=$!
wait_for 20 bash -c "'$C' --json task torndown | jq_e '.state == \"TASK_RUNNING\"'"
fwid=$("$C" --json task torndown | jq -r .framework_id)
"$C" teardown "$fwid"
is "$?" "0" "cairn teardown FRAMEWORK"
wait_for 20 bash -c "'$C' --json task torndown | jq_e '.state == \"TASK_KILLED\"'"
ok $? "its task is killed"
wait_for 20 sh -c "! kill -0 $tpid"
ok $? "and the framework's process (cairn run) ends"
wait $tpid 2>/dev/null
"$C" teardown "$fwid" >/dev/null 2>&1
is "$?" "1" "tearing it down again fails (exit 1)"

# --- drain, across a master restart, and undrain -------------------------
"$C" run --name=drained --cpus=2 -- sleep 300 >/dev/null 2>&1 &
dpid=$!
wait_for 20 bash -c "'$C' --json task drained | jq_e '.state == \"TASK_RUNNING\"'"
dagent=$("$C" --json task drained | jq -r .agent_id)
dhost=$("$C" --json agents | jq -r --arg a "$dagent" '.[] | select(.id == $a) | .hostname')
other=$([ "$dhost" = a1 ] && echo a2 || echo a1)
"$C" agent drain "$dagent" --grace=1s
is "$?" "0" "cairn agent drain ID --grace=1s"
wait_for 20 bash -c "'$C' --json task drained | jq_e '.state == \"TASK_KILLED\"'"
ok $? "the draining agent's task is killed after the grace"
wait $dpid 2>/dev/null
wait_for 10 bash -c "'$C' --json agents | jq_e --arg a '$dagent' '.[] | select(.id == \$a) | .state == \"DRAINED\"'"
ok $? "the agent is DRAINED once no task is left"
like "$("$C" agents)" "$dhost +DRAINED" "cairn agents shows it"
like "$(http_get "http://$MASTER_HTTP/metrics")" "cairn_master_agents_draining 1" "/metrics counts it"
"$C" run --name=elsewhere -- sh -c 'echo $CAIRN_HOSTNAME' >"$T/elsewhere.out" 2>/dev/null
is "$(cat "$T/elsewhere.out")" "$other" "new work goes to the other agent ($other)"
stop_master
restart_master
ok $? "the master restarts"
wait_for 30 bash -c "'$C' --json agents | jq_e --arg a '$dagent' '.[] | select(.id == \$a) | .state == \"DRAINED\" or .state == \"DRAINING\"'"
ok $? "the drain survives the master restart"
"$C" agent undrain "$dagent"
is "$?" "0" "cairn agent undrain"
wait_for 10 bash -c "'$C' --json agents | jq_e --arg a '$dagent' '.[] | select(.id == \$a) | .state == \"ACTIVE\"'"
ok $? "the agent is ACTIVE again"
"$C" agent undrain "$dagent" >/dev/null 2>&1
is "$?" "0" "undrain is idempotent: again, exit 0"

# --- agent gone ----------------------------------------------------------
start_agent a3 --resources="cpus:1;mem:256"
a3=$("$C" --json agents | jq -r '.[] | select(.hostname == "a3") | .id')
kill -TERM "$PID_a3"; wait "$PID_a3" 2>/dev/null
"$C" agent gone "$a3"
is "$?" "0" "cairn agent gone ID"
wait_for 10 bash -c "'$C' --json agents | jq_e --arg a '$a3' '[.[] | select(.id == \$a and .state == \"ACTIVE\")] | length == 0'"
ok $? "the gone agent is no longer active"
"$C" agent gone nosuchagent >/dev/null 2>"$T/err"
is "$?" "1" "marking an unknown agent gone fails (exit 1)"

# --- top -----------------------------------------------------------------
"$C" run --name=busy -- sh -c 'while :; do :; done' >/dev/null 2>&1 &
bpid=$!
wait_for 20 bash -c "'$C' --json task busy | jq_e '.state == \"TASK_RUNNING\"'"
out=$(timeout 30 "$C" top --iterations=2 --interval=500ms)
is "$?" "0" "cairn top --iterations=2 ends by itself"
like "$out" "cpus \[" "it shows CPU utilization as a bar"
like "$out" "busy" "and the busiest task"
wait_for 20 sh -c "'$C' task busy | grep -q '^usage .*cpu-seconds'"
ok $? "cairn task shows a running task's usage"
"$C" kill busy
wait $bpid 2>/dev/null

# --- the event stream ------------------------------------------------------
# The follower started before the master restarted: it saw the first
# master's events, then said the feed ended, and failed.
wait_for 10 sh -c "! kill -0 $PID_events"
ok $? "cairn events --follow ends when its master goes away"
wait "$PID_events"
is "$?" "1" "with exit status 1"
like "$(grep -v '^{' "$T/events.log")" "the master ended the feed" "saying why"
for type in TASK_ADDED TASK_UPDATED AGENT_ADDED AGENT_UPDATED FRAMEWORK_ADDED FRAMEWORK_REMOVED; do
    grep -q "\"type\": *\"$type\"" "$T/events.log"
    ok $? "cairn events --follow saw $type"
done
grep '^{' "$T/events.log" | jq_e . >/dev/null
ok $? "every --json event line is JSON"
grep -q '"state": *"TASK_KILLED"' "$T/events.log"
ok $? "including the kill's TASK_KILLED"
out=$(timeout 30 "$C" events --for=1s)
is "$?" "0" "cairn events --for=1s returns"
like "$out" "SUBSCRIBED" "having printed the subscription for people"

# --- usage errors and failures -------------------------------------------
"$C" agnets >/dev/null 2>"$T/err"
is "$?" "2" "a mistyped command: exit 2"
like "$(cat "$T/err")" "did you mean agents" "with the closest command"
"$C" tasks --stat=x >/dev/null 2>"$T/err"
is "$?" "2" "a mistyped flag: exit 2"
like "$(cat "$T/err")" "did you mean --state" "with the closest flag"
"$C" agent dran x >/dev/null 2>"$T/err"
is "$?" "2" "a mistyped agent subcommand: exit 2"
like "$(cat "$T/err")" "drain" "suggesting drain"
"$C" --master=127.0.0.1:1 --timeout=1s agents >/dev/null 2>"$T/err"
is "$?" "1" "an unreachable master: exit 1"
like "$(cat "$T/err")" "127.0.0.1:1" "naming it"
done_testing
