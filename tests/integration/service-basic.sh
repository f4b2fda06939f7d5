#!/bin/bash
# cairn-service, the basics, on a master and three agents with distinct
# hostnames and port ranges:
# - bad app definitions get a 400 naming the field, and create nothing;
# - 3 instances of `python3 -m http.server $PORT0` with an HTTP health
#   check, ["hostname","unique"]: one per agent, all healthy, serving,
#   each with the file its `uris` named fetched into its sandbox;
# - once satisfied, the framework suppresses offers;
# - an instance's process killed: replaced, healthy again, the failure
#   recorded;
# - scale to 5 (max_per 2 per host), then to 1;
# - delete: every instance killed, the app gone;
# - the `cairn service` CLI for all of it (tables, --json, exit codes).
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
. "$S/tests/integration/service-lib.sh"

start_master --allocation-interval=100ms
ok_or_bail $? "master starts"
for i in 1 2 3; do
    start_agent "a$i" --resources="cpus:2;mem:1024;ports:[16${i}00-16${i}19]" \
        --attributes="rack:r$i"
    ok_or_bail $? "agent a$i registers (ports 16${i}00-16${i}19)"
done
start_service svc
ok_or_bail $? "cairn-service registers with the master"

h=$(api GET /health)
is "$(api_status)" 200 "GET /health answers 200"
fwid=$(jq -r .framework_id <<<"$h")
like "$fwid" '^f-' "it reports its framework id"
is "$(master_state | jq -r --arg f "$fwid" \
      '.frameworks[] | select(.id == $f) | .labels["cairn-service.api"]')" "$SVC" \
   "the framework tells the master where its API is"

## Bad input: 400 with the field at fault, nothing created
out=$(api POST /v1/apps '{"id":"web","cmd":"x","instances":-1}')
is "$(api_status)" 400 "instances -1: 400"
is "$(jq -r .field <<<"$out")" instances "naming the field instances"
is "$(jq -r .error <<<"$out")" "instances must be a non-negative integer" "with a sentence"
out=$(api POST /v1/apps '{"id":"web","cmd":"x","instnces":3}')
is "$(api_status)/$(jq -r .field <<<"$out")" "400/instnces" "an unknown field is rejected, not ignored"
like "$(jq -r .error <<<"$out")" "did you mean instances" "with a hint"
out=$(api POST /v1/apps '{"id":"web","cmd":"x","health_check":{"type":"http"}}')
is "$(api_status)/$(jq -r .field <<<"$out")" "400/health_check.port_index" \
   "an http check without a port: 400 naming health_check.port_index"
out=$(api POST /v1/apps '{"id":"web","cmd":"x","constraints":[["hostname","near"]]}')
is "$(api_status)/$(jq -r .field <<<"$out")" "400/constraints[0][1]" \
   "an unknown constraint operator: 400 naming constraints[0][1]"
out=$(api POST /v1/apps '{"id":"web","cmd":"x","health_check":{"type":"tcp","interval_s":"soon"}}')
is "$(api_status)/$(jq -r .field <<<"$out")" "400/health_check.interval_s" "a bad duration: 400"
out=$(api POST /v1/apps '{"id":"web",')
is "$(api_status)" 400 "a body that is not JSON: 400"
out=$(api PUT /v1/apps/web '{"id":"other","cmd":"x"}')
is "$(api_status)/$(jq -r .field <<<"$out")" "400/id" "PUT with another id: 400 naming id"
api GET /v1/apps/nope >/dev/null
is "$(api_status)" 404 "GET an unknown app: 404"
api DELETE /v1/apps >/dev/null
is "$(api_status)" 405 "DELETE /v1/apps: 405"
is "$(api GET /v1/apps | jq '.apps | length')" 0 "bad requests created nothing"
echo '{"id":"web","cmd":"x","mem":"lots"}' >"$T/bad.json"
out=$(svc deploy "$T/bad.json" 2>&1)
is "$?" 1 "cairn service deploy of a bad file exits 1"
like "$out" "mem must be a non-negative integer \(field mem\)" "printing the field at fault"
svc frobnicate >/dev/null 2>&1
is "$?" 2 "an unknown subcommand exits 2"

