#!/bin/bash
# Hostile input: a master on 127.0.0.1 is sent random frames, truncated
# and lying msgpack, unknown types and versions, wrong frame counts,
# bodies over the size limits, messages out of role and launches on
# offers that do not exist or cannot hold the tasks, by
# tests/tools/cairn-poke. Each must get the documented answer (none only
# where the first frame is not a Cairn header); afterwards the same
# master process still serves /health and a normal hello run on two
# agents.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

POKE_BIN=$B/tests/tools/cairn-poke
[ -x "$POKE_BIN" ] || skip_all "$POKE_BIN is not built (make check builds it)"

# poke SCENARIO [FLAGS...]: runs cairn-poke against the master; its output
# goes to $T/SCENARIO.out and $out. Returns cairn-poke's exit status: 0
# when the master answered every case.
poke () {
    local scenario=$1
    shift
    timeout 120 "$POKE_BIN" --master="$MASTER" "$@" "$scenario" \
        >"$T/$scenario.out" 2>"$T/$scenario.err"
    local rc=$?
    out=$(cat "$T/$scenario.out")
    if [ $rc -ne 0 ]; then
        diag "cairn-poke $scenario exited $rc:"
        sed 's/^/#   /' "$T/$scenario.out" "$T/$scenario.err" | grep -v ': ERROR code=' | tail -20
    fi
    return $rc
}

# answer CASE: what cairn-poke printed for one case of the last scenario,
# without the "CASE: " prefix (one line per answer).
answer () {
    awk -v p="$1: " 'index($0, p) == 1 { print substr($0, length(p) + 1) }' <<<"$out"
}

# expect CASE REGEX DESCRIPTION: the case got exactly one answer, matching.
expect () {
    local got
    got=$(answer "$1")
    if [ "$(grep -c '' <<<"$got")" -ne 1 ]; then
        ok 1 "$3"
        diag "case $1 got $(grep -c '' <<<"$got") answers:"
        printf '%s\n' "$got" | head -5 | sed 's/^/#   /'
        return
    fi
    like "$got" "$2" "$3"
}

health_id () {
    http_get "http://$MASTER_HTTP/health" | jq -r .master_id
}

start_master --allocation-interval=200ms
ok $? "master starts and answers /health"
master_id=$(health_id)

# Random frames from a fixed seed: 1 to 6 frames, headers random, with
# the signature and a random version or type, or valid; bodies random,
# empty, msgpack markers, or valid examples with a few edits. Answers are
# counted by cairn-poke; each connection ends with a PING.
poke random --seed=1 --count=2000
is "$?" "0" "random: the master answers a PING after each of 20 batches of 100 random messages"
like "$out" "^random: seed=1 sent=2000 connections=20 answered=20 " "random: all 2000 messages sent, 20 connections answered"
like "$out" " badreplies=0$" "random: every answer is a message the codec accepts"
like "$out" " errors=[1-9][0-9]* " "random: the master answers bad messages with ERROR"
for code in malformed version unknown-type bad-field; do
    like "$out" "code=$code count=[1-9]" "random: some answers are '$code' errors"
done
diag "$(grep -E '^random: (seed|code)' <<<"$out" | tr '\n' ' ')"
is "$(health_id)" "$master_id" "random: the same master answers /health"

# The same from connections that registered a framework first, so that
# framework-only types reach their handlers.
poke random-registered --seed=2 --count=1000
is "$?" "0" "random-registered: the master answers a PING after each of 10 batches"
like "$out" "^random-registered: seed=2 sent=1000 connections=10 answered=10 .* badreplies=0$" \
     "random-registered: all answered, every answer a valid message"
diag "$(grep -E '^random-registered: (seed|code)' <<<"$out" | tr '\n' ' ')"

