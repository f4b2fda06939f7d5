#!/bin/bash
# Tasks through a real agent with the machine's isolation (cgroups as
# root): a memory limit ends a task that allocates 4x its mem and it is
# reported with the memory reason; pid and mount namespaces; switching
# to the framework's user; stdout rotation. Unprivileged (posix) runs are
# covered by tests/unit/isolator.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root for cgroups, namespaces and switching users"

start_master --allocation-interval=100ms
ok $? "master starts"
start_agent agent1 --resources="cpus:2;mem:1024;ports:[31000-31009]" --task-namespaces=pid,mount \
    --switch-user --max-log-size=1 --usage-interval=200ms
ok $? "agent1 registers with namespaces, user switching and 1 MiB logs"
like "$(http_get "http://$(agent_http agent1)/state" | jq -r .isolation)" "^cgroups-v[12]$" \
     "agent1 isolates with cgroups"

# 4x its memory.
timeout 60 "$HELLO_BIN" --master="$MASTER" --tasks=1 --resources="cpus:0.1;mem:64" \
    --command='head -c 256M /dev/zero | tail' >"$T/oom.out" 2>&1
is "$?" "1" "a task allocating 4x its memory does not finish"
LOGS+=("$T/oom.out")
task=$(master_state | jq -c '.completed_tasks[] | select(.id == "hello-1")')
is "$(jq -r .state <<<"$task")" "TASK_FAILED" "it fails"
is "$(jq -r .reason <<<"$task")" "REASON_CONTAINER_LIMITATION_MEMORY" \
   "with REASON_CONTAINER_LIMITATION_MEMORY"
like "$(jq -r .message <<<"$task")" "memory limit of 64 MiB was reached \\(peak [0-9]+ MiB\\)" \
     "the message gives the limit and the peak"

# Namespaces and the user.
start_sched ns --name=ns --max-tasks=1 --user=nobody --task-resources="cpus:0.1;mem:64" \
    --command='echo "pid $$"; echo "tmp $(ls -A /tmp | wc -l)"; echo "user $(id -un)"; touch /tmp/x; sleep 300'
wait_line 20 ns '^status ns-1 TASK_RUNNING'
ok $? "a task with namespaces runs"
find_sandbox () {
    sandbox=$(http_get "http://$(agent_http agent1)/state" | jq -r '.tasks[] | select(.id == "ns-1") | .sandbox')
    [ -n "$sandbox" ] && grep -q '^user' "$sandbox/stdout"
}
wait_for 10 find_sandbox
ok $? "its output is in its sandbox ($sandbox)"
is "$(grep '^pid' "$sandbox/stdout")" "pid 1" "it is pid 1 in its own pid namespace"
is "$(grep '^tmp' "$sandbox/stdout")" "tmp 0" "its /tmp starts empty"
is "$(grep '^user' "$sandbox/stdout")" "user nobody" "it runs as its framework's user"
ok "$([ -e "$sandbox/tmp/x" ]; echo $?)" "its /tmp is the sandbox's tmp"
[ ! -e /tmp/x ] || [ "$(stat -c %U /tmp/x)" != nobody ]
ok $? "and not the host's /tmp"
usage () { master_state | jq_e '.tasks[] | select(.id == "ns-1") | .usage.mem_bytes > 0'; }
wait_for 10 usage
ok $? "the master shows the task's memory usage, sampled by the agent"
like "$(http_get "http://$(agent_http agent1)/metrics")" 'cairn_agent_task_memory_bytes\{framework_id="[^"]+",task_id="ns-1"\} [0-9]+' \
     "the agent's /metrics shows it too"
sched_cmd ns kill ns-1
wait_line 20 ns '^status ns-1 TASK_KILLED'
ok $? "it is killed"

# Rotation at 1 MiB: 3 MiB of output leave one full older file.
timeout 60 "$HELLO_BIN" --master="$MASTER" --tasks=1 --name=logs --resources="cpus:0.1;mem:64" \
    --command='head -c 3000000 /dev/zero | tr "\0" x' >"$T/logs.out" 2>&1
is "$?" "0" "a task writes 3 MB to stdout"
dir=$(find "$T/agent1/sandboxes" -path "*hello-1*" -name stdout.1 -printf '%h\n' | head -1)
ok "$([ -n "$dir" ]; echo $?)" "its stdout was rotated (stdout.1)"
size=$(stat -c %s "$dir/stdout")
[ "$size" -le $((1048576 + 65536)) ]
ok $? "stdout stays within the limit ($size bytes)"

done_testing
