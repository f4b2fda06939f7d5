# tests/lib.sh - shared harness for the integration tests (TAP, bash).
#
# Source it from a test script. It gives:
#   - a private temporary directory ($T) removed at exit;
#   - start_master / start_agent / run_bg, which start real daemons on
#     127.0.0.1 with free ports and remember their PIDs;
#   - stop_all, which stops only those PIDs with SIGTERM (SIGKILL after a
#     grace, which fails the test) and fails on any sanitizer report in
#     any daemon's log;
#   - TAP helpers: ok, is, like, skip_all, done_testing.
# The build tree is $CAIRN_BUILDDIR (set by make check), or the current
# directory.

set -u
B=${CAIRN_BUILDDIR:-$(pwd)}
S=${CAIRN_SRCDIR:-$B}
T=$(mktemp -d "${TMPDIR:-/tmp}/cairn-test.XXXXXX")
CGROUP_ROOT=cairn-test-$$
MASTER_BIN=$B/master/cairn-master
AGENT_BIN=$B/agent/cairn-agent
CAIRN_BIN=$B/cli/cairn
HELLO_BIN=$B/frameworks/examples/hello/hello
PIDS=()
LOGS=()
_tap_n=0
_tap_failed=0
_stopped=0
# Sanitizer runtimes write their reports to the daemons' logs; leaks are
# reports too. Keep any value the caller set.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# The tests run as root and keep their files in $T (mode 0700), and their
# schedulers name users that may not exist: agents run tasks as root, said
# explicitly, where by default they would switch to the user a task names
# or else run it as nobody (doc/security.md). security-tasks.sh unsets
# both to test the defaults.
export CAIRN_AGENT_DEFAULT_USER=${CAIRN_AGENT_DEFAULT_USER-root}
export CAIRN_AGENT_SWITCH_USER=${CAIRN_AGENT_SWITCH_USER-false}