# Every proper prefix of a valid FRAMEWORK_REGISTER body is refused as
# malformed (msgpack-c alone would say "continue"), and so is one extra
# byte at the end (msgpack-c alone would ignore it).
poke truncated
is "$?" "0" "truncated: the master answers every prefix"
size=$(sed -n 's/^truncated: body of \([0-9]*\) bytes$/\1/p' <<<"$out")
is "$(grep -cE '^truncated-[0-9]+: ERROR code=malformed in_reply_to=FRAMEWORK_REGISTER message=FRAMEWORK_REGISTER: ' <<<"$out")" \
   "$size" "truncated: all $size prefixes get a 'malformed' error naming FRAMEWORK_REGISTER"
expect truncated-0 "message=FRAMEWORK_REGISTER: the body is truncated" "truncated: an empty body is reported as truncated"
expect trailing "^ERROR code=malformed in_reply_to=FRAMEWORK_REGISTER message=.*1 trailing byte" \
       "truncated: one trailing byte is refused"

# A valid header of a type the protocol lacks.
poke unknown-type
is "$?" "0" "unknown-type: the master answers"
for t in 0 4 19 99 255; do
    expect "type-$t" "^ERROR code=unknown-type in_reply_to=0 message=message type $t is not part of protocol version 1$" \
           "unknown-type: type $t is refused as unknown-type"
done

# Valid msgpack, invalid fields: the error has the right code and names
# the message type and the field's path.
poke fields
is "$?" "0" "fields: the master answers every case"
while IFS='|' read -r case regex; do
    expect "$case" "$regex" "fields: $case"
done <<'EOF'
name-int|^ERROR code=bad-field in_reply_to=FRAMEWORK_REGISTER message=FRAMEWORK_REGISTER: name: expected a string
timeout-string|^ERROR code=bad-field in_reply_to=FRAMEWORK_REGISTER message=FRAMEWORK_REGISTER: failover_timeout_ms: expected an integer
labels-array|^ERROR code=bad-field in_reply_to=FRAMEWORK_REGISTER message=FRAMEWORK_REGISTER: labels: expected a map
name-not-utf8|^ERROR code=bad-field in_reply_to=FRAMEWORK_REGISTER message=FRAMEWORK_REGISTER: name: is not valid UTF-8
name-nul|^ERROR code=bad-field in_reply_to=FRAMEWORK_REGISTER message=FRAMEWORK_REGISTER: name: .*NUL
id-space|^ERROR code=bad-field in_reply_to=FRAMEWORK_REGISTER message=FRAMEWORK_REGISTER: id: is not a valid id
seq-string|^ERROR code=bad-field in_reply_to=PING message=PING: seq: expected an integer, got a string
seq-negative|^ERROR code=bad-field in_reply_to=PING message=PING: seq: -5 is out of range
seq-huge|^ERROR code=bad-field in_reply_to=PING message=PING: seq: 18446744073709551615 is out of range
seq-float|^ERROR code=bad-field in_reply_to=PING message=PING: seq: expected an integer, got a float
body-array|^ERROR code=bad-field in_reply_to=PING message=PING: expected a map, got an array
missing-field|^ERROR code=missing-field in_reply_to=PING message=PING: field 'seq' is missing
unknown-field|^ERROR code=unknown-field in_reply_to=PING message=PING: unknown field 'bogus'
field-twice|^ERROR code=bad-field in_reply_to=PING message=PING: field 'seq' is given twice
key-int|^ERROR code=bad-field in_reply_to=PING message=PING: field names must be
unknown-field-utf8|^ERROR code=unknown-field in_reply_to=PING message=PING: unknown field 'a{60}
offer-ids-string|^ERROR code=bad-field in_reply_to=ACCEPT message=ACCEPT: offer_ids: expected an array
task-mem-negative|^ERROR code=bad-field in_reply_to=ACCEPT message=ACCEPT: tasks\[0\]\.resources\.mem: 
unknown-resource-utf8|^ERROR code=bad-field in_reply_to=ACCEPT message=ACCEPT: tasks\[0\]\.resources: unknown resource 'r{30}
EOF

