#!/bin/bash
# Tasks' files read through the master: GET /tasks/files/read and
# /tasks/files/browse are forwarded to the task's agent. Checks exact
# contents, paging from the returned next offset, the listing, the
# errors (400 naming the parameter, 404, the agent's own 4xx, 504 for an
# agent that does not answer, 503 beyond the requests in flight, 502 for
# an agent that is gone), that the master keeps serving while agents
# hang, and HTTPS agents with --agent-ca-file.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
command -v jq >/dev/null || skip_all "jq is not installed"
C=$CAIRN_BIN

start_master --allocation-interval=100ms
ok_or_bail $? "master starts"
export CAIRN_MASTER=$MASTER
start_agent a1 --resources="cpus:2;mem:1024;ports:[31000-31009]"
ok_or_bail $? "agent a1 registers"
M=http://$MASTER_HTTP

# get URL: the body to $T/body, the headers to $T/headers; prints the status.
get () {
    curl -s --max-time 30 -D "$T/headers" -o "$T/body" -w '%{http_code}' "$1"
}
header () {             # header NAME: its value in $T/headers
    tr -d '\r' <"$T/headers" | awk -v n="$(echo "$1" | tr A-Z a-z)" \
        'index(tolower($0), n ": ") == 1 { print substr($0, length(n) + 3) }'
}

# A task that writes a line, waits for a file to appear, writes another
# and sleeps. cairn run is stopped by this script, not by stop_all.
"$C" run --name=writer -- sh -c "echo first-line-4711; echo to-stderr >&2; \
    while [ ! -e '$T/go' ]; do sleep 0.1; done; echo second-line-4712; exec sleep 300" \
    >"$T/writer.out" 2>&1 &
RUN_PID=$!
wait_for 20 bash -c "'$C' --json task writer | jq_e '.state == \"TASK_RUNNING\"'"
ok_or_bail $? "a long task runs"
task=$("$C" --json task writer)
FW=$(jq -r .framework_id <<<"$task")
AGENT_ID=$(jq -r .agent_id <<<"$task")
Q="framework_id=$FW&task_id=writer"

# --- reading -------------------------------------------------------------
wait_for 10 bash -c "curl -sf '$M/tasks/files/read?$Q&file=stdout' | grep -q first-line"
ok $? "the task's stdout is readable through the master"
is "$(get "$M/tasks/files/read?$Q&file=stdout")" "200" "GET /tasks/files/read answers 200"
printf 'first-line-4711\n' >"$T/want1"
cmp -s "$T/body" "$T/want1"
ok $? "it returns exactly what the task wrote"
is "$(header X-Cairn-Next-Offset)" "16" "X-Cairn-Next-Offset is where the next read starts"
is "$(header X-Cairn-File-Size)" "16" "X-Cairn-File-Size is the file's size"
like "$(header Content-Type)" "^application/octet-stream" "the content type is the agent's"
is "$(header X-Content-Type-Options)" "nosniff" "and the browser is told not to sniff it"
is "$(get "$M/tasks/files/read?task_id=writer&path=stderr")" "200" \
   "framework_id may be left out, and path= names the file too"
is "$(cat "$T/body")" "to-stderr" "stderr is read"

# Paging: a part, then from the offset returned.
get "$M/tasks/files/read?$Q&file=stdout&offset=6&length=4" >/dev/null
is "$(cat "$T/body")" "line" "offset and length cut a range"
is "$(header X-Cairn-Next-Offset)" "10" "and the next offset follows it"
get "$M/tasks/files/read?$Q&file=stdout&offset=16" >/dev/null
is "$(stat -c %s "$T/body")" "0" "nothing new yet from the next offset"
is "$(header X-Cairn-Next-Offset)" "16" "the next offset stays"
touch "$T/go"
wait_for 10 bash -c "curl -sf '$M/tasks/files/read?$Q&file=stdout&offset=16' | grep -q ."
ok $? "new output shows up from the next offset"
get "$M/tasks/files/read?$Q&file=stdout&offset=16" >/dev/null
printf 'second-line-4712\n' >"$T/want2"
cmp -s "$T/body" "$T/want2"
ok $? "reading from the next offset returns only the new output"
is "$(header X-Cairn-Next-Offset)" "33" "and a new next offset"

# --- browsing ------------------------------------------------------------
is "$(get "$M/tasks/files/browse?$Q")" "200" "GET /tasks/files/browse answers 200"
jq_e 'any(.[]; .name == "stdout" and .type == "file" and .size == 33)
      and any(.[]; .name == "stderr" and .type == "file")' <"$T/body" >/dev/null
ok $? "it lists stdout (with its size) and stderr"
like "$(header Content-Type)" "^application/json" "as JSON"
is "$(get "$M/tasks/files/browse?$Q&path=.")" "200" "path=. browses the sandbox too"

