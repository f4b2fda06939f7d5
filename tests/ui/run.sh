#!/bin/bash
# tests/ui/run.sh - the web UI's interaction tests (TAP), or its screenshots.
#
#     tests/ui/run.sh                    every test script (the list below)
#     tests/ui/run.sh kill.test.js ...   only these
#     tests/ui/run.sh --screenshots DIR  the README's pictures, into DIR
#
# Starts a small live cluster on 127.0.0.1 with free ports in a temporary
# directory (tests/lib.sh): a master with its built-in web UI and an
# operator token, three agents (node3 idle, for draining), and named
# frameworks (tests/tools/cairn-sched) running, finishing and failing
# tasks. Then each test script drives headless Chromium through
# playwright-core (tests/ui/lib.js): real clicks and typing in /ui/,
# checked against the master's API. Their results are numbered into one
# TAP stream with the set-up steps'. Stops only what it started, by PID.
#
# Run by `make check-ui` (which installs playwright-core from
# tests/ui/package-lock.json with npm ci first and sets the variables
# below). Needs: node >= 20 with playwright-core (NODE_PATH or
# tests/ui/node_modules), Chromium ($CHROMIUM, default /usr/bin/chromium).
# Without them it skips (exit 77), unless CAIRN_UI_REQUIRE is set (CI),
# where a missing tool is a failure. CAIRN_WEBUI_DIR serves the UI from
# a directory instead of the copy built into the master (to try a change
# to webui/ without rebuilding).
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
UI=$S/tests/ui
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
NODE=${NODE:-node}
export CHROMIUM
# playwright-core: the build tree's npm ci, else the source tree's.
NODE_PATH=${NODE_PATH:-$B/tests/ui/node_modules:$UI/node_modules}
export NODE_PATH

shots=
if [ "${1:-}" = "--screenshots" ]; then
    shots=${2:?--screenshots DIR}
    mkdir -p "$shots" && shots=$(cd "$shots" && pwd) || exit 1
    shift 2
fi

# missing REASON: skip (77) or, in CI, fail.
missing () {
    if [ -n "${CAIRN_UI_REQUIRE:-}" ] || [ -n "$shots" ]; then
        bail_out "$* (CAIRN_UI_REQUIRE is set: this must run)"
    fi
    echo "1..0 # SKIP $*"
    _stopped=1
    rm -rf "$T"
    exit 77
}
command -v "$NODE" >/dev/null || missing "node is not installed (Node.js >= 20)"
major=$("$NODE" -p 'process.versions.node.split(".")[0]')
[ "$major" -ge 20 ] || missing "node $("$NODE" --version) is too old (playwright-core needs 20)"
"$NODE" -e 'require("playwright-core")' 2>/dev/null ||
    missing "playwright-core is not installed (make check-ui runs npm ci in tests/ui)"
[ -x "$CHROMIUM" ] || missing "$CHROMIUM is not installed (apt-get install chromium)"
[ -x "$SCHED_BIN" ] || missing "$SCHED_BIN is not built (make check-ui builds it)"

# The cluster. Every task's name is its id; node3 starts once every task
# is placed, so it runs none and can be drained without killing any.
TOKEN=ui-operator-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
printf 'ops %s\n' "$TOKEN" >"$T/tokens"
chmod 600 "$T/tokens"
webui=()
[ -n "${CAIRN_WEBUI_DIR:-}" ] && webui=(--webui-dir="$CAIRN_WEBUI_DIR")
start_master --allocation-interval=100ms --http-token-file="$T/tokens" "${webui[@]}"
ok_or_bail $? "the master starts with its web UI and an operator token"
for h in node1 node2; do
    start_agent "$h" --resources="cpus:4;mem:4096;ports:[31000-31099]" --attributes="rack:r1"
    ok_or_bail $? "agent $h registers"
done
start_sched web --name=web-frontend --task-prefix=web- --max-tasks=4 \
    --task-resources="cpus:0.5;mem:256" --command='sleep 600'
start_sched etl --name=nightly-etl --task-prefix=etl- --max-tasks=2 \
    --task-resources="cpus:1;mem:512" --command='sleep 600'