# Over the codec's limit but under ZeroMQ's: a "too-large" answer. At the
# limit the size passes and the content is judged.
poke oversize
is "$?" "0" "oversize: the master answers"
expect oversize "^ERROR code=too-large in_reply_to=PING message=PING: the body is 8388609 bytes, the limit is 8388608$" \
       "oversize: a body of PROTO_MAX_BODY + 1 bytes is refused as too-large, naming both sizes"
expect at-limit "^ERROR code=malformed in_reply_to=PING " "oversize: a body of exactly PROTO_MAX_BODY bytes is judged by its content"

# Over ZeroMQ's limit: the connection is dropped unanswered; the master
# serves the next one.
poke huge
is "$?" "0" "huge: the master answers a new connection after a message over TRANSPORT_MAX_MSGSIZE"
is "$(answer huge)" "NOREPLY" "huge: no answer on the connection that sent it"

# Other protocol versions: the answer names both.
poke version
is "$?" "0" "version: the master answers"
for v in 0 2 255; do
    expect "version-$v" "^ERROR code=version in_reply_to=PING message=.*version $v .*version 1$" \
           "version: version $v is refused, naming versions $v and 1"
done
expect version-2-type-200 "^ERROR code=version in_reply_to=0 message=protocol version 2 .*version 1$" \
       "version: a version-2 message of a type version 1 lacks is refused as a version mismatch"

# Wrong frame counts: answered when the first frame is a Cairn header,
# dropped silently when it is not.
poke frames
is "$?" "0" "frames: the master answers a PING after each case"
for n in 1 3 6; do
    case $n in 1) c=header-only ;; 3) c=three-frames ;; 6) c=six-frames ;; esac
    expect "$c" "^ERROR code=malformed in_reply_to=PING message=a message must have 2 frames \(header, body\), this one has $n$" \
           "frames: $n frames with a PING header are refused, naming the count"
done
for c in body-only empty-frame short-header long-header junk-header; do
    is "$(answer $c)" "NOREPLY" "frames: $c is dropped without an answer"
done
expect empty-body "^ERROR code=malformed in_reply_to=PING message=PING: the body is truncated" \
       "frames: an empty body frame is refused as truncated"

# A few bytes declaring 2^32-1 elements (or bytes): refused before any
# allocation (under ASan, an allocation of that size would abort).
poke amplify
is "$?" "0" "amplify: the master answers every case"
for c in array32-max map32-max array32-2pow28 map16-max nested-array32 nested-map32; do
    expect "$c" "^ERROR code=malformed in_reply_to=FRAMEWORK_REGISTER message=FRAMEWORK_REGISTER: a container at byte [0-9]+ declares [0-9]+ elements" \
           "amplify: $c is refused as malformed"
done
for c in str32-max bin32-max ext32-max; do
    expect "$c" "^ERROR code=malformed in_reply_to=FRAMEWORK_REGISTER message=FRAMEWORK_REGISTER: a value at byte [0-9]+ declares [0-9]+ bytes" \
           "amplify: $c is refused as malformed"
done
expect deep "^ERROR code=malformed .*nested deeper than 16 levels" "amplify: 17 nested arrays are refused"
expect many-values "^ERROR code=too-large .*more than 1048576 values" "amplify: 2^20 + 1 values are refused as too-large"
diag "master peak RSS after the oversize and amplification cases: $(awk '/VmHWM/ { print $2, $3 }' "/proc/$PID_master/status")"

# Every type, well-formed, from a connection that never registered.
poke unregistered
is "$?" "0" "unregistered: the master answers every case"
for t in ACCEPT DECLINE KILL REVIVE SUPPRESS RECONCILE UNREGISTER STATUS_ACK UPDATE_FRAMEWORK; do
    expect "unregistered-$t" "^ERROR code=not-registered in_reply_to=$t message=$t needs a registered framework" \
           "unregistered: $t is refused as not-registered"
