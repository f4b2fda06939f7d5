#!/bin/bash
# Master high availability: three masters elect a leader in a three-server
# ZooKeeper ensemble; two agents, a cairn-service app and a cairn-batch run
# follow the leader through zk://. The leader is killed with SIGKILL:
# - a standby leads within the session timeout plus a margin;
# - every task that ran runs on, known to the new leader; none is started
#   twice (each task appends a line to a file when it starts);
# - the agents, the service and the batch run re-register by themselves,
#   and the batch run finishes with every task succeeded;
# - a gone agent stays gone and a draining agent stays draining;
# - only the leader ever makes offers (standbys' offer counters stay 0);
# - a standby redirects HTTP to the leader and says who leads in /health.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
. "$S/tests/zk.sh"
. "$S/tests/integration/service-lib.sh"

SESSION_S=3
zk_start 3
ok_or_bail $? "a ZooKeeper ensemble of three servers elects a leader"

start_ha_master () {    # start_ha_master NAME [FLAGS...]
    zk_master "$@" --allocation-interval=100ms --agent-ping-timeout=500ms \
        --max-agent-ping-misses=10 --agent-reregister-timeout=60s
}
role () { zk_role "$1"; }
role_is () { [ "$(zk_role "$1")" = "$2" ]; }
offers_total () {
    curl -s --max-time 5 "http://${MHTTP[$1]}/metrics" | sed -n 's/^cairn_master_offers_total //p'
}

# Only m1 is given role weights: they are kept in the registry.
for m in m1 m2 m3; do
    if [ "$m" = m1 ]; then start_ha_master m1 --weights='*=2.5'; else start_ha_master "$m"; fi
    ok_or_bail $? "master $m starts"
    [ "$m" = m1 ] && { wait_for 20 role_is m1 leader; ok_or_bail $? "m1, first in, leads"; }
done
wait_for 10 bash -c "curl -s http://${MHTTP[m3]}/health | jq_e '.ha.masters | length == 3'"
ok $? "every master lists the three candidates"
is "$(role m2) $(role m3)" "standby standby" "m2 and m3 are standbys"
m1_id=$(curl -s "http://${MHTTP[m1]}/health" | jq -r .master_id)
is "$(curl -s "http://${MHTTP[m2]}/health" | jq -r .ha.leader.id)" "$m1_id" \
   "a standby's /health names the leader"
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://${MHTTP[m2]}/state/summary?x=1")
is "$code" "307 http://${MHTTP[m1]}/state/summary?x=1" \
   "a standby redirects HTTP requests to the leader, path and query kept"

# The cluster follows the leader through ZooKeeper.
MASTER=$ZK_URL
MASTER_HTTP=${MHTTP[m1]}
for a in a1 a2 a3 a4; do
    start_agent "$a" --resources="cpus:2;mem:1024;ports:[19${a#a}00-19${a#a}19]"
    ok_or_bail $? "agent $a registers through zk://"
done
agent_id () { master_state | jq -r --arg h "$1" '.agents[] | select(.hostname == $h) | .id'; }
a3_id=$(agent_id a3)
a4_id=$(agent_id a4)
curl -s -X POST "http://$MASTER_HTTP/agents/gone?agent_id=$a3_id" >/dev/null
wait_for 20 bash -c "! kill -0 $PID_a3 2>/dev/null"
ok $? "a3 is marked gone and shuts down"
curl -s -X POST "http://$MASTER_HTTP/agents/drain?agent_id=$a4_id" >/dev/null
is "$(master_state | jq -r --arg a "$a4_id" '.agents[] | select(.id == $a) | .drain != null')" true \
   "a4 drains"

mkdir -p "$T/starts"
start_service svc --failover-timeout=10m
ok_or_bail $? "cairn-service registers through zk://"
cat >"$T/keep.json" <<EOF
{ "id": "keep",
  "cmd": "echo \$CAIRN_TASK_ID >>$T/starts/keep; exec python3 -m http.server --bind 127.0.0.1 \$PORT0",
  "instances": 2, "cpus": 0.2, "mem": 64, "ports": 1,
  "health_check": { "type": "http", "delay_s": 0.5, "interval_s": 1, "timeout_s": 2,
                    "grace_s": 30 },
  "constraints": [["hostname", "unique"]], "kill_grace_s": 1 }