# The task whose log the tests follow: one line now, one more when the
# test creates $T/log-go (the sandbox is on this machine).
start_sched report --name=report-builder --task-prefix=report- --max-tasks=1 \
    --task-resources="cpus:0.25;mem:64" \
    --command="echo 'cairn-ui-log: first line'; while [ ! -e '$T/log-go' ]; do sleep 0.2; done;
               echo 'cairn-ui-log: later line'; exec sleep 600"
start_sched backup --name=hourly-backup --task-prefix=backup- --max-tasks=2 \
    --task-resources="cpus:0.25;mem:64" --command='true'
start_sched flaky --name=flaky-job --task-prefix=flaky- --max-tasks=1 \
    --task-resources="cpus:0.25;mem:64" --command='exit 3'
wait_line 60 web '^status web-[0-9]+ TASK_RUNNING' 4 &&
    wait_line 30 etl '^status etl-[0-9]+ TASK_RUNNING' 2 &&
    wait_line 30 report '^status report-1 TASK_RUNNING' &&
    wait_line 30 backup '^status backup-[0-9]+ TASK_FINISHED' 2 &&
    wait_line 30 flaky '^status flaky-1 TASK_FAILED'
ok_or_bail $? "tasks run (web-1..4, etl-1..2, report-1), finish (backup-1..2) and fail (flaky-1)"
start_agent node3 --resources="cpus:4;mem:4096;ports:[31000-31099]" --attributes="rack:r2"
ok_or_bail $? "agent node3 registers, with no task"

export CAIRN_UI_URL="http://$MASTER_HTTP/ui/" CAIRN_UI_API="http://$MASTER_HTTP"
export CAIRN_UI_TOKEN=$TOKEN CAIRN_UI_LOG_GO=$T/log-go CAIRN_UI_ARTIFACTS=$T/artifacts
mkdir -p "$CAIRN_UI_ARTIFACTS"

# run_node SCRIPT [ARGS...]: runs one script; its "ok - ..." / "not ok -
# ..." lines become numbered results, "#" lines pass through. A script
# that dies (non-zero status) or gives no result is one more failure.
run_node () {
    local name line results=0 rc
    name=$(basename "$1")
    while IFS= read -r line; do
        case "$line" in
            "ok - "*) ok 0 "${line#ok - }"; results=$((results + 1)) ;;
            "not ok - "*) ok 1 "${line#not ok - }"; results=$((results + 1)) ;;
            "#"*) echo "$line" ;;
            *) echo "# $line" ;;
        esac
    done < <(timeout 300 "$NODE" "$@" 2>&1)
    wait $! 2>/dev/null
    rc=$?
    if [ "$rc" -ne 0 ] || [ "$results" -eq 0 ]; then
        ok 1 "$name ran to its end (status $rc, $results results)"
    fi
}

if [ -n "$shots" ]; then
    # The picture of a cluster in maintenance: node3 draining.
    aid=$(master_state | jq -r '.agents[] | select(.hostname == "node3") | .id')
    curl -sf -X POST -H "Authorization: Bearer $TOKEN" \
        "http://$MASTER_HTTP/agents/drain?agent_id=$aid&grace=10m" >/dev/null
    ok $? "node3 is draining"
    run_node "$UI/screenshots.js" "$shots"
else
    # Kill and drain change the cluster: they come last. A new script
    # goes here and in tests/ui/local.mk's UI_TEST_FILES.
    if [ $# -eq 0 ]; then
        set -- filter.test.js task.test.js log.test.js kill.test.js drain.test.js
    fi
    for t in "$@"; do
        run_node "$UI/$(basename "$t")"
    done
fi
# Failed tests leave a screenshot of the page; keep them with the logs.
[ "$_tap_failed" -ne 0 ] && [ -n "${CAIRN_KEEP_TMP:-}" ] && diag "failure screenshots in $T/artifacts"
for s in web etl report backup flaky; do
    sched_cmd "$s" "stop teardown"
done
for s in web etl report backup flaky; do
    sched_wait "$s"
done
done_testing
