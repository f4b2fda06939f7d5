#!/bin/bash
# HTTP credentials (issue 10): bearer tokens on every mutating endpoint
# of the master, cairn-service and cairn-batch serve, sent by the `cairn`
# CLI and the frameworks' clients from --token-file / $CAIRN_TOKEN_FILE;
# token files other users can read are refused; a master on a
# non-loopback address without credentials refuses to start; HTTPS end
# to end with a self-signed certificate, on the master and on an agent
# whose tasks' files cairn, cairn-batch run and serve read (skipped
# without openssl).
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

BATCH=$B/frameworks/batch/cairn-batch
SERVICE_BIN=$B/frameworks/service/cairn-service
TOKEN=ops-0123456789abcdef0123
umask 077
printf '# the operators\nalice %s\nbob-the-second-token-xyz\n' "$TOKEN" >"$T/tokens"
printf 'nobody-knows-this-token-42\n' >"$T/wrong"

code () {               # code METHOD URL [CURL ARGS...]: the HTTP status
    local m=$1 u=$2
    shift 2
    curl -s -o "$T/body" -D "$T/headers" -w '%{http_code}' --max-time 10 -X "$m" "$@" "$u"
}

## Refusals at start
cp "$T/tokens" "$T/open-tokens"
chmod 644 "$T/open-tokens"
out=$("$MASTER_BIN" --ip=127.0.0.1 --port="$(free_port)" --http-port=0 --work-dir="$T/m0" \
      --http-token-file="$T/open-tokens" 2>&1)
rc=$?
ok $((rc == 0)) "a world-readable token file: the master does not start (status $rc)"
like "$out" "every user can read.*chmod 600" "and says why and what to do"
# 192.0.2.1 is TEST-NET-1: not ours, so nothing could listen there anyway.
out=$("$MASTER_BIN" --ip=192.0.2.1 --port="$(free_port)" --http-port=0 --work-dir="$T/m1" 2>&1)
rc=$?
is "$rc" 2 "a non-loopback --ip without credentials: exit status 2"
like "$out" "refusing to listen on 192.0.2.1.*--insecure" "naming the way out (--insecure)"
out=$("$MASTER_BIN" --ip=192.0.2.1 --port="$(free_port)" --http-port=0 --work-dir="$T/m2" \
      --insecure 2>&1)
unlike=$(printf '%s' "$out" | grep -c "refusing")
is "$unlike" 0 "with --insecure it gets past the check (then fails to bind 192.0.2.1)"

## The master with tokens
start_master --allocation-interval=100ms --http-token-file="$T/tokens"
ok_or_bail $? "master starts with --http-token-file"
start_agent a1 --resources="cpus:2;mem:512"
ok_or_bail $? "an agent registers (its link needs no HTTP token)"
aid=$(master_state | jq -r '.agents[0].id')

is "$(code GET "http://$MASTER_HTTP/state")" 200 "GET /state needs no token"
is "$(code GET "http://$MASTER_HTTP/metrics")" 200 "GET /metrics needs no token"
for ep in "tasks/kill?task_id=t1" "agents/drain?agent_id=$aid" "agents/undrain?agent_id=$aid" \
          "agents/gone?agent_id=$aid" "frameworks/teardown?framework_id=f-1"; do
    is "$(code POST "http://$MASTER_HTTP/$ep")" 401 "POST /${ep%%\?*} without a token: 401"
done
grep -qi '^WWW-Authenticate: Bearer' "$T/headers"
ok $? "a 401 carries WWW-Authenticate: Bearer"
like "$(jq -r .error "$T/body")" "needs a valid bearer token" "and a JSON error that says so"
is "$(code POST "http://$MASTER_HTTP/agents/drain?agent_id=$aid" \
      -H "Authorization: Bearer nobody-knows-this-token-42")" 401 "a wrong token: 401"
grep -qi 'invalid_token' "$T/headers"
ok $? "reported as invalid_token"
is "$(code POST "http://$MASTER_HTTP/tasks/kill?task_id=t1" -H "Authorization: Bearer $TOKEN")" \
   404 "with alice's token, kill reaches the master (404: no such task)"
is "$(code POST "http://$MASTER_HTTP/agents/drain?agent_id=$aid&grace=1s" \
      -H "Authorization: Bearer bob-the-second-token-xyz")" 200 \
   "a bare TOKEN line works too (principal operator): drain 200"
is "$(master_state | jq -r '.agents[0].drain != null')" true "the agent is draining"