ok () {                 # ok COND-STATUS DESCRIPTION  (use: cmd; ok $? "desc")
    _tap_n=$((_tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $_tap_n - $2"
    else
        echo "not ok $_tap_n - $2"
        _tap_failed=$((_tap_failed + 1))
    fi
}

is () {                 # is GOT WANT DESCRIPTION
    if [ "$1" = "$2" ]; then
        ok 0 "$3"
    else
        ok 1 "$3"
        echo "#          got: '$1'"
        echo "#     expected: '$2'"
    fi
}

like () {               # like TEXT REGEX DESCRIPTION
    if printf '%s' "$1" | grep -Eq -- "$2"; then
        ok 0 "$3"
    else
        ok 1 "$3"
        echo "#   '$(printf '%s' "$1" | head -c 400)'"
        echo "#   does not match /$2/"
    fi
}

diag () {
    echo "# $*"
}

bail_out () {           # bail_out REASON: stops everything and ends the test, failed
    echo "Bail out! $*"
    stop_all >/dev/null
    _cgroup_cleanup
    declare -F zk_stop >/dev/null && zk_stop
    if [ -n "${CAIRN_KEEP_TMP:-}" ]; then
        diag "logs kept in $T"
    else
        rm -rf "$T"
    fi
    exit 1
}

# ok_or_bail STATUS DESCRIPTION: ok, and bail out if it failed (for the
# set-up steps everything else needs).
ok_or_bail () {
    ok "$@"
    [ "$1" -eq 0 ] || bail_out "$2: failed, cannot go on"
}

skip_all () {
    echo "1..0 # SKIP $*"
    _stopped=1
    rm -rf "$T"
    exit 0
}

# A TCP port on 127.0.0.1 that nothing listens on. Ports are drawn at
# random from a range the kernel does not hand out as ephemeral ports,
# so parallel tests rarely collide, and checked by connecting.
free_port () {
    local p
    for _ in $(seq 1 200); do
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            if ! grep -q ":$(printf '%04X' "$p") " /proc/net/tcp 2>/dev/null; then
                echo "$p"
                return 0
            fi
        fi
    done
    echo "no free port found" >&2
    return 1
}

# wait_for SECONDS CMD...: runs CMD until it succeeds or time runs out.
wait_for () {
    local deadline=$(( $(date +%s) + $1 ))
    shift
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# run_bg NAME CMD...: starts CMD in the background, logging to $T/NAME.log.
run_bg () {
    local name=$1
    shift
    "$@" >"$T/$name.log" 2>&1 &
    PIDS+=($!)
    LOGS+=("$T/$name.log")
    eval "PID_$name=$!"
}

# jq_e ARGS...: `jq -e ARGS` on standard input, failing (status 4) when the
# input is empty. jq 1.6 exits 0 when it reads nothing at all, so
# `curl ... | jq -e COND` would pass whenever curl got no answer, and a
# wait_for on it would end before the condition held. Exported, so
# `wait_for N bash -c "... | jq_e ..."` can use it.
jq_e () {
    local input
    input=$(cat)
    [ -n "$input" ] || return 4
    jq -e "$@" <<<"$input"
}
export -f jq_e

http_get () {           # http_get URL: prints the body, fails on non-2xx
    curl -sf --max-time 10 "$1"
}

master_state () {
    http_get "http://$MASTER_HTTP/state"
}

# start_master [FLAGS...]: sets MASTER (HOST:PORT), MASTER_HTTP, PID_master.
start_master () {
    MASTER_PORT=$(free_port) || return 1
    MASTER_HTTP_PORT=$(free_port) || return 1
    MASTER=127.0.0.1:$MASTER_PORT
    MASTER_HTTP=127.0.0.1:$MASTER_HTTP_PORT
    MASTER_FLAGS=("$@")
    run_bg master "$MASTER_BIN" --ip=127.0.0.1 --port="$MASTER_PORT" \
        --http-port="$MASTER_HTTP_PORT" --work-dir="$T/master" "$@"
    if ! wait_for 20 http_get "http://$MASTER_HTTP/health"; then
        diag "the master did not come up; its log:"
        sed 's/^/#   /' "$T/master.log" | tail -20
        return 1
    fi
}

# start_agent NAME [FLAGS...]: an agent called NAME (its hostname), with
# its own work dir; waits until the master lists it.
start_agent () {
    local name=$1
    shift
    # Tests stop agents with SIGTERM and expect no task left behind;
    # recovery tests pass --no-shutdown-tasks (the last flag wins).
    # Each test's agents keep their cgroups under a root of the test's own
    # (the agent removes it when it is empty).
    run_bg "$name" "$AGENT_BIN" --master="$MASTER" --ip=127.0.0.1 --http-port=0 \
        --hostname="$name" --work-dir="$T/$name" --shutdown-tasks \
        --cgroup-root="$CGROUP_ROOT" "$@"
    if ! wait_for 20 agent_registered "$name"; then
        diag "agent $name did not register; its log:"
        sed 's/^/#   /' "$T/$name.log" | tail -20
        return 1
    fi
}

# restart_agent NAME RUN [FLAGS...]: starts agent NAME again on its work
# dir (after it was stopped or killed), logging to $T/NAME_RUN.log and
# setting PID_NAME; waits until the master lists it again.
restart_agent () {
    local name=$1 run=$2
    shift 2
    run_bg "${name}_$run" "$AGENT_BIN" --master="$MASTER" --ip=127.0.0.1 --http-port=0 \
        --hostname="$name" --work-dir="$T/$name" --shutdown-tasks \
        --cgroup-root="$CGROUP_ROOT" "$@"
    eval "PID_$name=$!"
    if ! wait_for 20 agent_registered "$name"; then
        diag "agent $name did not come back; its log:"
        sed 's/^/#   /' "$T/${name}_$run.log" | tail -20
        return 1
    fi
}

agent_registered () {
    master_state | jq_e --arg h "$1" \
        '.agents | map(select(.hostname == $h and .state == "ACTIVE")) | length == 1'
}

# The agent's HTTP address, from the master's state.
agent_http () {
    master_state | jq -r --arg h "$1" '.agents[] | select(.hostname == $h) | .http_address'
}

# stop_master: stops the running master with SIGTERM and waits (up to
# 20 s) for it to exit; returns 1 if it had to be killed. Its log is
# still checked by stop_all.
stop_master () {
    local pid=$PID_master waited=0
    kill -TERM "$pid" 2>/dev/null
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 200 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        return 1
    fi
    wait "$pid" 2>/dev/null
    return 0
}

# restart_master [FLAGS...]: starts a master again on the ports and work
# dir of the last start_master, with its flags (or FLAGS if given);
# logs to $T/masterN.log and sets PID_master. Call stop_master first.
_master_runs=1
restart_master () {
    [ $# -gt 0 ] && MASTER_FLAGS=("$@")
    _master_runs=$((_master_runs + 1))
    run_bg "master$_master_runs" "$MASTER_BIN" --ip=127.0.0.1 --port="$MASTER_PORT" \
        --http-port="$MASTER_HTTP_PORT" --work-dir="$T/master" "${MASTER_FLAGS[@]}"
    eval "PID_master=\$PID_master$_master_runs"
    if ! wait_for 30 http_get "http://$MASTER_HTTP/health"; then
        diag "the master did not come back; its log:"
        sed 's/^/#   /' "$T/master$_master_runs.log" | tail -20
        return 1
    fi
}

# start_sched NAME [FLAGS...]: starts tests/tools/cairn-sched against the
# master, reading commands from the fifo $T/NAME.in and printing to
# $T/NAME.log; sets PID_NAME. Send it commands with sched_cmd. It is
# stopped by stop_all like the daemons (SIGTERM makes it stop with
# failover).
SCHED_BIN=$B/tests/tools/cairn-sched
_sched_fds=()
start_sched () {
    local name=$1 fd
    shift
    rm -f "$T/$name.in"
    mkfifo "$T/$name.in" || return 1
    # Read-write, so that opening it blocks neither side and the
    # scheduler never sees end-of-file between commands.
    exec {fd}<>"$T/$name.in"
    _sched_fds+=("$fd")
    (
        # The scheduler keeps none of the fifos open for writing.
        for f in "${_sched_fds[@]}"; do
            eval "exec $f>&-"
        done
        exec "$SCHED_BIN" --master="$MASTER" "$@"
    ) <"$T/$name.in" >"$T/$name.log" 2>&1 &
    PIDS+=($!)
    LOGS+=("$T/$name.log")
    eval "PID_$name=$!"
    eval "_sched_fd_$name=$fd"
}

# sched_wait NAME [SECONDS]: waits (default 20 s) for the scheduler to
# exit and returns its exit status; 124 (after killing it) if it did not.
sched_wait () {
    local pid waited=0 limit=$(( ${2:-20} * 10 ))
    eval "pid=\$PID_$1"
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt $limit ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        return 124
    fi
    wait "$pid"
}

# sched_cmd NAME COMMAND...: sends one command line to a scheduler.
sched_cmd () {
    local name=$1 fd
    shift
    eval "fd=\$_sched_fd_$name"
    printf '%s\n' "$*" >&"$fd"
}

# sched_lines NAME REGEX: the scheduler's output lines matching REGEX
# (extended), with any --timestamps prefix kept.
sched_lines () {
    grep -E -- "$2" "$T/$1.log"
}

# wait_line SECONDS NAME REGEX [COUNT]: waits until the scheduler printed
# at least COUNT (default 1) lines matching REGEX.
wait_line () {
    wait_for "$1" _has_lines "$2" "$3" "${4:-1}"
}
_has_lines () {
    [ "$(grep -cE -- "$2" "$T/$1.log")" -ge "$3" ]
}

# sched_fwid NAME: the framework id the scheduler registered with.
sched_fwid () {
    awk '{ for (i = 1; i <= 2; i++) if ($i == "registered" || $i == "reregistered") {
               print $(i + 1); exit } }' "$T/$1.log"
}

# fw_tasks FRAMEWORK_ID STATE: how many of the framework's live tasks the
# master's /state lists in STATE.
fw_tasks () {
    master_state | jq --arg f "$1" --arg s "$2" \
        '[.tasks[] | select(.framework_id == $f and .state == $s)] | length'
}

# Stops every process this test started, by PID, with SIGTERM. A process
# that does not exit within 20 s is killed and fails the test. Then every
# log is checked for sanitizer reports.
stop_all () {
    local pid
    [ "$_stopped" -eq 1 ] && return 0
    _stopped=1
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true     # one may have ended (set -e callers)
    done
    local clean=0
    for pid in "${PIDS[@]}"; do
        local waited=0
        while kill -0 "$pid" 2>/dev/null && [ $waited -lt 200 ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null
            diag "process $pid ignored SIGTERM for 20 s"
            clean=1
        fi
        wait "$pid" 2>/dev/null
    done
    ok $clean "every daemon stopped on SIGTERM"
    local reports=""
    for log in "${LOGS[@]}"; do
        if grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' "$log"; then
            reports="$reports $log"
            diag "sanitizer report in $log:"
            grep -E -A12 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" | head -40 | sed 's/^/#   /'
        fi
    done
    is "$reports" "" "no sanitizer report in any daemon log"
}

# _cgroup_cleanup: removes this test's cgroup root in every hierarchy.
# Agents remove it when it is empty, but tasks that outlive their agent
# on purpose (recovery tests, an agent killed with SIGKILL) keep it
# busy: those processes are this test's own tasks, in this test's own
# root, and are killed first.
_cgroup_cleanup () {
    local d tries
    for d in /sys/fs/cgroup/"$CGROUP_ROOT" /sys/fs/cgroup/*/"$CGROUP_ROOT"; do
        [ -d "$d" ] || continue
        for tries in 1 2 3 4 5 6 7 8 9 10; do
            find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
            find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
            [ -d "$d" ] || break
            sleep 0.2
        done
    done
    return 0
}

done_testing () {
    stop_all
    _cgroup_cleanup
    declare -F zk_stop >/dev/null && zk_stop
    echo "1..$_tap_n"
    if [ "$_tap_failed" -ne 0 ] && [ -n "${CAIRN_KEEP_TMP:-}" ]; then
        diag "logs kept in $T"
    else
        rm -rf "$T"
    fi
    [ "$_tap_failed" -eq 0 ]
    exit $?
}

_on_exit () {
    set +e      # clean up everything, even for a script that runs with set -e
    if [ "$_stopped" -eq 0 ]; then
        # An aborted test still stops what it started.
        for pid in "${PIDS[@]}"; do
            kill -KILL "$pid" 2>/dev/null
        done
        _cgroup_cleanup
        rm -rf "$T"
    fi
    # Whatever way the test ended (a bail-out, an error under set -e).
    declare -F zk_stop >/dev/null && zk_stop
    return 0
}
trap _on_exit EXIT
trap 'exit 130' INT TERM

for tool in curl jq; do
    command -v $tool >/dev/null || skip_all "$tool is not installed (apt-get install $tool)"
done
