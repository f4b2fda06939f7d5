#!/bin/bash
# cairn-batch run against a master and two agents: count and array runs
# with per-index output (collected through the agents' files endpoint),
# CAIRN_ARRAY_INDEX, retries (a task that fails twice then succeeds),
# dependency order and a failed dependency, max-parallel, the summary and
# exit codes, progress lines, cancel by signal, a command that does not
# exist, malformed job files refused before anything runs, and an
# unreachable master.
#
# Some tasks leave marks in files under $T: a test's own witness of what
# ran and when, independent of what cairn-batch reports.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

BATCH=$B/frameworks/batch/cairn-batch
json_ok () {            # json_ok URL JQ-FILTER: the JSON at URL makes FILTER true
    local body
    body=$(curl -sf --max-time 10 "$1") && jq -e "$2" <<<"$body" >/dev/null
}
start_master --allocation-interval=100ms
ok_or_bail $? "master starts"
start_agent agent1 --resources="cpus:2;mem:2048"
ok_or_bail $? "agent1 registers"
start_agent agent2 --resources="cpus:2;mem:2048"
ok_or_bail $? "agent2 registers"

brun () {               # brun NAME ARGS...: runs cairn-batch run, output in $T/NAME.out/.err
    local name=$1
    shift
    timeout 120 "$BATCH" run --master="$MASTER" "$@" >"$T/$name.out" 2>"$T/$name.err"
    local rc=$?
    LOGS+=("$T/$name.err")
    return $rc
}

# Count, with per-index output collected.
brun count --count=4 --output="$T/out" --shell -- \
    'echo "index $CAIRN_ARRAY_INDEX of $CAIRN_BATCH_JOB"; echo "err $CAIRN_ARRAY_INDEX" >&2'
is "$?" "0" "a count run exits 0 when every task succeeded"
like "$(cat "$T/count.out")" "4 tasks: 4 succeeded, 0 failed, 0 retried, 0 cancelled" \
     "the summary counts them"
like "$(cat "$T/count.out")" "wall time [0-9.]+ s, [0-9.]+ tasks/s" "the summary gives the wall time and rate"
got=""
for i in 0 1 2 3; do got="$got$(cat "$T/out/job/$i.stdout" 2>/dev/null)|"; done
is "$got" "index 0 of job|index 1 of job|index 2 of job|index 3 of job|" \
   "each index's stdout is collected, with its own CAIRN_ARRAY_INDEX"
is "$(cat "$T/out/job/2.stderr" 2>/dev/null)" "err 2" "stderr is collected too"
like "$(cat "$T/count.err")" "progress: 4/4 ended" "plain progress lines when stderr is not a terminal"

# An array of indices.
brun array --array=5-7 --id=sq --output="$T/arr" --shell -- 'echo $((CAIRN_ARRAY_INDEX * 2))'
is "$?" "0" "an array run exits 0"
is "$(cat "$T/arr/sq/5.stdout" "$T/arr/sq/6.stdout" "$T/arr/sq/7.stdout" 2>/dev/null | tr '\n' ' ')" \
   "10 12 14 " "array indices 5..7, one task each"
test ! -e "$T/arr/sq/4.stdout" && test ! -e "$T/arr/sq/8.stdout"
ok $? "no index outside the range ran"

# Retries: fails twice, then succeeds (a counter file outlives attempts).
brun retry --retries=2 --shell -- \
    "n=\$(cat $T/cnt 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n > $T/cnt; echo attempt \$n >&2; [ \$n -ge 3 ]"
is "$?" "0" "a task that fails twice then succeeds, with --retries=2: exit 0"
is "$(cat "$T/cnt")" "3" "it ran exactly three times"
like "$(cat "$T/retry.out")" "1 succeeded, 0 failed, 2 retried" "the summary counts 2 retries"
brun noretry --retries=1 --shell -- \
    "n=\$(cat $T/cnt2 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n > $T/cnt2; echo try \$n failed >&2; exit 4"
is "$?" "1" "out of retries: exit 1"
is "$(cat "$T/cnt2")" "2" "one run and one retry"
like "$(cat "$T/noretry.out")" "0 succeeded, 1 failed, 1 retried" "the summary counts the failure"
like "$(cat "$T/noretry.out")" "failed: task job index 0 \(attempt job\.0\.2\): exit code 4" \
     "a failure is shown with its task id and exit code"
like "$(cat "$T/noretry.out")" "\| try 2 failed" "and the last lines of its stderr, read from its agent"

# Failures of several tasks, with their stderr.
brun fail --count=2 --shell -- 'echo "boom-$CAIRN_ARRAY_INDEX" >&2; exit 3'
is "$?" "1" "failed tasks: exit 1"
like "$(cat "$T/fail.out")" "index 1 \(attempt job\.1\.1\): exit code 3: exited with status 3" \
     "each failed task is listed"
like "$(cat "$T/fail.out")" "\| boom-1" "with its own stderr"