done
expect unregistered-STATUS_UPDATE "^ERROR code=not-registered in_reply_to=STATUS_UPDATE message=STATUS_UPDATE needs a registered agent" \
       "unregistered: STATUS_UPDATE is refused as not-registered (agent)"
for t in AGENT_REGISTERED RUN_TASKS KILL_TASK AGENT_SHUTDOWN FRAMEWORK_REGISTERED OFFERS RESCIND AGENT_LOST INFO; do
    expect "unregistered-$t" "^ERROR code=unexpected in_reply_to=$t " "unregistered: $t (sent by the master) is refused as unexpected"
done
is "$(answer unregistered-ERROR)$(answer unregistered-PONG)" "NOREPLYNOREPLY" "unregistered: ERROR and PONG are not answered"

# A registered framework launches on an offer that was never made.
poke bogus-offer
is "$?" "0" "bogus-offer: the master answers"
for t in t1 t2; do
    like "$(answer bogus-offer | grep "task=$t ")" \
         "^STATUS task=$t state=TASK_DROPPED reason=REASON_INVALID_OFFERS agent=- message=offer no-such-offer is not outstanding" \
         "bogus-offer: task $t is DROPPED with INVALID_OFFERS, naming the offer"
done
is "$(answer bogus-offer | grep -c '')" "2" "bogus-offer: one status per task, nothing else"
expect framework-sends-status "^ERROR code=not-registered in_reply_to=STATUS_UPDATE message=STATUS_UPDATE needs a registered agent" \
       "bogus-offer: a framework's STATUS_UPDATE is refused as not-registered"
expect framework-registers-agent "^ERROR code=refused in_reply_to=AGENT_REGISTER message=this connection is registered as framework f-" \
       "bogus-offer: AGENT_REGISTER on a framework's connection is refused"
is "$(health_id)" "$master_id" "the same master answers /health after the unregistered cases"

# One connection registers a second framework (no id), then unregisters,
# which tears down the second. Neither may be left "connected" to a
# connection that does not speak for it: it would take offers nobody can
# use until the ping timeout.
poke reregister
is "$?" "0" "reregister: the master answers"
first=$(sed -n 's/^reregister-ids: first=\([^ ]*\) .*/\1/p' <<<"$out")
diag "reregister: $(grep -E '^(reregister|twice)' <<<"$out" | tr '\n' ' ')"
is "$(master_state | jq '[.frameworks[] | select(.name == "twice-1" or .name == "twice-2") | select(.connected)] | length')" \
   "0" "reregister: no framework stays connected after its connection unregistered"
# Tear a left-behind framework down through its id, so that it holds no
# offers of the agents started below.
if [ -n "$first" ] && [ "$(master_state | jq -r --arg f "$first" '.frameworks[] | select(.id == $f) | .connected')" = "true" ]; then
    poke reclaim --framework-id="$first"
    like "$out" "^reclaim: REGISTERED framework=$first$" "reregister: the left-behind framework $first is reclaimed through its id"
fi

# With a real offer: tasks that do not fit, the same offer twice, another
# framework's offer, and a task id twice in one launch.
start_agent agent1 --resources="cpus:1;mem:1024;ports:[31000-31099]"
ok $? "agent1 registers"

poke overcommit
is "$?" "0" "overcommit: the master answers every case"
offer=$(sed -n 's/^overcommit-offer: \([^ ]*\) of .*/\1/p' <<<"$out")
like "$(answer overcommit | grep 'task=big ')" \
     "^STATUS task=big state=TASK_ERROR reason=REASON_TASK_INVALID agent=a-[^ ]+ message=task big asks for cpus:2;mem:32 but the offers have only cpus:1;" \
     "overcommit: a task asking for more cpus than offered is TASK_ERROR / TASK_INVALID, saying what is left"
