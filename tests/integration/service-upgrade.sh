#!/bin/bash
# cairn-service rollouts, on three agents, 3 instances of an HTTP server
# with ["hostname","unique"] and upgrade {min_healthy 0.6, max_surge 0}
# (so at least 2 of 3 stay healthy, and there is no room to surge):
# - an update of the command rolls out, never below 2 healthy, and ends
#   with every instance on the new version;
# - a version whose command exits at once is rolled back to the last
#   good version by itself, and the deployment says so;
# - a rollback to a named earlier version;
# - a rollout that cannot finish (its instances never become healthy)
#   cancelled with --rollback;
# - restart replaces every instance.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
. "$S/tests/integration/service-lib.sh"

start_master --allocation-interval=100ms
ok_or_bail $? "master starts"
for i in 1 2 3; do
    start_agent "a$i" --resources="cpus:2;mem:1024;ports:[17${i}00-17${i}19]"
    ok_or_bail $? "agent a$i registers"
done
start_service svc --rollback-after=3
ok_or_bail $? "cairn-service registers"

# definition CMD [HEALTH_PATH]: the app's JSON with this command.
definition () {
    jq -n --arg cmd "$1" --arg path "${2:-/}" '{
      id: "web", cmd: $cmd, instances: 3, cpus: 0.2, mem: 64, ports: 1,
      health_check: { type: "http", path: $path, delay_s: 0.5, interval_s: 1, timeout_s: 2,
                      grace_s: 60, max_failures: 3 },
      constraints: [["hostname", "unique"]],
      backoff: { initial_s: 0.5, factor: 2, max_s: 5 },
      upgrade: { min_healthy: 0.6, max_surge: 0 } }'
}
SERVE='exec python3 -m http.server --bind 127.0.0.1 $PORT0'

definition "$SERVE" >"$T/v1.json"
svc deploy "$T/v1.json" --wait --wait-timeout=90s >/dev/null
ok $? "version 1: 3 instances, deployed and healthy"
v1_tasks=$(api GET /v1/apps/web | jq -c '[.tasks[].id] | sort')

# A sampler of the healthy count, every 0.2 s, while rollouts run.
sampling () {
    while [ ! -e "$T/stop-sampling" ]; do
        api GET /v1/apps/web | jq -r '.instances.healthy // empty' >>"$T/samples"
        sleep 0.2
    done
}
start_sampling () { rm -f "$T/stop-sampling" "$T/samples"; sampling & SAMPLER=$!; }
stop_sampling () { touch "$T/stop-sampling"; wait "$SAMPLER"; sort -n "$T/samples" | head -1; }

## A rolling update
definition "VERSION=2 $SERVE" >"$T/v2.json"
start_sampling
out=$(svc update web "$T/v2.json" --wait --wait-timeout=120s)
ok $? "cairn service update --wait: version 2 rolls out and succeeds"
lowest=$(stop_sampling)
like "$out" "app web: updating, version 2, deployment (d-[0-9a-f]+)" "it starts a deployment"
dep=$(grep -o 'd-[0-9a-f]*' <<<"$out" | head -1)
ok "$([ "${lowest:-0}" -ge 2 ]; echo $?)" "the healthy count never fell below 2 (lowest sampled: $lowest)"
is "$(api GET /v1/deployments/$dep | jq -r '.state + " " + (.lowest_healthy | tostring) + " " + (.min_healthy | tostring)')" \
   "succeeded 2 2" "the deployment kept min_healthy 2 (lowest_healthy 2) and succeeded"
app=$(api GET /v1/apps/web)
is "$(jq -r '[.tasks[] | select(.version == 2 and .healthy == true)] | length' <<<"$app")" 3 \
   "it finished with 3 healthy instances of version 2"
is "$(jq '.tasks | length' <<<"$app")" 3 "and no other"
is "$(jq -c --argjson old "$v1_tasks" '[.tasks[].id] - $old' <<<"$app" | jq length)" 3 \
   "every instance was replaced"
