#!/bin/bash
# cairn-service across failures, on three agents:
# - cairn-service crashes (SIGKILL) and restarts on its state dir under
#   running instances: it re-registers with its framework id, reconciles,
#   adopts them, and neither restarts nor duplicates any;
# - an agent is killed: after --unreachable-delay its instance comes up
#   on the free agent; when the agent comes back, the surplus copy is
#   killed, so no duplicate remains;
# - SIGTERM stops cairn-service with failover: the instances keep
#   running, and a new cairn-service takes them over;
# - an operator tears the framework down (its instances are killed):
#   cairn-service registers anew and starts them again.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
. "$S/tests/integration/service-lib.sh"

# Agents count as unreachable after 4 missed pings of 500 ms.
start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=4
ok_or_bail $? "master starts"
for i in 1 2 3; do
    start_agent "a$i" --resources="cpus:2;mem:1024;ports:[18${i}00-18${i}19]"
    ok_or_bail $? "agent a$i registers"
done
start_service svc --unreachable-delay=3s --failover-timeout=10m
ok_or_bail $? "cairn-service registers"
fwid=$(api GET /health | jq -r .framework_id)

cat >"$T/keep.json" <<'EOF'
{ "id": "keep", "cmd": "exec python3 -m http.server --bind 127.0.0.1 $PORT0",
  "instances": 2, "cpus": 0.2, "mem": 64, "ports": 1,
  "health_check": { "type": "http", "delay_s": 0.5, "interval_s": 1, "timeout_s": 2,
                    "grace_s": 30 },
  "constraints": [["hostname", "unique"]], "kill_grace_s": 1 }
EOF
svc deploy "$T/keep.json" --wait --wait-timeout=90s >/dev/null
ok $? "2 instances of keep, one per host, healthy"
tasks=$(api GET /v1/apps/keep | jq -c '[.tasks[].id] | sort')
is "$(fw_live_tasks "$fwid")" "$tasks" "the master runs exactly these 2 tasks"

## cairn-service crashes and comes back
stop_service svc KILL
ok $? "cairn-service is killed with SIGKILL"
restart_service svc 2
ok $? "it restarts on the same state dir"
is "$(api GET /health | jq -r .framework_id)" "$fwid" "and re-registers with its framework id"
like "$(cat "$T/svc_2.log")" "re-registered as framework $fwid; reconciling 2 tasks" \
     "it reconciles the 2 tasks it had"
adopted () { app_healthy keep 2; }
wait_for 20 adopted
ok $? "the 2 instances are adopted and healthy"
sleep 2
is "$(api GET /v1/apps/keep | jq -c '[.tasks[].id] | sort')" "$tasks" "the same 2 tasks"
is "$(fw_live_tasks "$fwid")" "$tasks" "the master still runs exactly those: none restarted, none added"
is "$(api GET /health | jq .stats.launched)" 0 "the new cairn-service launched nothing"
is "$(master_state | jq --arg f "$fwid" '[.completed_tasks[] | select(.framework_id == $f)] | length')" \
   0 "and no task of the framework ended"
is "$(master_state | jq --arg f "$fwid" '[.frameworks[] | select(.id == $f)] | length')" 1 \
   "the master knows the framework once"

## An agent dies: its instance comes up elsewhere; back, its copy is killed
app=$(api GET /v1/apps/keep)
victim=$(jq -r '.tasks[0].id' <<<"$app")
vhost=$(jq -r '.tasks[0].host' <<<"$app")
free_host=$(for h in a1 a2 a3; do jq -e --arg h "$h" '[.tasks[].host] | index($h)' <<<"$app" \
            >/dev/null || echo "$h"; done)
eval "vpid=\$PID_$vhost"
kill -KILL "$vpid"
wait "$vpid" 2>/dev/null
ok 0 "agent $vhost (running $victim) is killed; $free_host is free"
unreachable () {
    api GET /v1/apps/keep | jq_e --arg v "$victim" \
        '.tasks[] | select(.id == $v) | .unreachable_since != null'
}
wait_for 30 unreachable
ok $? "cairn-service sees $victim unreachable"
is "$(api GET /v1/apps/keep | jq '[.tasks[] | select(.killing == false)] | length')" 2 \
   "and does not replace it before --unreachable-delay"
moved () {
    api GET /v1/apps/keep | jq_e --arg h "$free_host" \
        '.instances.healthy == 2 and ([.tasks[] | select(.killing == false) | .host] | index($h) != null)'
}
wait_for 60 moved
ok $? "after the delay its instance runs, healthy, on $free_host"
restart_agent "$vhost" 2 --resources="cpus:2;mem:1024;ports:[18${vhost#a}00-18${vhost#a}19]"
ok $? "agent $vhost comes back, with $victim still running on it"
victim_gone () {
    master_state | jq_e --arg v "$victim" \
        '([.tasks[] | select(.id == $v)] | length == 0) and
         ([.completed_tasks[] | select(.id == $v and .state == "TASK_KILLED")] | length == 1)'
}
wait_for 30 victim_gone
ok $? "the surplus copy $victim is killed"
two_live () { [ "$(fw_live_tasks "$fwid" | jq length)" = 2 ]; }
wait_for 10 two_live
ok $? "the master runs 2 tasks of the framework: no duplicate"
is "$(api GET /v1/apps/keep | jq -c '[.instances.live, .instances.healthy, (.tasks | length)]')" \
   "[2,2,2]" "cairn-service counts 2 live, 2 healthy, 2 tasks"

## SIGTERM: failover, then a new cairn-service takes the instances over
tasks=$(api GET /v1/apps/keep | jq -c '[.tasks[].id] | sort')
stop_service svc TERM
ok $? "cairn-service stops on SIGTERM"
sleep 1
is "$(fw_live_tasks "$fwid")" "$tasks" "its instances keep running"
restart_service svc 3
ok $? "a new cairn-service starts"
wait_for 20 adopted
ok $? "and finds them healthy"
is "$(fw_live_tasks "$fwid")" "$tasks" "the same tasks, nothing restarted"

## Torn down by an operator: a new framework, the instances started again
curl -sf -X POST "http://$MASTER_HTTP/frameworks/teardown?framework_id=$fwid" >/dev/null
ok $? "an operator tears framework $fwid down (its instances are killed)"
anew () { api GET /health | jq_e --arg f "$fwid" '.registered and .framework_id != $f'; }
wait_for 30 anew
ok $? "cairn-service registers anew, as another framework"
like "$(cat "$T/svc_3.log")" "the master refused framework $fwid" "saying why"
fwid2=$(api GET /health | jq -r .framework_id)
wait_for 60 adopted
ok $? "and starts the 2 instances again, healthy"
is "$(fw_live_tasks "$fwid2" | jq length)" 2 "the master runs 2 tasks of the new framework"

done_testing