like "$(answer overcommit | grep 'task=nothing ')" \
     "^STATUS task=nothing state=TASK_ERROR reason=REASON_TASK_INVALID .*must ask for some cpus or mem" \
     "overcommit: a task asking for nothing is TASK_ERROR / TASK_INVALID"
is "$(answer overcommit | grep -c '')" "2" "overcommit: one status per task, nothing else"
expect offer-again "^STATUS task=again state=TASK_DROPPED reason=REASON_INVALID_OFFERS agent=- message=offer $offer is not outstanding" \
       "overcommit: the same offer accepted twice: the second launch is DROPPED, naming the offer"
expect foreign-offer "^STATUS task=stolen state=TASK_DROPPED reason=REASON_INVALID_OFFERS agent=- message=offer [^ ]+ was made to another framework" \
       "overcommit: another framework's offer: DROPPED"
expect offer-survives "^STATUS task=empty state=TASK_ERROR reason=REASON_TASK_INVALID " \
       "overcommit: the offer another framework tried to use is still its owner's"
expect offer-twice "^STATUS task=twice state=TASK_DROPPED reason=REASON_INVALID_OFFERS agent=- message=offer [^ ]+ is listed twice$" \
       "overcommit: one offer listed twice in a launch: DROPPED"
is "$(answer offer-twice-returns)" "OFFERS" "overcommit: the offer listed twice is offered again"

poke duplicate
is "$?" "0" "duplicate: the master answers, and the first task ends"
is "$(grep -c 'state=TASK_ERROR' <<<"$out")" "1" "duplicate: exactly one of the two tasks is refused"
like "$(grep 'state=TASK_ERROR' <<<"$out")" \
     "^duplicate: STATUS task=dup state=TASK_ERROR reason=REASON_TASK_INVALID agent=a-[^ ]+ message=task id dup is already in use by this framework$" \
     "duplicate: the second 'dup' is TASK_ERROR / TASK_INVALID, naming the id"
like "$out" "^duplicate(-run)?: STATUS task=dup state=TASK_FINISHED " "duplicate: the first 'dup' runs and finishes"

# Afterwards: the same master process, serving as before.
is "$(health_id)" "$master_id" "the same master (id $master_id) answers /health"
kill -0 "$PID_master" 2>/dev/null
ok $? "cairn-master is still running as PID $PID_master"
is "$(ps -o comm= -p "$PID_master")" "cairn-master" "PID $PID_master is still cairn-master"
state=$(master_state)
is "$(jq '[.frameworks[] | select(.connected)] | length' <<<"$state")" "0" \
   "no framework is left connected after cairn-poke's connections closed"
is "$(jq '[.frameworks[] | select(.user == "cairn-poke" and (.removed | not))] | length' <<<"$state")" "0" \
   "every framework cairn-poke registered is torn down"
is "$(jq '.offers | length' <<<"$state")" "0" "no offer is left outstanding"
is "$(jq '.agents | map(.used.cpus) | add' <<<"$state")" "0" "no resources stay in use"

start_agent agent2 --resources="cpus:1;mem:1024;ports:[31100-31199]"
ok $? "agent2 registers"
timeout 120 "$HELLO_BIN" --master="$MASTER" --tasks=5 >"$T/hello.out" 2>&1
is "$?" "0" "hello runs 5 tasks on two agents and exits 0"
like "$(tail -3 "$T/hello.out")" "5 of 5 tasks finished, 0 did not" "hello reports 5 of 5 finished"
is "$(health_id)" "$master_id" "the same master answers /health after hello"

if grep -q "refusing to send an invalid message" "$T/master.log"; then
    ok 1 "the master never built an answer its own codec refuses"
    grep "refusing to send an invalid message" "$T/master.log" | cut -d' ' -f2- | sort | uniq -c \
        | head -5 | sed 's/^/#   /'
else
    ok 0 "the master never built an answer its own codec refuses"
fi

done_testing