is "$(jq -r .last_good_version <<<"$app")" 2 "version 2 is the last good version"

## A version that fails at once is rolled back by itself
definition "exit 3" >"$T/v3.json"
start_sampling
out=$(svc update web "$T/v3.json" --wait --wait-timeout=120s)
is "$?" 1 "cairn service update --wait of a failing version exits 1"
lowest=$(stop_sampling)
like "$out" "rolled_back: version 3 failed 3 times in a row" "the deployment was rolled back"
like "$out" "rolled back to version 2" "to the last good version"
dep=$(grep -o 'd-[0-9a-f]*' <<<"$out" | head -1)
next=$(api GET /v1/deployments/$dep | jq -r .followed_by)
wait_for 60 deployment_is "$next" succeeded
ok $? "the automatic rollback deployment ($next) succeeds"
like "$(api GET /v1/deployments/$next | jq -r .message)" "automatic rollback: version 3 failed" \
   "and says why it ran"
ok "$([ "${lowest:-0}" -ge 2 ]; echo $?)" "2 or more stayed healthy meanwhile (lowest: $lowest)"
app=$(api GET /v1/apps/web)
is "$(jq -r .version <<<"$app")" 2 "the app is back on version 2"
is "$(jq -r '[.tasks[] | select(.version == 2 and .healthy == true)] | length' <<<"$app")" 3 \
   "with 3 healthy instances of version 2"
like "$(jq -r .last_failure.message <<<"$app")" "exit" "the last failure is version 3's exit"
versions=$(svc versions web)
like "$versions" " +3 .* +yes +exit 3" "cairn service versions marks version 3 failed"

## A rollback to a named version
out=$(svc rollback web 1 --wait --wait-timeout=120s)
ok $? "cairn service rollback web 1 --wait"
app=$(api GET /v1/apps/web)
is "$(jq -r '.version' <<<"$app")" 1 "the app runs version 1"
is "$(jq -r '[.tasks[] | select(.version == 1 and .healthy == true)] | length' <<<"$app")" 3 \
   "3 healthy instances of version 1"
api POST /v1/apps/web/rollback '{"version":99}' >/dev/null
is "$(api_status)" 400 "a rollback to a version that does not exist: 400"

## A rollout that cannot finish, cancelled with a rollback
definition "$SERVE" /no-such-page >"$T/v4.json"
out=$(svc update web "$T/v4.json")
ok $? "version 4 checks a page that does not exist: never healthy"
dep=$(grep -o 'd-[0-9a-f]*' <<<"$out" | head -1)
stuck () {
    api GET /v1/deployments/$dep | jq_e '.state == "running" and .progress.new == 1 and
                                           .progress.healthy == 2'
}
wait_for 30 stuck
ok $? "the rollout stands at one new (unhealthy) instance and 2 healthy old ones"
sleep 2
is "$(api GET /v1/apps/web | jq .instances.healthy)" 2 "and goes no further"
out=$(svc cancel "$dep" --rollback --wait --wait-timeout=120s)
ok $? "cairn service cancel --rollback --wait"
is "$(api GET /v1/deployments/$dep | jq -r .state)" cancelled "the deployment is cancelled"
app=$(api GET /v1/apps/web)
is "$(jq -r '.version' <<<"$app")" 1 "the app is back on version 1"
is "$(jq -r '[.tasks[] | select(.version == 1 and .healthy == true)] | length' <<<"$app")" 3 \
   "with 3 healthy instances"

## Restart
before=$(api GET /v1/apps/web | jq -c '[.tasks[].id] | sort')
out=$(svc restart web --wait --wait-timeout=120s)
ok $? "cairn service restart --wait"
app=$(api GET /v1/apps/web)
is "$(jq -c --argjson old "$before" '[.tasks[].id] - $old | length' <<<"$app")" 3 \
   "every instance was replaced"
is "$(jq -r .instances.healthy <<<"$app")" 3 "3 healthy"
is "$(svc deployments --active | wc -l)" 1 "no deployment is left running"

done_testing