# Dependencies: c after b after a, whatever the order in the file.
cat >"$T/deps.json" <<EOF
{"jobs": [
  {"id": "c", "command": "echo c >> $T/order", "after": ["b"]},
  {"id": "a", "command": "sleep 1; echo a >> $T/order"},
  {"id": "b", "command": "echo b >> $T/order", "after": ["a"], "count": 2},
  {"id": "bad", "command": "exit 1"},
  {"id": "never", "command": "echo never >> $T/order", "after": ["bad", "a"]}
]}
EOF
brun deps "$T/deps.json"
is "$?" "1" "a job file with a failing job: exit 1"
is "$(tr '\n' ' ' <"$T/order")" "a b b c " "jobs ran in dependency order, the failed dependency's dependent never"
like "$(cat "$T/deps.out")" "job never FAILED: 0 of 1 succeeded; job bad, which it comes after, did not succeed" \
     "the dependent of a failed job says why it did not run"
like "$(cat "$T/deps.out")" "job c SUCCEEDED" "the others succeeded"

# max-parallel: at most 2 of 6 at a time (each task counts the running ones).
mkdir -p "$T/par"
brun par --count=6 --max-parallel=2 --shell -- \
    "touch $T/par/\$CAIRN_ARRAY_INDEX.run; ls $T/par | grep -c run > $T/par/\$CAIRN_ARRAY_INDEX.seen; sleep 0.5; rm $T/par/\$CAIRN_ARRAY_INDEX.run"
is "$?" "0" "a run with --max-parallel=2 succeeds"
is "$(ls "$T/par" | grep -c seen)" "6" "all six ran"
most=$(cat "$T/par"/*.seen | sort -n | tail -1)
[ "${most:-9}" -ge 1 ] && [ "${most:-9}" -le 2 ]
ok $? "never more than two at a time (at most $most seen)"

# A job file is checked in full before anything runs.
cat >"$T/bad.json" <<EOF
[{"id": "first", "command": "touch $T/ran-first"},
 {"id": "second", "command": "true", "cpus": "lots"}]
EOF
brun bad "$T/bad.json"
is "$?" "2" "a malformed job file: exit 2"
is "$(cat "$T/bad.err")" "cairn-batch run: job 'second' ([1]): [1].cpus must be a number from 0.001 to 1024" \
   "the error names the job and the field"
test ! -e "$T/ran-first"
ok $? "nothing ran"
cat >"$T/cycle.json" <<EOF
{"jobs": [{"id": "x", "command": "touch $T/ran-x", "after": ["y"]},
          {"id": "y", "command": "true", "after": ["x"]}]}
EOF
brun cycle "$T/cycle.json"
is "$?" "2" "a dependency cycle: exit 2"
like "$(cat "$T/cycle.err")" "job '[xy]' \(jobs\[[01]\]\): jobs\[[01]\]\.after makes a cycle" "the cycle is named"
brun unknown "$T/nosuch.json"
is "$?" "2" "a job file that does not exist: exit 2"
brun typo --count=1 --cpu=1 -- true
is "$?" "2" "an unknown option: exit 2"

# A command that does not exist.
brun missing -- /no/such/program
is "$?" "1" "a program that does not exist: exit 1"
like "$(cat "$T/missing.out")" "could not start the task: .*No such file or directory" \
     "its task FAILED with a message saying so"
brun missing-sh --shell -- no_such_command_xyz
is "$?" "1" "a shell command that does not exist: exit 1"
like "$(cat "$T/missing-sh.out")" "exit code 127: .*not found" "the shell's 127 is explained"

# An unreachable master.
port=$(free_port)
timeout 60 "$BATCH" run --master=127.0.0.1:"$port" --connect-timeout=2s -- true >"$T/nomaster.out" 2>&1
is "$?" "1" "an unreachable master: exit 1"
like "$(cat "$T/nomaster.out")" "no master answered at 127.0.0.1:$port within 2.0 s" "with a clear error"

# Cancel: SIGINT cancels what runs; the tasks are killed.
"$BATCH" run --master="$MASTER" --count=2 --id=sleepy -- sleep 300 \
    >"$T/cancel.out" 2>"$T/cancel.err" &
pid=$!
LOGS+=("$T/cancel.err")
wait_for 30 json_ok http://$MASTER_HTTP/state '[.tasks[] | select(.id | startswith("sleepy.")) | select(.state == "TASK_RUNNING")] | length == 2'
ok $? "two sleeping tasks run"
kill -INT $pid
wait_for 60 sh -c "! kill -0 $pid"
ok $? "SIGINT ends the run"
kill -KILL $pid 2>/dev/null
wait $pid
is "$?" "1" "interrupted: exit 1"
like "$(cat "$T/cancel.out")" "2 tasks: 0 succeeded, 0 failed, 0 retried, 2 cancelled" "both tasks were cancelled"
wait_for 30 json_ok http://$MASTER_HTTP/state '[.completed_tasks[] | select(.id | startswith("sleepy.")) | select(.state == "TASK_KILLED")] | length == 2'
ok $? "the master saw both killed"

# A progress bar on a terminal.
if command -v script >/dev/null; then
    script -qec "timeout 60 $BATCH run --master=$MASTER --count=3 -- true" /dev/null >"$T/tty.out" 2>&1
    like "$(tr '\r' '\n' <"$T/tty.out")" "\[#+\] 100%  3/3" "on a terminal, a progress bar"
else
    ok 0 "# SKIP script(1) is not installed"
fi

done_testing