## Three instances, one per host, healthy
cat >"$T/web.json" <<'EOF'
{
  "id": "web",
  "cmd": "exec python3 -m http.server --bind 127.0.0.1 $PORT0",
  "instances": 3,
  "cpus": 0.2,
  "mem": 64,
  "ports": 1,
  "health_check": { "type": "http", "path": "/", "delay_s": 0.5, "interval_s": 1,
                    "timeout_s": 2, "grace_s": 30, "max_failures": 3 },
  "constraints": [["hostname", "unique"]],
  "backoff": { "initial_s": 1, "factor": 2, "max_s": 10 },
  "upgrade": { "min_healthy": 0.5, "max_surge": 0 }
}
EOF
# The server serves its sandbox, where the agent fetched this file.
echo "fetched into the sandbox" >"$T/hello.txt"
jq --arg u "file://$T/hello.txt" '.uris = [$u]' "$T/web.json" >"$T/web.tmp" && mv "$T/web.tmp" "$T/web.json"
out=$(svc deploy "$T/web.json" --wait --wait-timeout=90s)
ok $? "cairn service deploy --wait: the app is created and its deployment succeeds"
like "$out" "app web: created, version 1, deployment d-" "it says what it did"
like "$out" "succeeded" "and how the deployment ended"
ok "$(app_healthy web 3 >/dev/null; echo $?)" "3 instances healthy"
app=$(api GET /v1/apps/web)
is "$(jq -r '[.tasks[].host] | unique | length' <<<"$app")" 3 "hostname unique: on 3 distinct hosts"
is "$(jq -r '[.tasks[] | select(.state == "TASK_RUNNING" and .healthy == true)] | length' <<<"$app")" \
   3 "each RUNNING and healthy"
served=0
for port in $(jq -r '.tasks[].ports[0]' <<<"$app"); do
    curl -sf --max-time 5 "http://127.0.0.1:$port/" >/dev/null && served=$((served + 1))
