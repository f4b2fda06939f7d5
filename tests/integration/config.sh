#!/bin/bash
# The daemons as an operator configures and runs them: every flag from the
# command line, the environment (CAIRN_MASTER_*, CAIRN_AGENT_*) or a JSON
# --config file, with precedence flag > environment > file > default as
# GET /flags reports it; bad config, environment and flags named in the
# error with exit status 2; --help and --version; logging to a file that
# SIGHUP reopens after rotation, and to syslog; exit 0 on SIGTERM; agent
# shutdown that keeps tasks running for the next agent to recover, unless
# --shutdown-tasks.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
command -v jq >/dev/null || skip_all "jq is not installed"

flag () { http_get "http://$MASTER_HTTP/flags" | jq -r --arg k "$1" '.[$k]'; }

# --- precedence, each layer shown on a flag of its own --------------------
cat >"$T/master.json" <<'JSON'
{ "max-completed-frameworks": 60, "default_refuse": "7s", "offer-timeout": "9s",
  "allocation-interval": "200ms" }
JSON
export CAIRN_MASTER_MAX_COMPLETED_FRAMEWORKS=70 CAIRN_MASTER_DEFAULT_REFUSE=8s
start_master --config="$T/master.json" --max-completed-frameworks=80
ok_or_bail $? "the master starts with a config file, environment and flags"
unset CAIRN_MASTER_MAX_COMPLETED_FRAMEWORKS CAIRN_MASTER_DEFAULT_REFUSE
is "$(flag max-completed-frameworks)" "80" "the command line beats environment and file"
is "$(flag default-refuse)" "8s" "the environment beats the file"
is "$(flag offer-timeout)" "9s" "the file beats the default (keys may be spelt with _ too)"
is "$(flag max-completed-tasks-per-framework)" "1000" "an unset flag keeps its default"
is "$(flag work-dir)" "$T/master" "GET /flags shows strings"
stop_master
ok $? "the master exits on SIGTERM"
wait "$PID_master" 2>/dev/null
is "$?" "0" "with exit status 0"

# The agent reads its own prefix.
start_master --allocation-interval=200ms
CAIRN_AGENT_ATTRIBUTES="rack:r7" CAIRN_AGENT_DEFAULT_KILL_GRACE=4s start_agent a1 --resources="cpus:1;mem:256"
ok $? "an agent starts with CAIRN_AGENT_* set"
agent_flags=$(http_get "http://$(agent_http a1)/flags")
is "$(jq -r '."default-kill-grace"' <<<"$agent_flags")" "4s" "CAIRN_AGENT_DEFAULT_KILL_GRACE is the agent's --default-kill-grace"
is "$(jq -r '.hostname' <<<"$agent_flags")" "a1" "and its flags are in its /flags"
is "$(master_state | jq -r '.agents[0].attributes | tostring')" '{"rack":"r7"}' \
   "CAIRN_AGENT_ATTRIBUTES reached the master"

# --- bad configuration: exit 2, the error names the problem --------------
bad () {        # bad WANT-REGEX DESCRIPTION CMD...: exit 2, stderr matching
    local want=$1 desc=$2 out rc
    shift 2
    out=$("$@" 2>&1 >/dev/null)
    rc=$?
    is "$rc" "2" "$desc: exit status 2"
    like "$out" "$want" "$desc: '$out'"
}
echo '{ "max-completed-framework": 3 }' >"$T/typo.json"
bad "max-completed-framework.*did you mean.*max-completed-frameworks" \
    "an unknown config key" "$MASTER_BIN" --config="$T/typo.json"
echo '{ "port": "many" }' >"$T/badvalue.json"
bad "key 'port': expected an integer" "a config value of the wrong kind" "$MASTER_BIN" --config="$T/badvalue.json"
echo '{ "port": 5050, ' >"$T/broken.json"
bad "broken.json" "a config file that is not JSON" "$MASTER_BIN" --config="$T/broken.json"
bad "$T/missing.json" "a missing config file" "$MASTER_BIN" --config="$T/missing.json"
bad "CAIRN_MASTER_PORT.*70000" "an environment value out of range" \
    env CAIRN_MASTER_PORT=70000 "$MASTER_BIN"
bad "--allocation-intervall.*did you mean --allocation-interval" "a misspelt flag" \
    "$MASTER_BIN" --allocation-intervall=1s