# The CLI
out=$("$CAIRN_BIN" --master="$MASTER" agent undrain "$aid" 2>&1)
rc=$?
ok $((rc == 0)) "cairn agent undrain without a token fails"
like "$out" "bearer token" "and prints the master's reason"
"$CAIRN_BIN" --master="$MASTER" --token-file="$T/tokens" agent undrain "$aid" >/dev/null
ok $? "cairn --token-file=FILE agent undrain works"
is "$(master_state | jq -r '.agents[0].drain != null')" false "the agent is no longer draining"
CAIRN_TOKEN_FILE=$T/tokens "$CAIRN_BIN" --master="$MASTER" agent drain "$aid" --grace=1s >/dev/null
ok $? "\$CAIRN_TOKEN_FILE works too (agent drain)"
"$CAIRN_BIN" --master="$MASTER" agent undrain "$aid" --token-file="$T/tokens" >/dev/null
ok $? "--token-file after the command works"
"$CAIRN_BIN" --master="$MASTER" --token-file="$T/wrong" agent drain "$aid" >/dev/null 2>&1
ok $((! $?)) "a wrong token is refused"
"$CAIRN_BIN" --master="$MASTER" agents >/dev/null
ok $? "reading (cairn agents) needs no token"

## cairn-service
SVC_PORT=$(free_port)
SVC=127.0.0.1:$SVC_PORT
run_bg svc "$SERVICE_BIN" --master="$MASTER" --ip=127.0.0.1 --api-port="$SVC_PORT" \
    --state-dir="$T/svc.state" --http-token-file="$T/tokens"
wait_for 20 http_get "http://$SVC/health"
ok_or_bail $? "cairn-service starts with --http-token-file"
app='{"id":"sleepy","cmd":"sleep 300","instances":0,"cpus":0.1,"mem":16}'
is "$(code POST "http://$SVC/v1/apps" -H 'Content-Type: application/json' -d "$app")" 401 \
   "cairn-service: POST /v1/apps without a token: 401"
is "$(code GET "http://$SVC/v1/apps")" 200 "GET /v1/apps needs none"
is "$(code POST "http://$SVC/v1/apps" -H 'Content-Type: application/json' \
      -H "Authorization: Bearer $TOKEN" -d "$app")" 201 "with a token: 201"
"$CAIRN_BIN" --master="$MASTER" service --api="$SVC" scale sleepy 0 >/dev/null 2>&1
ok $((! $?)) "cairn service scale without a token fails"
"$CAIRN_BIN" --master="$MASTER" --token-file="$T/tokens" service --api="$SVC" delete sleepy \
    >/dev/null
ok $? "cairn service delete with --token-file works"

## cairn-batch serve
API_PORT=$(free_port)
API=127.0.0.1:$API_PORT
run_bg serve "$BATCH" serve --master="$MASTER" --state-dir="$T/batch" --api-port="$API_PORT" \
    --http-token-file="$T/tokens"
wait_for 20 http_get "http://$API/health"
ok_or_bail $? "cairn-batch serve starts with --http-token-file"
is "$(code POST "http://$API/v1/jobs" -H 'Content-Type: application/json' \
      -d '{"id":"j1","cmd":"true"}')" 401 "cairn-batch serve: POST /v1/jobs without a token: 401"
"$BATCH" submit --api="$API" --id=j2 -- true >/dev/null 2>&1
ok $((! $?)) "cairn-batch submit without a token fails"
"$BATCH" submit --api="$API" --token-file="$T/tokens" --id=j3 -- true >/dev/null
ok $? "cairn-batch submit --token-file works"
CAIRN_TOKEN_FILE=$T/tokens "$CAIRN_BIN" batch --api="$API" submit --id=j4 -- true >/dev/null
ok $? "cairn batch submit with \$CAIRN_TOKEN_FILE works"
is "$(code GET "http://$API/v1/jobs/j3")" 200 "the job is there (reading needs no token)"

## HTTPS
if ! command -v openssl >/dev/null; then
    for i in $(seq 1 21); do echo "ok - # SKIP openssl is not installed"; _tap_n=$((_tap_n + 1)); done
