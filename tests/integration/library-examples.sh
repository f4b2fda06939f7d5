#!/bin/bash
# The example schedulers shipped in $(docdir)/examples, run as a reader of
# doc/libframework.md would run them, against a master and two agents:
# their output, their exit status, and what the master's /state says
# about their frameworks and tasks afterwards.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
EX=$B/frameworks/examples
for e in hello tutorial killtask failover dispatch; do
    [ -x "$EX/$e/$e" ] || skip_all "$EX/$e/$e is not built"
done

start_master --allocation-interval=100ms
ok_or_bail $? "master starts"
start_agent agent1 --resources="cpus:1;mem:512;ports:[31000-31009]"
ok_or_bail $? "agent1 registers"
start_agent agent2 --resources="cpus:1;mem:512;ports:[31010-31019]"
ok_or_bail $? "agent2 registers"

# run NAME ARGS...: runs an example (60 s at most), output in $T/NAME.out,
# checked for sanitizer reports like the daemons' logs.
run () {
    local name=$1
    shift
    timeout 60 "$EX/${name%%.*}/${name%%.*}" "$@" >"$T/$name.out" 2>&1
    local rc=$?
    LOGS+=("$T/$name.out")
    return $rc
}
out () { cat "$T/$1.out"; }
task_state () {          # task_state FRAMEWORK_ID TASK_ID: its state in /state
    master_state | jq -r --arg f "$1" --arg t "$2" \
        '[.tasks[], .completed_tasks[]] | map(select(.framework_id == $f and .id == $t)) | .[0].state'
}
fw_field () {            # fw_field FRAMEWORK_ID FIELD
    master_state | jq -r --arg f "$1" --arg k "$2" '.frameworks[] | select(.id == $f) | .[$k]'
}

# hello: the first example.
run hello --master="$MASTER" --tasks=3
is "$?" "0" "hello exits 0"
like "$(out hello)" "3 of 3 tasks finished, 0 did not" "hello: 3 of 3 tasks finished"

# The tutorial's program.
run tutorial "$MASTER"
is "$?" "0" "tutorial exits 0"
like "$(out tutorial)" "^tutorial: registered as framework f-" "tutorial: registered"
for i in 1 2 3; do
    like "$(out tutorial)" "tutorial: launching tutorial-$i on agent[12]" "tutorial: launches tutorial-$i"
    like "$(out tutorial)" "tutorial: task tutorial-$i is TASK_FINISHED: exited with status 0" \
         "tutorial: tutorial-$i FINISHED"
done
is "$(tail -1 "$T/tutorial.out")" "tutorial: 3 of 3 tasks finished" "tutorial: its summary line"
fw=$(awk '/registered as framework/ { print $NF; exit }' "$T/tutorial.out")
# The goodbye left before the program exited; the master acts on it
# when it arrives.
torn_down () { [ "$(fw_field "$fw" removed)" = true ]; }
wait_for 10 torn_down
ok $? "tutorial: its framework is torn down at the end"
run tutorial.fail "$MASTER" 'exit 4'
is "$?" "1" "tutorial exits 1 when its tasks fail"
like "$(out tutorial.fail)" "is TASK_FAILED: exited with status 4" "tutorial: reports the failure"
run tutorial.usage
is "$?" "2" "tutorial exits 2 without a master address"
run tutorial.badmaster "nohost"
is "$?" "2" "tutorial exits 2 on a malformed master address"
like "$(out tutorial.badmaster)" "tutorial: 'nohost' is not HOST:PORT" \
     "tutorial: prints cairn_strerror_last"

# killtask: TASK_KILLING, then TASK_KILLED.
run killtask "$MASTER" 1
is "$?" "0" "killtask exits 0"
ks=$(grep -oE 'task sleeper is TASK_[A-Z]+' "$T/killtask.out" | awk '{ print $4 }' | paste -sd' ')
is "$ks" "TASK_STARTING TASK_RUNNING TASK_KILLING TASK_KILLED" \
   "killtask: sleeper goes STARTING, RUNNING, KILLING, KILLED"
like "$(out killtask)" "TASK_KILLING \(REASON_KILLED_BY_SCHEDULER\): .*SIGTERM.* 1000 ms" \
     "killtask: the kill grace period of 1 s reaches the agent"
like "$(out killtask)" "TASK_KILLED \(REASON_KILLED_BY_SCHEDULER\)" "killtask: KILLED by the scheduler"
fw=$(awk '/registered as framework/ { print $NF; exit }' "$T/killtask.out")
is "$(task_state "$fw" sleeper)" "TASK_KILLED" "/state: sleeper is TASK_KILLED"
run killtask.usage "$MASTER" -3
is "$?" "2" "killtask exits 2 on a negative grace period"

# failover: first run, stop with failover; the task keeps running.
run failover.1 "$MASTER"
is "$?" "0" "failover (first run) exits 0"
like "$(out failover.1)" "task keeper is TASK_RUNNING" "failover: keeper RUNNING"
like "$(out failover.1)" "stopping with failover" "failover: stops with failover"
fw=$(awk '/resume with/ { getline; print $NF; exit }' "$T/failover.1.out")
like "$fw" "^f-" "failover: prints its framework id ($fw)"
fw_disconnected () { [ "$(fw_field "$fw" connected)" = false ]; }
wait_for 10 fw_disconnected
is "$(fw_field "$fw" connected) $(fw_field "$fw" removed) $(fw_field "$fw" failover_timeout_s)" \
   "false false 60" "/state: the framework is disconnected, not removed, failover timeout 60 s"
is "$(task_state "$fw" keeper)" "TASK_RUNNING" "/state: keeper is still RUNNING"
# Second run: re-register with the id, reconcile, tear down.
run failover.2 "$MASTER" "$fw"
is "$?" "0" "failover (second run, with the framework id) exits 0"
like "$(out failover.2)" "re-registered as framework $fw" "failover: re-registered with the same id"
like "$(out failover.2)" "task keeper is TASK_RUNNING \(REASON_RECONCILIATION\)" \
     "failover: reconciliation reports keeper RUNNING"
like "$(out failover.2)" "keeper survived the failover; tearing the framework down" \
     "failover: keeper survived"
like "$(tail -1 "$T/failover.2.out")" "framework $fw torn down" "failover: torn down"
keeper_killed () { [ "$(task_state "$fw" keeper)" = TASK_KILLED ]; }
wait_for 15 keeper_killed
is "$(task_state "$fw" keeper)" "TASK_KILLED" "/state: teardown killed keeper"
is "$(fw_field "$fw" removed)" "true" "/state: the framework is removed"
run failover.3 "$MASTER" "$fw"
is "$?" "1" "failover with a torn-down framework id exits 1"
like "$(out failover.3)" "failover: the master refused the framework: .*torn down" \
     "failover: the error callback explains why"

# dispatch: callbacks in the program's own poll loop.
run dispatch "$MASTER" 6 "sleep 1"
is "$?" "0" "dispatch exits 0"
is "$(grep -c 'is TASK_FINISHED' "$T/dispatch.out")" "6" "dispatch: 6 tasks FINISHED"
like "$(out dispatch)" "dispatch: [0-9]+ launched, [0-9]+ ended" "dispatch: its own timer ran in the same loop"
is "$(tail -1 "$T/dispatch.out")" "dispatch: 6 of 6 tasks finished" "dispatch: its summary line"

is "$(master_state | jq '[.tasks[] | select(.state == "TASK_RUNNING")] | length')" "0" \
   "no example left a task running"
done_testing
