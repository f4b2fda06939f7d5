# tests/integration/service-lib.sh - what the cairn-service tests share,
# on top of tests/lib.sh (source that first).
#
#   start_service NAME [FLAGS...]   cairn-service against $MASTER, its
#                                   state in $T/NAME.state, its REST API on
#                                   a free port ($SVC, "127.0.0.1:PORT");
#                                   waits until it has registered
#   restart_service NAME RUN [FLAGS...]  the same again on the same state
#                                   dir and port (after it stopped)
#   api METHOD PATH [JSON]          a request to $SVC; prints the body;
#                                   its HTTP status is then $(api_status)
#                                   (also in a command substitution)
#   app_field ID JQ                 a field of GET /v1/apps/ID
#   svc NAME ARGS...                cairn service --api=$SVC ARGS...
#   app_healthy ID N                true when ID has N healthy instances
#                                   and no others live
#   fw_live_tasks FWID              the framework's live tasks in the
#                                   master's /state (JSON array of ids)
#
# The instances in these tests are real servers that bind their ports, so
# the agents offer ports below 20000: outside free_port's range and the
# kernel's ephemeral ports, and distinct between the service tests
# (basic 16xxx, upgrade 17xxx, failover 18xxx), which may run at once.
SERVICE_BIN=$B/frameworks/service/cairn-service

command -v python3 >/dev/null || skip_all "python3 is not installed (apt-get install python3)"

start_service () {
    local name=$1
    shift
    SVC_PORT=$(free_port) || return 1
    SVC=127.0.0.1:$SVC_PORT
    SVC_FLAGS=("$@")
    run_bg "$name" "$SERVICE_BIN" --master="$MASTER" --ip=127.0.0.1 --api-port="$SVC_PORT" \
        --state-dir="$T/$name.state" "$@"
    if ! wait_for 20 service_registered; then
        diag "cairn-service $name did not register; its log:"
        sed 's/^/#   /' "$T/$name.log" | tail -20
        return 1
    fi
}

restart_service () {
    local name=$1 run=$2
    shift 2
    [ $# -gt 0 ] && SVC_FLAGS=("$@")
    run_bg "${name}_$run" "$SERVICE_BIN" --master="$MASTER" --ip=127.0.0.1 \
        --api-port="$SVC_PORT" --state-dir="$T/$name.state" "${SVC_FLAGS[@]}"
    eval "PID_$name=\$PID_${name}_$run"
    if ! wait_for 20 service_registered; then
        diag "cairn-service $name did not come back; its log:"
        sed 's/^/#   /' "$T/${name}_$run.log" | tail -20
        return 1
    fi
}

# stop_service NAME [SIGNAL]: stops it (SIGTERM by default) and waits.
stop_service () {
    local pid
    eval "pid=\$PID_$1"
    kill -"${2:-TERM}" "$pid" 2>/dev/null
    if [ "${2:-TERM}" = KILL ]; then
        wait "$pid" 2>/dev/null
        return 0
    fi
    local waited=0
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt 200 ]; do
        sleep 0.1
        waited=$((waited + 1))
    done
    wait "$pid" 2>/dev/null
    ! kill -0 "$pid" 2>/dev/null
}

service_registered () {
    curl -sf --max-time 5 "http://$SVC/health" | jq_e '.registered == true'
}

api_status () {
    cat "$T/api.status" 2>/dev/null
}

api () {
    local method=$1 path=$2 body=${3-} out
    if [ -n "$body" ]; then
        out=$(curl -s --max-time 10 -X "$method" -H 'Content-Type: application/json' \
              --data-binary "$body" -w '\n%{http_code}' "http://$SVC$path")
    else
        out=$(curl -s --max-time 10 -X "$method" -w '\n%{http_code}' "http://$SVC$path")
    fi
    printf '%s' "${out##*$'\n'}" >"$T/api.status"
    printf '%s\n' "${out%$'\n'*}"
}

app_field () {
    curl -sf --max-time 10 "http://$SVC/v1/apps/$1" | jq -r "$2"
}

svc () {
    "$CAIRN_BIN" service --api="$SVC" "$@"
}

app_healthy () {
    curl -sf --max-time 10 "http://$SVC/v1/apps/$1" \
        | jq_e --argjson n "$2" '.instances.healthy == $n and .instances.live == $n'
}

# The deployment's state (running, succeeded, rolled_back, ...).
deployment_state () {
    curl -sf --max-time 10 "http://$SVC/v1/deployments/$1" | jq -r .state
}
deployment_is () { [ "$(deployment_state "$1")" = "$2" ]; }

fw_live_tasks () {
    master_state | jq -c --arg f "$1" \
        '[.tasks[] | select(.framework_id == $f and (.state == "TASK_RUNNING" or
          .state == "TASK_STAGING" or .state == "TASK_STARTING" or .state == "TASK_KILLING"))
          | .id] | sort'
}

# The pid of a task's process, from its agent's /state.
task_pid () {
    local task=$1 host addr
    host=$(curl -sf "http://$SVC/v1/apps/$2" | jq -r --arg t "$task" '.tasks[] | select(.id == $t) | .host')
    addr=$(agent_http "$host")
    http_get "http://$addr/state" | jq -r --arg t "$task" '.tasks[] | select(.id == $t) | .pid'
}
