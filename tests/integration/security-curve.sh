#!/bin/bash
# ZeroMQ CURVE on the master's links, principals and the ACL (issue 10):
# - cairn keygen writes key pairs; the master takes its secret key and an
#   allow directory of clients' public keys, each bound to a principal;
# - a client without a listed key (none, or one not in the directory)
#   never reaches the master's handlers: its messages are not counted;
# - agents and frameworks with listed keys register, under the principal
#   of their key (in /state); a framework claiming another principal is
#   refused;
# - the ACL: an agent principal not allowed to register, a framework
#   principal not allowed a role, a task user not allowed, an operator
#   action not allowed: each refused with a clear error and a log line;
# - the CLI talks CURVE with --master-public-key/--curve-cert;
# - a non-loopback master with CURVE but no HTTP token still refuses.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

K=$T/keys
ALLOW=$T/allow
mkdir -p "$ALLOW"
for n in master agent1 sched ops rogue; do
    "$CAIRN_BIN" keygen --out="$K" --name="$n" >/dev/null
    ok_or_bail $? "cairn keygen --name=$n"
done
"$CAIRN_BIN" keygen --out="$K" --name=agent2 --principal=untrusted >/dev/null
ok $? "cairn keygen --principal=untrusted"
"$CAIRN_BIN" keygen --out="$K" --name=sched >/dev/null 2>&1
ok $((! $?)) "keygen refuses to overwrite a key"
is "$(stat -c %a "$K/sched.key_secret")" 600 "the secret key file is mode 0600"
grep -q 'principal = "untrusted"' "$K/agent2.key"
ok $? "the principal is in the public key's metadata"
for n in agent1 agent2 sched ops; do cp "$K/$n.key" "$ALLOW/"; done

cat >"$T/acl.json" <<'ACL'
{
  "register_agents": [ { "principals": ["agent1"] } ],
  "register_frameworks": [ { "principals": ["sched"], "roles": ["prod"] } ],
  "run_tasks": [ { "principals": ["sched"], "users": ["nobody"] } ],
  "operator": [ { "principals": ["ops"], "actions": "ANY" },
                { "principals": ["viewer"], "actions": ["undrain"] } ],
  "teardown_frameworks": [ { "principals": ["ops"], "framework_principals": ["sched"] } ]
}
ACL
umask 077
printf 'ops ops-token-0123456789abcdef\nviewer viewer-token-0123456789ab\n' >"$T/tokens"

out=$("$MASTER_BIN" --ip=192.0.2.1 --port="$(free_port)" --http-port=0 --work-dir="$T/m0" \
      --curve-secret="$K/master.key_secret" --curve-allow-dir="$ALLOW" 2>&1)
is "$?" 2 "CURVE without an HTTP token file on a non-loopback --ip: refused"
like "$out" "without credentials: give --http-token-file" "naming what is missing"
echo '{"operators": []}' >"$T/bad-acl.json"
out=$("$MASTER_BIN" --ip=127.0.0.1 --port="$(free_port)" --http-port=0 --work-dir="$T/m1" \
      --acl="$T/bad-acl.json" 2>&1)
is "$?" 2 "an ACL with an unknown section: the master does not start"
like "$out" "unknown section 'operators'" "and names the section"

start_master --allocation-interval=100ms --curve-secret="$K/master.key_secret" \
    --curve-allow-dir="$ALLOW" --acl="$T/acl.json" --http-token-file="$T/tokens"
ok_or_bail $? "master starts with CURVE, an ACL and HTTP tokens"
CURVE_AGENT=(--master-public-key="$K/master.key" --curve-cert="$K/agent1.key_secret")
start_agent agent1 --resources="cpus:2;mem:1024" "${CURVE_AGENT[@]}"
ok_or_bail $? "an agent with a listed key registers"
is "$(master_state | jq -r '.agents[] | select(.hostname == "agent1") | .principal')" agent1 \
   "/state shows the agent's principal (its key's)"

registers () {          # the master's count of AGENT_REGISTER messages handled
    http_get "http://$MASTER_HTTP/metrics" |
        sed -n 's/^cairn_master_messages_received_total{type="AGENT_REGISTER"} //p'
}
before=$(registers)
run_bg plain "$AGENT_BIN" --master="$MASTER" --ip=127.0.0.1 --http-port=0 --hostname=plain \
    --work-dir="$T/plain" --shutdown-tasks --cgroup-root="$CGROUP_ROOT"
run_bg rogue "$AGENT_BIN" --master="$MASTER" --ip=127.0.0.1 --http-port=0 --hostname=rogue \
    --work-dir="$T/rogue" --shutdown-tasks --cgroup-root="$CGROUP_ROOT" \
    --master-public-key="$K/master.key" --curve-cert="$K/rogue.key_secret"
# Each retries its registration every few hundred ms meanwhile.
sleep 3
is "$(registers)" "$before" \
   "agents without a key or with an unlisted key never reach the handlers (no AGENT_REGISTER counted)"
is "$(master_state | jq '[.agents[] | select(.hostname != "agent1")] | length')" 0 \
   "neither is registered"
run_bg agent2 "$AGENT_BIN" --master="$MASTER" --ip=127.0.0.1 --http-port=0 --hostname=agent2 \
    --work-dir="$T/agent2" --shutdown-tasks --cgroup-root="$CGROUP_ROOT" \
    --master-public-key="$K/master.key" --curve-cert="$K/agent2.key_secret"
refused_logged () { grep -q "agent agent2 refused: not authorized" "$T/master.log"; }
wait_for 20 refused_logged
ok $? "an agent whose key's principal the ACL does not allow is refused (master log)"
is "$(master_state | jq '[.agents[] | select(.hostname == "agent2")] | length')" 0 \
   "it is not registered"
