#!/bin/bash
# Agent recovery: a task survives `kill -9` of its agent; the restarted
# agent (same work dir) re-attaches to it, reports a task that ended
# while it was down, resends what was not acknowledged, and re-registers
# under its id; the framework sees every state once. A reboot (another
# boot id) turns the old tasks LOST; changed resources are refused.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
command -v sqlite3 >/dev/null || skip_all "sqlite3 is not installed (apt-get install sqlite3)"

start_master --allocation-interval=100ms
ok $? "master starts"
start_agent agent1 --resources="cpus:2;mem:1024;ports:[31000-31009]"
ok $? "agent1 registers"
aid=$(master_state | jq -r '.agents[0].id')

start_sched long --name=long --failover-timeout=120 --max-tasks=1 --task-resources="cpus:0.5;mem:64" \
    --command='echo $$ > "$CAIRN_SANDBOX/pid"; exec sleep 300'
start_sched short --name=short --failover-timeout=120 --max-tasks=1 --task-resources="cpus:0.5;mem:64" \
    --command='sleep 4'
wait_line 20 long '^status long-1 TASK_RUNNING'
ok $? "the long task runs"
wait_line 20 short '^status short-1 TASK_RUNNING'
ok $? "the short task runs"
pidfile=$(find "$T/agent1/sandboxes" -path '*long-1*' -name pid | head -1)
taskpid=$(cat "$pidfile" 2>/dev/null)
ok $? "the long task's pid is $taskpid"

# The agent dies hard; the short task ends while it is down.
kill -KILL "$PID_agent1"
wait "$PID_agent1" 2>/dev/null
ok 0 "agent1 is killed with SIGKILL"
kill -0 "$taskpid" 2>/dev/null
ok $? "its long task keeps running without it"
status_file () { find "$T/agent1/run" -path '*short-1*' -name status | grep -q .; }
wait_for 20 status_file
ok $? "the short task ends while the agent is down"

RES="cpus:2;mem:1024;ports:[31000-31009]"
restart_agent agent1 2 --resources="$RES"
ok $? "agent1 comes back on the same work dir"
is "$(master_state | jq -r '.agents[0].id')" "$aid" "with the same agent id"
is "$(master_state | jq '.agents | length')" "1" "and the master still knows one agent"
like "$(cat "$T/agent1_2.log")" "re-attached to its supervisor" "it re-attaches to the long task's supervisor"
wait_line 20 short '^status short-1 TASK_FINISHED'
ok $? "the short task, which ended meanwhile, is reported FINISHED"
is "$(http_get "http://$(agent_http agent1)/state" | jq -r '.tasks[] | select(.id == "long-1") | .pid')" \
   "$taskpid" "the agent sees the long task as the same process"
kill -0 "$taskpid" 2>/dev/null
ok $? "which still runs"
running () { [ "$(fw_tasks "$(sched_fwid long)" TASK_RUNNING)" = 1 ]; }
wait_for 10 running
ok $? "the master lists the long task RUNNING"
is "$(sched_lines long '^status long-1 TASK_RUNNING' | wc -l)" "1" "the framework saw TASK_RUNNING once"
sleep 1
is "$(sched_lines short '^status short-1 TASK_FINISHED' | wc -l)" "1" "and TASK_FINISHED once"
is "$(sched_lines long 'TASK_LOST|TASK_FAILED' | wc -l)" "0" "and no LOST or FAILED"

# A reboot: the boot id the checkpoint remembers is not this boot's.
kill -KILL "$PID_agent1"
wait "$PID_agent1" 2>/dev/null
sqlite3 "$T/agent1/agent.db" "UPDATE meta SET value = '00000000-0000-0000-0000-000000000000' WHERE name = 'boot_id'"
ok $? "the checkpoint is made to look like it was written before a reboot"
restart_agent agent1 3 --resources="$RES"
ok $? "agent1 comes back after the 'reboot'"
wait_line 20 long '^status long-1 TASK_LOST REASON_AGENT_RESTARTED'
ok $? "the long task is reported LOST with REASON_AGENT_RESTARTED"
like "$(sched_lines long '^status long-1 TASK_LOST')" "rebooted" "saying the machine rebooted"
gone () { ! kill -0 "$taskpid" 2>/dev/null; }
wait_for 10 gone
ok $? "and no process of it is left"

# Changed resources are refused with a message that says what to do.
kill -TERM "$PID_agent1"
wait "$PID_agent1" 2>/dev/null
"$AGENT_BIN" --master="$MASTER" --ip=127.0.0.1 --http-port=0 --hostname=agent1 \
    --work-dir="$T/agent1" --cgroup-root="$CGROUP_ROOT" --resources="cpus:1;mem:512" \
    >"$T/changed.log" 2>&1 &
changed=$!
wait_for 10 sh -c "! kill -0 $changed 2>/dev/null"
ok $? "an agent restarted with other resources stops"
wait "$changed"
is "$?" "1" "with exit status 1"
like "$(cat "$T/changed.log")" "resources changed since it last ran.*earlier --resources" \
     "saying the resources changed and what to do"
LOGS+=("$T/changed.log")

done_testing