# --- errors --------------------------------------------------------------
is "$(get "$M/tasks/files/read?framework_id=$FW")" "400" "a read without task_id is 400"
jq_e '.field == "task_id" and (.error | test("task_id"))' <"$T/body" >/dev/null
ok $? "naming task_id"
is "$(get "$M/tasks/files/browse")" "400" "a browse without task_id is 400"
is "$(get "$M/tasks/files/read?$Q&offset=abc")" "400" "a bad offset is 400"
jq_e '.field == "offset" and (.error | test("abc"))' <"$T/body" >/dev/null
ok $? "naming offset and the bad value"
is "$(get "$M/tasks/files/read?$Q&length=-1")" "400" "a bad length is 400"
jq_e '.field == "length"' <"$T/body" >/dev/null
ok $? "naming length"
is "$(get "$M/tasks/files/read?framework_id=$FW&task_id=no-such-task")" "404" \
   "an unknown task is 404"
jq_e '.error | test("no-such-task")' <"$T/body" >/dev/null
ok $? "with a JSON error naming it"
is "$(get "$M/tasks/files/read?$Q&file=../../etc")" "400" \
   "a path out of the sandbox: the agent's 400 passed through"
jq_e '.error | test("outside the task.s sandbox")' <"$T/body" >/dev/null
ok $? "with the agent's error"
is "$(get "$M/tasks/files/read?$Q&file=no-such-file")" "404" \
   "a file that does not exist: the agent's 404 passed through"
is "$(get "$M/tasks/files/browse?$Q&path=stdout")" "400" "browsing a file: the agent's 400"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$M/tasks/files/read?$Q")
is "$code" "405" "POST /tasks/files/read is 405"

# --- an agent that does not answer: 504, and the master goes on ---------
kill -STOP "$PID_a1"
for i in $(seq 1 32); do
    curl -s --max-time 30 -o "$T/hang$i.json" -w '%{http_code}\n' \
        "$M/tasks/files/read?$Q" >"$T/hang$i.code" &
    HANG_PIDS+=($!)
done
sleep 2
start=$(date +%s%N)
is "$(get "$M/health")" "200" "the master answers /health while 32 reads wait for the agent"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 2000 ]
ok $? "at once (${ms} ms)"
is "$(get "$M/tasks/files/read?$Q")" "503" "a 33rd read in flight is 503"
jq_e '.error | test("too many file requests in flight")' <"$T/body" >/dev/null
ok $? "saying too many file requests are in flight"
wait "${HANG_PIDS[@]}"
is "$(cat "$T"/hang*.code | sort -u | paste -sd,)" "504" "the 32 waiting reads end with 504"
jq_e --arg a "$AGENT_ID" '.agent_id == $a and (.error | test($a))' <"$T/hang1.json" >/dev/null
ok $? "naming the agent"
kill -CONT "$PID_a1"
is "$(get "$M/tasks/files/read?$Q&length=5")" "200" "reads work again once the agent goes on"
is "$(cat "$T/body")" "first" "with the right bytes"

# --- an agent that is gone: 502, and the master goes on ------------------
# The task's process group, to end it by hand once its agent is killed.
pidfile=$(ls "$T"/a1/run/"$FW"/writer/*/pid 2>/dev/null | head -1)
TASK_PID=$(cat "$pidfile" 2>/dev/null)
kill -KILL "$PID_a1"
wait "$PID_a1" 2>/dev/null
is "$(get "$M/tasks/files/read?$Q")" "502" "a read from a task whose agent is gone is 502"
jq_e --arg a "$AGENT_ID" '.agent_id == $a and (.error | test($a))' <"$T/body" >/dev/null
ok $? "with a JSON error naming the agent"
like "$(jq -r .error "$T/body")" "cannot reach agent" "and saying it cannot be reached"
is "$(get "$M/tasks/files/browse?$Q")" "502" "a browse too"
is "$(get "$M/health")" "200" "the master still serves /health"
kill -0 "$PID_master"
ok $? "and is still running"
[ -n "$TASK_PID" ] && kill -KILL -- "-$TASK_PID" 2>/dev/null
kill -KILL "$RUN_PID" 2>/dev/null
wait "$RUN_PID" 2>/dev/null
# stop_all must not signal the agent killed above (its PID may be reused).
for i in "${!PIDS[@]}"; do
    [ "${PIDS[$i]}" = "$PID_a1" ] && unset 'PIDS[i]'
done

# --- an agent serving HTTPS: --agent-ca-file -----------------------------
if ! command -v openssl >/dev/null; then
    for i in $(seq 1 4); do echo "ok - # SKIP openssl is not installed"; _tap_n=$((_tap_n + 1)); done
else
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1" -keyout "$T/key.pem" -out "$T/cert.pem" \
        >/dev/null 2>&1
    ok_or_bail $? "openssl makes a certificate for 127.0.0.1"
    stop_master
    restart_master --allocation-interval=100ms --agent-ca-file="$T/cert.pem"
    ok_or_bail $? "the master restarts with --agent-ca-file"
    start_agent tls1 --resources="cpus:2;mem:1024;ports:[31010-31019]" \
        --http-tls-cert="$T/cert.pem" --http-tls-key="$T/key.pem"
    ok_or_bail $? "an agent serving HTTPS registers"
    "$C" --ca-file="$T/cert.pem" run --name=tlstask -- sh -c 'echo over-tls' >/dev/null 2>&1
    is "$(get "$M/tasks/files/read?task_id=tlstask")$(cat "$T/body")" "200over-tls" \
       "the master reads a task's stdout from an HTTPS agent"
fi

done_testing