has_error () { grep -q "not authorized: no rule of the ACL's register_agents section" "$T/agent2.log"; }
wait_for 10 has_error
ok $? "the refused agent hears why (register_agents rule)"
kill -TERM "$PID_plain" "$PID_rogue" "$PID_agent2" 2>/dev/null

# Frameworks: credentials from the environment (any framework, no code).
export CAIRN_MASTER_PUBLIC_KEY=$K/master.key
export CAIRN_CURVE_CERT=$K/sched.key_secret
start_sched prod2 --role=prod --max-tasks=1 --command='sleep 300' \
    --task-resources='cpus:0.1;mem:16' --user=nobody
wait_line 20 prod2 '^registered'
ok $? "a framework with a listed key registers (CAIRN_MASTER_PUBLIC_KEY, CAIRN_CURVE_CERT)"
fw=$(sched_fwid prod2)
is "$(master_state | jq -r --arg f "$fw" '.frameworks[] | select(.id == $f) | .principal')" \
   sched "its principal in /state is its key's"
wait_line 20 prod2 '^status .* TASK_RUNNING'
ok $? "and runs a task as user nobody (allowed by run_tasks)"

start_sched dev --role=dev --max-tasks=1
wait_line 20 dev '^error .*register_frameworks'
ok $? "a framework asking for a role the ACL does not give it gets an error"
sched_wait dev 20
is "$?" 1 "and its driver stops"
grep -q "framework (new) (.*) refused: not authorized" "$T/master.log"
ok $? "the master logs the refusal"

start_sched root --role=prod --max-tasks=1 --user=root --command=true \
    --task-resources='cpus:0.1;mem:16'
wait_line 20 root '^status .* TASK_ERROR .*run_tasks'
ok $? "a task to run as a user the ACL does not allow: TASK_ERROR naming run_tasks"

# A framework whose key is not listed never registers.
CAIRN_CURVE_CERT=$K/rogue.key_secret start_sched rogue --role=prod
sleep 3
is "$(sched_lines rogue '^registered' | wc -l)" 0 "a framework with an unlisted key gets nowhere"
kill -TERM "$PID_rogue" 2>/dev/null
unset CAIRN_CURVE_CERT CAIRN_MASTER_PUBLIC_KEY

# The CLI
"$CAIRN_BIN" --master="$MASTER" --timeout=2s agents >/dev/null 2>&1
ok $((! $?)) "cairn without keys gets no answer from a CURVE master"
"$CAIRN_BIN" --master="$MASTER" --master-public-key="$K/master.key" \
    --curve-cert="$K/ops.key_secret" agents >/dev/null
ok $? "cairn --master-public-key --curve-cert agents works"
CLI=("$CAIRN_BIN" --master="$MASTER" --master-public-key="$K/master.key"
     --curve-cert="$K/ops.key_secret")
aid=$(master_state | jq -r '.agents[] | select(.hostname == "agent1") | .id')

# Operator actions under the ACL (HTTP principals from the token file).
code () {
    curl -s -o "$T/body" -w '%{http_code}' --max-time 10 -X POST -H "Authorization: Bearer $1" \
        "http://$MASTER_HTTP/$2"
}
is "$(code viewer-token-0123456789ab "agents/drain?agent_id=$aid")" 403 \
   "an operator principal the ACL does not allow to drain: 403"
is "$(jq -r .rule "$T/body")" operator "the 403 names the rule (operator)"
like "$(jq -r .error "$T/body")" "principal 'viewer'.*'drain'" "and says who may not do what"
grep -q "HTTP POST /agents/drain from .* refused: not authorized" "$T/master.log"
ok $? "the master logs it"
is "$(code viewer-token-0123456789ab "agents/undrain?agent_id=$aid")" 200 \
   "the same principal may undrain (its rule)"
"${CLI[@]}" --token-file="$T/tokens" agent drain "$aid" --grace=1s >/dev/null
ok $? "cairn agent drain as ops (allowed) works"
"${CLI[@]}" --token-file="$T/tokens" agent undrain "$aid" >/dev/null
ok $? "cairn agent undrain as ops works"
is "$(code ops-token-0123456789abcdef "frameworks/teardown?framework_id=$fw")" 200 \
   "ops may tear down a framework of principal sched"

## cairn-agent-sim over CURVE: its agents share one key pair
SIM=$B/agent/cairn-agent-sim
"$SIM" --master="$MASTER" --agents=1 --master-public-key="$K/master.key" >/dev/null 2>"$T/sim.err"
is "$?" 2 "cairn-agent-sim: --master-public-key without --curve-cert is a usage error"
like "$(cat "$T/sim.err")" "go together" "saying so"
run_bg simc "$SIM" --master="$MASTER" --agents=20 --hostname-prefix=simc \
    --resources="cpus:1;mem:128" --master-public-key="$K/master.key" \
    --curve-cert="$K/agent1.key_secret"
run_bg simr "$SIM" --master="$MASTER" --agents=5 --hostname-prefix=rogue \
    --resources="cpus:1;mem:128" --master-public-key="$K/master.key" \
    --curve-cert="$K/rogue.key_secret"
sims_in () {
    master_state | jq_e '[.agents[] | select((.hostname | startswith("simc-"))
                          and .state == "ACTIVE" and .principal == "agent1")] | length == 20'
}
wait_for 30 sims_in
ok $? "20 emulated agents with a listed key register over CURVE, as principal agent1"
is "$(master_state | jq '[.agents[] | select(.hostname | startswith("rogue-"))] | length')" 0 \
   "5 with a key not in the allow directory: none registers"

done_testing