done
is "$served" 3 "each serves HTTP on its PORT0"
fetched=0
for port in $(jq -r '.tasks[].ports[0]' <<<"$app"); do
    [ "$(curl -sf --max-time 5 "http://127.0.0.1:$port/hello.txt")" = "fetched into the sandbox" ] \
        && fetched=$((fetched + 1))
done
is "$fetched" 3 "each has the file its uris named in its sandbox"
ports_ok=$(jq -r '[.tasks[] | (.host | ltrimstr("a")) as $i | .ports[0] | tostring |
                   startswith("16" + $i)] | all' <<<"$app")
is "$ports_ok" true "each on a port from its own agent's range"
is "$(master_state | jq --arg f "$fwid" '[.tasks[] | select(.framework_id == $f)] | length')" 3 \
   "the master lists 3 tasks of the framework"
wait_for 10 bash -c "curl -sf http://$SVC/health | jq_e .suppressed"
ok $? "satisfied, the framework suppresses offers"
is "$(master_state | jq --arg f "$fwid" '.frameworks[] | select(.id == $f) | .offers')" 0 \
   "and holds no offer"

list=$(svc list)
like "$list" "^ID +VERSION +WANTED +LIVE +HEALTHY" "cairn service list prints a table"
like "$list" "web +1 +3 +3 +3 " "with web: version 1, 3 wanted, 3 live, 3 healthy"
is "$(CAIRN_SERVICE_API=$SVC "$CAIRN_BIN" --json service show web | jq '.instances.healthy')" 3 \
   "cairn --json service show (API from \$CAIRN_SERVICE_API) prints the app's JSON"
is "$("$CAIRN_BIN" --master="$MASTER" --json service list | jq -r '.[0].id')" web \
   "without --api, cairn service finds the API through the master"
show=$(svc show web)
like "$show" "instances: +3 wanted, 3 live, 3 running, 3 healthy" "cairn service show: counts"
like "$show" "web\.1\.[0-9a-f]{8} +1 +a[123] +16[123][0-9]{2} +RUNNING +yes" "and the tasks"
svc show nope >/dev/null 2>&1
is "$?" 1 "cairn service show of an unknown app exits 1"

## Kill one instance's process: it is replaced and healthy again
victim=$(jq -r '.tasks[0].id' <<<"$app")
pid=$(task_pid "$victim" web)
like "$pid" '^[0-9]+$' "instance $victim runs as pid $pid"
kill -KILL "$pid"
replaced () {
    api GET /v1/apps/web | jq_e --arg v "$victim" \
        '.instances.healthy == 3 and .instances.live == 3 and ([.tasks[].id] | index($v) == null)'
}
wait_for 60 replaced
ok $? "the killed instance is replaced and 3 are healthy again"
app=$(api GET /v1/apps/web)
is "$(jq -r .last_failure.task_id <<<"$app")" "$victim" "the failure is recorded (last_failure)"
is "$(jq -r .last_failure.state <<<"$app")" TASK_FAILED "as TASK_FAILED"
is "$(jq -r '[.tasks[].host] | unique | length' <<<"$app")" 3 "still one per host"

## Scale to 5, then 1
cat >"$T/sleepy.json" <<'EOF'
{ "id": "sleepy", "args": ["sleep", "3600"], "instances": 2, "cpus": 0.1, "mem": 16,
  "constraints": [["hostname", "max_per", "2"]], "kill_grace_s": 1 }
EOF
svc deploy "$T/sleepy.json" --wait --wait-timeout=60s >/dev/null
ok $? "a second app, sleepy, with 2 instances"
out=$(svc scale sleepy 5 --wait --wait-timeout=60s)
ok $? "cairn service scale sleepy 5 --wait"
like "$out" "app sleepy: scaling, version 1, deployment d-" "it reports the deployment"
sleepy_live () {
    master_state | jq --arg f "$fwid" \
        '[.tasks[] | select(.framework_id == $f and (.id | startswith("sleepy.")) and
          .state == "TASK_RUNNING")] | length'
}
is "$(sleepy_live)" 5 "the master runs 5 instances of sleepy"
is "$(api GET /v1/apps/sleepy | jq '[.tasks[].host] | group_by(.) | map(length) | max')" 2 \
   "max_per 2: at most 2 on a host"
svc scale sleepy 1 --wait --wait-timeout=60s >/dev/null
ok $? "cairn service scale sleepy 1 --wait"
one_left () { [ "$(sleepy_live)" = 1 ]; }
wait_for 20 one_left
ok $? "the master runs 1 instance of sleepy"
is "$(api GET /v1/apps/sleepy | jq '.tasks | length')" 1 "the app has 1 task left"
is "$(api GET /v1/apps/web | jq .instances.healthy)" 3 "web is untouched"

deps=$(svc deployments --app=sleepy)
like "$deps" "sleepy +scale +succeeded +1->1" "cairn service deployments lists the scales"
is "$(svc versions sleepy | grep -c '^ *1 ')" 1 "cairn service versions: one version"

## Delete
out=$(svc delete sleepy --wait --wait-timeout=60s)
ok $? "cairn service delete sleepy --wait"
like "$out" "every instance stopped" "its deployment says every instance stopped"
api GET /v1/apps/sleepy >/dev/null
is "$(api_status)" 404 "the app is gone"
none_left () { [ "$(sleepy_live)" = 0 ]; }
wait_for 20 none_left
ok $? "no instance of it runs"
is "$(api GET /v1/apps | jq -c '[.apps[].id]')" '["web"]' "web is the one app left"

done_testing
