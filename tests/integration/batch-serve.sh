#!/bin/bash
# cairn-batch serve: the persistent queue, its REST API and its clients
# (cairn-batch submit|status|wait|cancel|logs and the same through
# `cairn batch`). The service is restarted in the middle of a job, and
# every task runs exactly once overall; the framework keeps its id.
# Also: cancel, logs read from the agents, a malformed submission refused
# whole, scheduled jobs (trigger, overlap skip and queue) surviving a
# restart.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

BATCH=$B/frameworks/batch/cairn-batch
json_ok () {            # json_ok URL JQ-FILTER: the JSON at URL makes FILTER true
    local body
    body=$(curl -sf --max-time 10 "$1") && jq -e "$2" <<<"$body" >/dev/null
}
start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=10
ok_or_bail $? "master starts"
start_agent agent1 --resources="cpus:2;mem:2048"
ok_or_bail $? "agent1 registers"
start_agent agent2 --resources="cpus:2;mem:2048"
ok_or_bail $? "agent2 registers"

API_PORT=$(free_port)
API=127.0.0.1:$API_PORT
export CAIRN_BATCH_API=$API
runs=0
serve () {
    runs=$((runs + 1))
    run_bg "serve$runs" "$BATCH" serve --master="$MASTER" --state-dir="$T/state" \
        --api-port="$API_PORT" --log-level=debug
    eval "PID_serve=\$PID_serve$runs"
    wait_for 20 json_ok http://$API/health '.registered'
}
stop_serve () {
    kill -TERM "$PID_serve"
    wait_for 20 sh -c "! kill -0 $PID_serve"
    local rc=$?
    wait "$PID_serve" 2>/dev/null
    return $rc
}
job_field () {          # job_field JOB JQ-FILTER
    curl -sf "http://$API/v1/jobs/$1" | jq -r "$2"
}

serve
ok_or_bail $? "the service starts and registers"
fw1=$(curl -sf "http://$API/v1/info" | jq -r .framework_id)

# A job of 8 tasks, 4 at a time; each marks that it ran, then sleeps.
"$BATCH" submit --id=eight --count=8 --max-parallel=4 --shell -- \
    "echo \$CAIRN_ARRAY_INDEX >> $T/ran; echo out-\$CAIRN_ARRAY_INDEX; echo err-\$CAIRN_ARRAY_INDEX >&2; sleep 2" \
    >"$T/submit.out" 2>&1
is "$?" "0" "submit exits 0"
is "$(cat "$T/submit.out")" "submitted job eight" "submit names the job"
wait_for 30 json_ok http://$API/v1/jobs/eight '.running > 0'
ok $? "the job runs"
wait_for 30 test -s "$T/ran"
ok $? "its first tasks started"

# Restart the service in the middle of the job.
stop_serve
ok $? "the service stops on SIGTERM (its tasks go on)"
running=$(master_state | jq '[.tasks[] | select(.id | startswith("eight."))] | length')
diag "$running task(s) ran on while the service was down"
serve
ok $? "the service starts again on its state dir"
is "$(curl -sf "http://$API/v1/info" | jq -r .framework_id)" "$fw1" \
   "it took over its framework (same id)"
timeout 120 "$BATCH" wait eight >"$T/wait.out" 2>&1
is "$?" "0" "wait exits 0 when the job succeeded"
like "$(cat "$T/wait.out")" "job eight SUCCEEDED: 8 of 8 tasks succeeded" "wait says how it ended"
is "$(wc -l <"$T/ran")" "8" "eight runs in all"
is "$(sort -n "$T/ran" | uniq | tr '\n' ' ')" "0 1 2 3 4 5 6 7 " "every index exactly once"
is "$(master_state | jq '[.completed_tasks[] | select(.id | startswith("eight."))] | length')" "8" \
   "the master saw eight tasks end"
is "$(master_state | jq '[.completed_tasks[] | select(.id | startswith("eight.")) | select(.id | endswith(".1") | not)] | length')" \
   "0" "all of them first attempts: none was run again"

# Restart the master in the middle of a job: the agents and the service
# re-register on their own, and every task still runs exactly once.
"$BATCH" submit --id=nine --count=6 --max-parallel=3 --shell -- \
    "echo \$CAIRN_ARRAY_INDEX >> $T/ran9; sleep 2" >/dev/null
wait_for 30 test -s "$T/ran9"
ok $? "job nine runs"
stop_master
ok $? "the master stops in the middle of job nine"
restart_master
ok $? "the master starts again on its work dir"
timeout 120 "$BATCH" wait nine >"$T/wait9.out" 2>&1
is "$?" "0" "job nine succeeds across the master restart"
is "$(sort -n "$T/ran9" | tr '\n' ' ')" "0 1 2 3 4 5 " "every index of it ran exactly once"
is "$(curl -sf "http://$API/v1/info" | jq -r .framework_id)" "$fw1" \
   "the service kept its framework through the master restart"