else
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
        -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
    ok_or_bail $? "openssl makes a self-signed certificate for 127.0.0.1"
    TP=$(free_port)
    run_bg tlsmaster "$MASTER_BIN" --ip=127.0.0.1 --port="$TP" --http-port=0 \
        --work-dir="$T/tlsmaster" --http-token-file="$T/tokens" \
        --http-tls-cert="$T/cert.pem" --http-tls-key="$T/key.pem"
    tls_up () { grep -q 'HTTP on https://' "$T/tlsmaster.log"; }
    wait_for 20 tls_up
    ok $? "a master with --http-tls-cert/--http-tls-key starts and advertises https://"
    TH=$(sed -n 's/.*HTTP on https:\/\/\([0-9.:]*\).*/\1/p' "$T/tlsmaster.log" | head -1)
    is "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/cert.pem" "https://$TH/health")" \
       200 "GET /health over HTTPS, the certificate verified"
    is "$(curl -s -o /dev/null -w '%{http_code}' "http://$TH/health")" 000 \
       "plain HTTP on that port gets no HTTP answer"
    out=$("$CAIRN_BIN" --master="127.0.0.1:$TP" agents 2>&1)
    ok $((! $?)) "cairn without --ca-file does not trust the certificate"
    "$CAIRN_BIN" --master="127.0.0.1:$TP" --ca-file="$T/cert.pem" --json agents >/dev/null
    ok $? "cairn --ca-file=FILE reads the master over HTTPS"
    is "$(CAIRN_CA_FILE=$T/cert.pem CAIRN_TOKEN_FILE=$T/tokens "$CAIRN_BIN" \
          --master="127.0.0.1:$TP" kill t-none 2>&1 | grep -c 'bearer token')" 0 \
       "and sends its token over HTTPS (the kill is not refused for want of one)"

    # An agent serving HTTPS, under the HTTPS master: the master shows its
    # address with the scheme, and every client that reads tasks' files
    # (cairn run and logs, cairn-batch run --output, serve, logs) follows
    # it, trusting the CA it was given.
    out=$(timeout 20 "$AGENT_BIN" --master="127.0.0.1:$TP" --ip=127.0.0.1 --http-port=0 \
          --work-dir="$T/halfagent" --isolation=posix --cgroup-root="$CGROUP_ROOT" \
          --http-tls-cert="$T/cert.pem" 2>&1)
    rc=$?
    ok $((rc == 0 || rc == 124)) "an agent with --http-tls-cert but no key does not start (status $rc)"
    like "$out" "needs both a certificate and a key" "and says the key is missing"
    run_bg tlsagent "$AGENT_BIN" --master="127.0.0.1:$TP" --ip=127.0.0.1 --http-port=0 \
        --hostname=tlsagent --work-dir="$T/tlsagent" --shutdown-tasks \
        --cgroup-root="$CGROUP_ROOT" --resources="cpus:2;mem:512" \
        --http-tls-cert="$T/cert.pem" --http-tls-key="$T/key.pem"
    tls_state () { curl -sf --max-time 10 --cacert "$T/cert.pem" "https://$TH/state"; }
    tls_agent_up () {
        tls_state | jq_e '.agents | map(select(.hostname == "tlsagent" and .state == "ACTIVE"))
                          | length == 1'
    }
    wait_for 20 tls_agent_up
    ok_or_bail $? "an agent with --http-tls-cert/--http-tls-key registers with the master"
    TA=$(tls_state | jq -r '.agents[] | select(.hostname == "tlsagent") | .http_address')
    like "$TA" '^https://127\.0\.0\.1:[0-9]+$' \
         "the master's /state shows the agent's http_address as https://HOST:PORT"
    is "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$T/cert.pem" "$TA/health")" 200 \
       "the agent's /health over HTTPS, the certificate verified"
    is "$(curl -s -o /dev/null -w '%{http_code}' "http://${TA#https://}/health")" 000 \
       "plain HTTP on the agent's port gets no HTTP answer"
    CT=(--master="127.0.0.1:$TP" --ca-file="$T/cert.pem")
    out=$("$CAIRN_BIN" "${CT[@]}" run --name=tlsrun -- sh -c 'echo out-of-$CAIRN_HOSTNAME' \
          2>"$T/tlsrun.err")
    is "$out" "out-of-tlsagent" "cairn run --ca-file prints the task's output, read over HTTPS"
    is "$("$CAIRN_BIN" "${CT[@]}" logs tlsrun 2>&1)" "out-of-tlsagent" \
       "cairn logs --ca-file reads the task's stdout from the agent over HTTPS"
    "$BATCH" run "${CT[@]}" --quiet --output="$T/tlsout" --id=tlsjob --count=2 --shell -- \
        'echo batch-$CAIRN_ARRAY_INDEX-on-$CAIRN_HOSTNAME' >"$T/tlsjob.out" 2>"$T/tlsjob.err"
    is "$?" 0 "cairn-batch run --ca-file runs a job through the HTTPS master"
    is "$(cat "$T/tlsout/tlsjob/0.stdout" "$T/tlsout/tlsjob/1.stdout" 2>&1 | paste -sd' ')" \
       "batch-0-on-tlsagent batch-1-on-tlsagent" \
       "and its --output has each task's stdout, read from the agent over HTTPS"
    TAPI_PORT=$(free_port)
    TAPI=127.0.0.1:$TAPI_PORT
    run_bg tlsserve env CAIRN_CA_FILE="$T/cert.pem" "$BATCH" serve --master="127.0.0.1:$TP" \
        --state-dir="$T/tlsbatch" --api-port="$TAPI_PORT"
    wait_for 20 http_get "http://$TAPI/health"
    ok_or_bail $? "cairn-batch serve starts under the HTTPS master (CA from \$CAIRN_CA_FILE)"
    "$BATCH" submit --api="$TAPI" --id=tlsboom --shell -- \
        'echo tls-oops-on-$CAIRN_HOSTNAME >&2; exit 3' >/dev/null
    ok $? "a job that fails is submitted to it"
    boom_tail () {
        http_get "http://$TAPI/v1/jobs/tlsboom" |
            jq_e '.failures[0].stderr == "tls-oops-on-tlsagent"'
    }
    wait_for 30 boom_tail
    ok $? "serve keeps the failed task's stderr tail, read from the agent over HTTPS"
    is "$("$BATCH" logs --api="$TAPI" --ca-file="$T/cert.pem" --stderr tlsboom 2>&1)" \
       "tls-oops-on-tlsagent" "cairn-batch logs --ca-file reads it from the agent over HTTPS"
fi

done_testing