EOF
svc deploy "$T/keep.json" --wait --wait-timeout=90s >/dev/null
ok $? "2 instances of keep run, one per agent"
svc_fw=$(api GET /health | jq -r .framework_id)

BATCH=$B/frameworks/batch/cairn-batch
"$BATCH" run --master="$ZK_URL" --count=4 --cpus=0.1 --mem=32 --shell -- \
    "echo \$CAIRN_ARRAY_INDEX >>$T/starts/batch; sleep 25" >"$T/batch.out" 2>"$T/batch.err" &
batch_pid=$!
LOGS+=("$T/batch.err")
batch_running () {
    master_state | jq_e '[.tasks[] | select(.state == "TASK_RUNNING")] | length == 6'
}
wait_for 30 batch_running
ok_or_bail $? "the 4 batch tasks and the 2 instances run"
before=$(master_state | jq -c '[.tasks[] | select(.state == "TASK_RUNNING") | .id] | sort')

o1=$(offers_total m1)
[ "${o1:-0}" -gt 0 ]
ok $? "the leader has made offers ($o1)"
is "$(offers_total m2) $(offers_total m3)" "0 0" "the standbys have made none"

## The leader dies.
kill -KILL "${MPID[m1]}"
t0=$(date +%s.%N)
new_leader () { role_is m2 leader || role_is m3 leader; }
wait_for 30 new_leader
ok_or_bail $? "a standby takes over"
took=$(echo "$(date +%s.%N) - $t0" | bc)
diag "failover: a new leader after $took s (session timeout ${SESSION_S} s)"
[ "$(echo "$took < $SESSION_S + 4" | bc)" = 1 ]
ok $? "within the session timeout plus a margin ($took s < $SESSION_S + 4 s)"
if role_is m2 leader; then lead=m2 other=m3; else lead=m3 other=m2; fi
MASTER_HTTP=${MHTTP[$lead]}
is "$(role $other)" standby "the other master stays a standby"
is "$(curl -s "http://$MASTER_HTTP/health" | jq -r .ha.last_failover.from)" "$m1_id" \
   "the new leader's /health records the failover from m1"

reregistered () {
    master_state | jq_e '[.agents[] | select(.state == "ACTIVE" or .state == "DRAINED")]
                         | length == 3'
}
wait_for 30 reregistered
ok $? "the three live agents re-register with the new leader by themselves"
all_back () {
    master_state | jq_e --argjson want "$before" \
        '[.tasks[] | select(.state == "TASK_RUNNING") | .id] | sort == $want'
}
wait_for 30 all_back
ok $? "every task that ran is RUNNING and known to the new leader"
fws_back () {
    master_state | jq_e '[.frameworks[] | select(.connected == true)] | length == 2'
}
wait_for 30 fws_back
ok $? "both frameworks reconnect by themselves"
is "$(api GET /health | jq -r .framework_id)" "$svc_fw" "cairn-service keeps its framework id"
is "$(master_state | jq -r --arg a "$a3_id" '[.gone_agents[] | select(.id == $a)] | length')" 1 \
   "a3 is still gone"
is "$(master_state | jq -r --arg f "$svc_fw" '.frameworks[] | select(.id == $f) | .role_weight')" \
   2.5 "the role weight m1 was given holds under the new leader, which was given none"
is "$(master_state | jq -r --arg a "$a4_id" '.agents[] | select(.id == $a) | .drain != null')" true \
   "a4 is still draining"

# A new run: the new leader offers and launches.
"$BATCH" run --master="$ZK_URL" --count=2 --cpus=0.1 --mem=32 -- true >"$T/after.out" 2>&1
is "$?" 0 "a new batch run after the failover succeeds"
[ "$(offers_total $lead)" -gt 0 ]
ok $? "the new leader makes offers"

wait "$batch_pid"
is "$?" 0 "the batch run finishes across the failover and exits 0"
like "$(cat "$T/batch.out")" "4 tasks: 4 succeeded, 0 failed" "every batch task succeeded"
is "$(sort "$T/starts/batch" | uniq -d | wc -l) $(wc -l <"$T/starts/batch")" "0 4" \
   "each batch task started exactly once"
app_healthy keep 2
ok $? "keep still has 2 healthy instances"
is "$(wc -l <"$T/starts/keep")" 2 "and its 2 instances started once each: none was relaunched"
is "$(offers_total $other)" 0 "the remaining standby never made one"

stop_service svc
done_testing