# Status and logs, through cairn-batch and the one CLI.
like "$("$BATCH" status)" "eight +SUCCEEDED +0 +8 +8 +0" "status lists the job"
like "$("$B/cli/cairn" batch status eight)" "eight +SUCCEEDED" "cairn batch status shows it too"
is "$("$B/cli/cairn" --json batch status eight | jq -r .state)" "SUCCEEDED" "and as JSON"
is "$("$BATCH" logs --index=5 eight)" "out-5" "logs prints a task's stdout, read from its agent"
is "$("$B/cli/cairn" batch logs --index=6 --stderr eight)" "err-6" "cairn batch logs --stderr"
is "$("$BATCH" status --tasks --json eight | jq '[.tasks[] | select(.state == "SUCCEEDED")] | length')" \
   "8" "status --tasks lists every task"

# Dependencies and a failure with its stderr.
"$BATCH" submit --id=boom --count=2 --shell -- 'echo "bad $CAIRN_ARRAY_INDEX" >&2; exit 7' >/dev/null
"$BATCH" submit --id=later --after=boom -- true >/dev/null
timeout 60 "$BATCH" wait boom later >"$T/wait2.out" 2>&1
is "$?" "1" "wait exits 1 when a job failed"
is "$(job_field later .state)" "FAILED" "a job after a failed one fails"
wait_for 20 json_ok http://$API/v1/jobs/boom '.failures[0].stderr == "bad 0"'
ok $? "a failed task's stderr tail is kept"
like "$("$BATCH" status boom)" "failed: exit code 7" "status shows failed tasks with their exit code"

# Cancel.
"$BATCH" submit --id=sleepy --count=2 -- sleep 300 >/dev/null
wait_for 30 json_ok http://$API/v1/jobs/sleepy '.running == 2'
ok $? "two sleepers run"
"$B/cli/cairn" batch cancel sleepy >/dev/null
is "$?" "0" "cairn batch cancel exits 0"
wait_for 30 json_ok http://$API/v1/jobs/sleepy '.state == "CANCELLED" and .cancelled == 2'
ok $? "the job is cancelled, its tasks killed"
is "$(master_state | jq '[.completed_tasks[] | select(.id | startswith("sleepy.")) | select(.state == "TASK_KILLED")] | length')" \
   "2" "the master saw both killed"
"$BATCH" cancel sleepy >/dev/null 2>&1
is "$?" "1" "cancelling an ended job fails"

# A malformed submission is refused whole.
cat >"$T/bad.json" <<EOF
{"jobs": [{"id": "fine", "command": "true"}, {"id": "oops", "command": "true", "count": 0}]}
EOF
"$BATCH" submit "$T/bad.json" >"$T/bad.out" 2>&1
is "$?" "1" "a malformed job file: submit fails"
like "$(cat "$T/bad.out")" "job 'oops' \(jobs\[1\]\): jobs\[1\]\.count must be an integer from 1 to" \
     "the error names the job and the field"
is "$(curl -s "http://$API/v1/jobs/fine" -o /dev/null -w '%{http_code}')" "404" \
   "no job of the file was added"
"$BATCH" submit --id=eight -- true >/dev/null 2>&1
is "$?" "1" "a job id already in use is refused"

# Scheduled jobs: never due during the test; run by trigger.
"$BATCH" submit --id=nightly --schedule='0 3 1 1 *' --overlap=skip -- sleep 3 >"$T/sched.out" 2>&1
is "$(cat "$T/sched.out")" "scheduled job nightly" "a job with a schedule is scheduled"
"$BATCH" submit --id=queued --schedule='0 3 1 1 *' --overlap=queue --shell -- \
    "echo start >> $T/queued; sleep 2; echo end >> $T/queued" >/dev/null
like "$("$BATCH" trigger nightly)" "started job nightly-1" "trigger starts a run"
like "$("$BATCH" trigger nightly)" "skipped: the last run is still running" \
     "overlap skip: a second run while the first runs is skipped"
like "$("$BATCH" trigger queued)" "started job queued-1" "a run of the queue schedule"
like "$("$BATCH" trigger queued)" "started job queued-2" "overlap queue: a second run is queued"
is "$(job_field queued-2 .waits_for)" "queued-1" "it waits for the first"
timeout 60 "$BATCH" wait queued-2 nightly-1 >/dev/null
is "$?" "0" "both runs succeed"
is "$(tr '\n' ' ' <"$T/queued")" "start end start end " "the queued run started after the first ended"

stop_serve
ok $? "the service stops again"
serve
ok $? "and starts again"
is "$("$BATCH" schedules --json | jq -r '[.schedules[].id] | join(" ")')" "nightly queued" \
   "the schedules survived the restart"
is "$("$BATCH" schedules --json | jq '.schedules[0].runs')" "1" "with their runs counted"
like "$("$BATCH" trigger nightly)" "started job nightly-2" "the next run has the next number"
"$BATCH" unschedule queued >/dev/null
is "$("$BATCH" schedules --json | jq '.schedules | length')" "1" "unschedule removes a schedule"
is "$("$BATCH" status --json | jq '[.jobs[] | select(.id == "eight")] | length')" "1" \
   "the finished jobs are still listed after the restarts"

"$B/cli/cairn" batch bogus >/dev/null 2>&1
is "$?" "2" "cairn batch: an unknown command is a usage error"
"$BATCH" status --api=127.0.0.1:1 >/dev/null 2>&1
is "$?" "1" "no service at --api: exit 1"

done_testing
