#!/bin/bash
# How tasks run (issue 10), on an agent running as root with its default
# --default-user (nobody):
# - a task that names no user runs as nobody, never as root;
# - a task whose framework names a user runs as that user;
# - with --no-switch-user, a named user is ignored: --default-user;
# - no_new_privs is set for every task;
# - each sandbox belongs to its task's user, mode 0750, its output files
#   0640, and a task of another user cannot read it;
# - an unknown --default-user stops the agent at start (status 2).
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (tasks switch users)"
id nobody >/dev/null 2>&1 && id daemon >/dev/null 2>&1 || skip_all "needs users nobody and daemon"
# The agent's defaults, not the suite's (tests/lib.sh).
unset CAIRN_AGENT_DEFAULT_USER CAIRN_AGENT_SWITCH_USER
# Other users must be able to reach the sandboxes to show that the
# sandboxes' own modes keep them out.
chmod 711 "$T"

out=$("$AGENT_BIN" --master=127.0.0.1:1 --work-dir="$T/x" --default-user=no-such-user-xyz 2>&1)
is "$?" 2 "--default-user naming no user: exit status 2"
like "$out" "no user 'no-such-user-xyz'" "saying so"

start_master --allocation-interval=100ms --agent-ping-timeout=300ms --max-agent-ping-misses=2
ok_or_bail $? "master starts"
start_agent a1 --resources="cpus:2;mem:1024"
ok_or_bail $? "an agent starts (as root, default --default-user)"

# run_task NAME [SCHED FLAGS...]: one task writing who it is into its sandbox.
run_task () {
    local name=$1
    shift
    start_sched "$name" --max-tasks=1 --task-resources='cpus:0.1;mem:16' \
        --command='id -un > "$CAIRN_SANDBOX/who"; grep NoNewPrivs /proc/self/status > "$CAIRN_SANDBOX/nnp"; echo out; echo err >&2' "$@"
    wait_line 20 "$name" '^status .* TASK_FINISHED'
}
sandbox_of () {         # the sandbox of the one task of scheduler NAME
    local fw
    fw=$(sched_fwid "$1")
    find "$T/a1" -type d -path "*$fw*" -name 'run*' -prune -o -type f -name who -path "*$fw*" -print |
        head -1 | xargs -r dirname
}

run_task plain
ok $? "a task naming no user finishes"
sb=$(sandbox_of plain)
is "$(cat "$sb/who" 2>/dev/null)" nobody "it ran as nobody (--default-user), not root"
like "$(cat "$sb/nnp" 2>/dev/null)" "NoNewPrivs:[[:space:]]+1" "with no_new_privs set"
is "$(stat -c '%U %a' "$sb")" "nobody 750" "its sandbox is nobody's, mode 0750"
is "$(stat -c '%a' "$sb/stdout")" 640 "its stdout is mode 0640"

run_task named --user=daemon
ok $? "a task of a framework naming user daemon finishes"
sb2=$(sandbox_of named)
is "$(cat "$sb2/who" 2>/dev/null)" daemon "it ran as daemon"
is "$(stat -c '%U %a' "$sb2")" "daemon 750" "its sandbox is daemon's, mode 0750"

# A task of user daemon tries to read nobody's sandbox.
start_sched peek --max-tasks=1 --task-resources='cpus:0.1;mem:16' --user=daemon \
    --command="cat '$sb/stdout' > \"\$CAIRN_SANDBOX/peek\" 2>&1; ls '$sb' >> \"\$CAIRN_SANDBOX/peek\" 2>&1; exit 0"
wait_line 20 peek '^status .* TASK_FINISHED'
ok $? "a task of user daemon runs"
sb3=$(find "$T/a1" -type f -name peek | head -1)
like "$(cat "$sb3" 2>/dev/null)" "Permission denied" "and cannot read nobody's sandbox"
if grep -qx out "$sb3" 2>/dev/null; then ok 1 "no output leaked"; else ok 0 "no output leaked"; fi

start_agent a2 --resources="cpus:2;mem:1024" --no-switch-user
ok_or_bail $? "an agent with --no-switch-user starts"
kill -TERM "$PID_a1"        # the next task goes to a2
a1_gone () { master_state | jq_e '[.agents[] | select(.hostname == "a1" and .state == "ACTIVE")] | length == 0'; }
wait_for 20 a1_gone
ok $? "agent a1 stops; only a2 is left"
run_task noswitch --user=daemon
ok $? "a task naming daemon on it finishes"
sb4=$(find "$T/a2" -type f -name who | head -1)
is "$(cat "$sb4" 2>/dev/null)" nobody "it ran as --default-user (nobody): the agent may not switch"

done_testing