bad "log target 'journal'" "an unknown log target" "$MASTER_BIN" --log=journal --work-dir="$T/m2"
bad "--agent-ping-timeout.*5" "a duration without a unit" "$MASTER_BIN" --agent-ping-timeout=5

# --- --help and --version ------------------------------------------------
for prog in "$MASTER_BIN" "$AGENT_BIN"; do
    name=$(basename "$prog")
    is "$("$prog" --version)" "$name $(awk -F'"' '/^#define PACKAGE_VERSION/ { print $2 }' "$B/config.h")" \
       "$name --version"
    help=$("$prog" --help)
    nflags=$("$prog" --man | grep -c '^\.TP')
    is "$(grep -cE '^  (-h, )?--' <<<"$help")" "$nflags" "$name --help lists all $nflags flags"
    like "$(tr -s ' \n' ' ' <<<"$help")" "--work-dir=DIR [^-]*\(default: /var/lib/cairn/" \
         "$name --help shows defaults"
done

# --- logging: a file that SIGHUP reopens, and syslog ---------------------
stop_all
_stopped=0
PIDS=()
start_master --log=file:"$T/master-file.log" --allocation-interval=200ms
ok_or_bail $? "a master logging to a file starts"
wait_for 10 grep -q "INFO  master: " "$T/master-file.log"
ok $? "its events go to the file, one line each with time, level and component"
like "$(head -1 "$T/master-file.log")" "^20[0-9-]{8}T[0-9:.]{12}Z INFO  master: " "in the documented format"
is "$(grep -c 'INFO' "$T/master.log")" "0" "and not to stderr"
mv "$T/master-file.log" "$T/master-file.log.1"
kill -HUP "$PID_master"
wait_for 10 test -f "$T/master-file.log"
ok $? "SIGHUP makes a new log file at the path"
start_agent a2 --resources="cpus:1;mem:256" --no-shutdown-tasks
wait_for 10 grep -q "a2" "$T/master-file.log"
ok $? "new events go to the new file"
! grep -q "(a2 at" "$T/master-file.log.1"
ok $? "and none to the rotated one"
http_get "http://$MASTER_HTTP/health" >/dev/null
ok $? "the master still answers after SIGHUP"

# --- agent shutdown keeps tasks, unless --shutdown-tasks ------------------
start_sched long --name=long --failover-timeout=120 --max-tasks=1 --task-resources="cpus:0.5;mem:64" \
    --command='echo $$ > "$CAIRN_SANDBOX/pid"; exec sleep 300'
wait_line 20 long '^status long-1 TASK_RUNNING'
ok $? "a task runs on a2"
pidfile=$(find "$T/a2/sandboxes" -path '*long-1*' -name pid | head -1)
taskpid=$(cat "$pidfile" 2>/dev/null)
# a2 runs without --shutdown-tasks (the default; start_agent's
# --shutdown-tasks is overridden by the later flag).
kill -TERM "$PID_a2"
wait "$PID_a2" 2>/dev/null
is "$?" "0" "an agent without --shutdown-tasks exits 0 on SIGTERM"
kill -0 "$taskpid" 2>/dev/null
ok $? "and its task (pid $taskpid) keeps running"
restart_agent a2 3 --resources="cpus:1;mem:256"
ok $? "the agent restarts (now with --shutdown-tasks)"
kill -0 "$taskpid" 2>/dev/null && [ "$(master_state | jq -r '[.tasks[] | select(.state == "TASK_RUNNING")] | length')" = 1 ]
ok $? "it recovered the task, which the master still lists as running"
kill -TERM "$PID_a2"
wait "$PID_a2" 2>/dev/null
gone () { ! kill -0 "$taskpid" 2>/dev/null; }
wait_for 15 gone
ok $? "with --shutdown-tasks, SIGTERM stops the task too"
wait_line 20 long '^status long-1 TASK_(KILLED|FAILED|LOST)'
ok $? "and the framework hears that it ended"

# --- syslog --------------------------------------------------------------
stop_all
_stopped=0
PIDS=()
start_master --log=syslog --allocation-interval=200ms
ok $? "a master logging to syslog starts"
is "$(grep -c 'INFO' "$T/master.log")" "0" "and writes nothing to stderr"
done_testing
