#!/bin/bash
# How the agent starts shims: as forks of its resident launcher (the
# shims' parent is the launcher, not the agent); when the launcher dies,
# tasks still run (the agent spawns their shims itself and says so in its
# log) and a new launcher takes over later; with --no-shim-launcher no
# launcher runs at all.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

start_master --allocation-interval=100ms --agent-ping-timeout=500ms
ok $? "master starts"
start_agent a1 --resources="cpus:2;mem:1024"
ok $? "agent a1 registers"

run_hello () {          # run_hello NAME N COMMAND: N tasks, all must finish
    timeout 120 "$HELLO_BIN" --master="$MASTER" --name="$1" --tasks="$2" \
        --resources="cpus:0.1;mem:32" --command="$3" >"$T/$1.out" 2>&1
}

launcher_of () {        # the pid of agent PID's launcher child, if any
    ps -o pid=,args= --ppid "$1" | awk '/cairn-shim --launcher/ { print $1 }'
}

run_hello first 3 'echo "ppid $PPID shim-ppid $(ps -o ppid= -p $PPID | tr -d " ")"'
ok $? "three tasks finish"
launcher=$(launcher_of "$PID_a1")
ok "$([ -n "$launcher" ]; echo $?)" "the agent runs a launcher (pid ${launcher:-none})"
# Each task printed its shim's parent; these are the only tasks so far.
parents=$(find "$T/a1/sandboxes" -name stdout -exec cat {} + | awk '{ print $4 }' | sort -u)
is "$parents" "$launcher" "every shim is a child of the launcher"

# The launcher dies: tasks still run.
kill -KILL "$launcher"
run_hello second 3 'true'
ok $? "with the launcher killed, three more tasks finish"
like "$(cat "$T/a1.log")" "shims are started one exec each" "the agent's log says how it copes"

# It is replaced after a while (10 s), and the replacement serves.
wait_for 30 eval 'run_hello third 1 true && [ -n "$(launcher_of "$PID_a1")" ] && [ "$(launcher_of "$PID_a1")" != "$launcher" ]'
ok $? "a new launcher takes over ($(launcher_of "$PID_a1"))"

# Without a launcher: a1 goes, a2 takes the tasks.
kill -TERM "$PID_a1"
wait "$PID_a1" 2>/dev/null
a1_gone () {
    master_state | jq_e '[.agents[] | select(.hostname == "a1" and .state == "ACTIVE")] | length == 0'
}
wait_for 30 a1_gone
ok $? "the master sees a1 go"
start_agent a2 --resources="cpus:2;mem:1024" --no-shim-launcher
ok $? "agent a2 registers with --no-shim-launcher"
run_hello fourth 3 'echo "shim-ppid $(ps -o ppid= -p $PPID | tr -d " ")"'
ok $? "a2 runs tasks"
is "$(launcher_of "$PID_a2")" "" "a2 runs no launcher"
parents=$(find "$T/a2/sandboxes" -name stdout -exec cat {} + | awk '{ print $2 }' | sort -u)
is "$parents" "$PID_a2" "its shims are its own children"

stop_all
done_testing
