#!/bin/bash
# Every call and every callback of libcairn's public API, through
# tests/tools/library-api (a C program written against cairn.h only),
# against a real master and agent. The program prints "ok - ..." lines,
# numbered here as TAP, and asks for what it cannot do itself ("need
# stop-agent", "need cont-agent", "need restart-master", "need
# check-framework ID"); this script does it and answers "done".
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
API_BIN=$B/tests/tools/library-api
[ -x "$API_BIN" ] || skip_all "$API_BIN is not built (make check builds it)"

# The program must exercise every function the header declares.
missing=""
for f in $(sed -e 's:/\*.*\*/::' -e '/\/\*/,/\*\//d' "$S/libframework/cairn.h" \
           | grep -oE '\bcairn_[a-z0-9_]+ *\(' | tr -d ' (' | sort -u); do
    grep -q "\b$f\b" "$S/tests/tools/library-api.c" || missing="$missing $f"
done
is "$missing" "" "tests/tools/library-api.c calls every function of cairn.h"

# Offers held 2 s are rescinded; an agent silent for 3 x 500 ms is
# unreachable; allocation every 100 ms.
start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=3 \
    --offer-timeout=2s
ok_or_bail $? "master starts"
start_agent apiagent --resources="cpus:4;mem:2048;ports:[31000-31099]" --attributes="rack:r1" \
    --max-master-ping-misses=3
ok_or_bail $? "agent apiagent registers"

check_framework () {     # check_framework ID: what /state says of driver A's framework
    local fw
    fw=$(master_state | jq -c --arg f "$1" '.frameworks[] | select(.id == $f)')
    is "$(jq -r .name <<<"$fw")" "api-renamed" "/state: update_framework renamed the framework"
    is "$(jq -r .labels.phase <<<"$fw")" "2" "/state: ... and replaced its labels"
    is "$(jq -r '[.role, .principal, .failover_timeout_s, .connected] | join(" ")' <<<"$fw")" \
       "api-role api-principal 30 true" "/state: role, principal, failover timeout, connected"
}

# Two fifos: the program's commands in, its lines out.
mkfifo "$T/api.in" "$T/api.lines" || bail_out "cannot make fifos in $T"
exec {out}<>"$T/api.in"
"$API_BIN" --master="$MASTER" <"$T/api.in" >"$T/api.lines" 2>"$T/api.err" &
api_pid=$!
PIDS+=("$api_pid")
LOGS+=("$T/api.err")
exec {in}<"$T/api.lines"
ended=""
while IFS= read -r -t 120 -u "$in" line; do
    echo "$line" >>"$T/api.out"
    case $line in
        "ok - "*) ok 0 "${line#ok - }" ;;
        "not ok - "*) ok 1 "${line#not ok - }" ;;
        "#"*) echo "$line" ;;
        "framework "*) diag "driver A is $line" ;;
        "need stop-agent") kill -STOP "$PID_apiagent"; echo done >&"$out" ;;
        "need cont-agent") kill -CONT "$PID_apiagent"; echo done >&"$out" ;;
        "need restart-master")
            stop_master
            ok $? "the master stops on SIGTERM"
            restart_master
            ok $? "the master comes back on the same port"
            echo done >&"$out" ;;
        "need check-framework "*) check_framework "${line#need check-framework }"; echo done >&"$out" ;;
        "end "*) ended=${line#end } ;;
        "Bail out!"*) echo "$line"; ok 1 "the API test program bailed out" ;;
        *) diag "unexpected output: $line" ;;
    esac
done
kill -CONT "$PID_apiagent" 2>/dev/null
if [ -z "$ended" ]; then
    ok 1 "the API test program ran to its end"
    kill -TERM "$api_pid" 2>/dev/null
    diag "its stderr:"
    tail -20 "$T/api.err" | sed 's/^/#   /'
fi
wait "$api_pid"
is "$?" "0" "the API test program exits 0"

done_testing
