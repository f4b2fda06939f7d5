#!/bin/bash
# Agents marked gone for good, and the durable registry: the decision
# survives a master restart, a gone agent that comes back is told to shut
# down its tasks, and agents that do not come back after a restart count
# as unreachable once --agent-reregister-timeout has passed.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

start_master --allocation-interval=100ms --agent-ping-timeout=300ms \
    --max-agent-ping-misses=3 --agent-reregister-timeout=2s
ok $? "master starts"
start_agent agent1 --resources="cpus:1;mem:512;ports:[31000-31009]" --max-master-ping-misses=3
ok $? "agent1 registers"
start_agent agent2 --resources="cpus:1;mem:512;ports:[31010-31019]"
ok $? "agent2 registers"
a1=$(master_state | jq -r '.agents[] | select(.hostname == "agent1") | .id')

# Two long tasks, one per agent; each records its pid in its sandbox.
run_bg hello "$HELLO_BIN" --master="$MASTER" --tasks=2 --resources="cpus:0.6;mem:64" \
    --command='echo $$ > "$CAIRN_SANDBOX/pid"; exec sleep 300'
running () { master_state | jq_e '[.tasks[] | select(.state == "TASK_RUNNING")] | length == 2'; }
wait_for 30 running
ok $? "two tasks run, one on each agent"
pidfile=$(find "$T/agent1/sandboxes" -name pid | head -1)
taskpid=$(cat "$pidfile" 2>/dev/null)
[ -n "$taskpid" ] && kill -0 "$taskpid" 2>/dev/null
ok $? "the task on agent1 runs as pid $taskpid"

# agent1 stops answering; meanwhile an operator declares it gone.
kill -STOP "$PID_agent1"
code=$(curl -s -o "$T/gone.json" -w '%{http_code}' -X POST \
       "http://$MASTER_HTTP/agents/gone?agent_id=$a1&reason=disk+failed")
is "$code" "200" "POST /agents/gone answers 200"
is "$(jq -r .gone "$T/gone.json")" "true" "and says the agent is gone"
state=$(master_state)
is "$(jq --arg a "$a1" '[.gone_agents[] | select(.id == $a)] | length' <<<"$state")" "1" \
   "/state lists agent1 among the gone agents"
is "$(jq -r '.gone_agents[0].reason' <<<"$state")" "disk failed" "with the operator's reason"
is "$(jq --arg a "$a1" '[.agents[] | select(.id == $a)] | length' <<<"$state")" "0" \
   "agent1 is no longer among the agents"
is "$(jq -r --arg a "$a1" '.completed_tasks[] | select(.agent_id == $a) | "\(.state) \(.reason)"' <<<"$state")" \
   "TASK_LOST REASON_AGENT_REMOVED" "its task is reported lost with REASON_AGENT_REMOVED"
is "$(jq '.resources.cpus' <<<"$(http_get "http://$MASTER_HTTP/state/summary")")" "1" \
   "its resources left the cluster"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$MASTER_HTTP/agents/gone?agent_id=a-nope")
is "$code" "404" "marking an unknown agent gone is 404"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$MASTER_HTTP/agents/gone?agent_id=$a1")
is "$code" "405" "GET on /agents/gone is 405"

# agent1 wakes up, re-registers with its id, and is told to shut down.
kill -CONT "$PID_agent1"
exited () { ! kill -0 "$PID_agent1" 2>/dev/null; }
wait_for 30 exited
ok $? "agent1 exits once it hears it is gone"
wait "$PID_agent1" 2>/dev/null
like "$(cat "$T/agent1.log")" "told this agent to shut down.*marked gone" "agent1 logs why"
gone_task () { ! kill -0 "$taskpid" 2>/dev/null; }
wait_for 10 gone_task
ok $? "agent1's task process is gone too"

# The decision survives a restart of the master.
stop_master
ok $? "the master stops on SIGTERM"
restart_master
ok $? "the master comes back on the same work dir"
state=$(master_state)
is "$(jq --arg a "$a1" '[.gone_agents[] | select(.id == $a)] | length' <<<"$state")" "1" \
   "after the restart agent1 is still gone"
wait_for 20 agent_registered agent2
ok $? "agent2 re-registers with the new master"

# An agent the registry knows that does not come back becomes
# unreachable after --agent-reregister-timeout (2 s here).
kill -TERM "$PID_agent2"
wait "$PID_agent2" 2>/dev/null
stop_master
restart_master
is "$(master_state | jq -r '.agents[] | select(.hostname == "agent2") | .state')" "RECOVERING" \
   "after the next restart agent2 is RECOVERING"
unreachable () { master_state | jq_e '.agents[] | select(.hostname == "agent2") | .state == "UNREACHABLE"'; }
wait_for 15 unreachable
ok $? "and UNREACHABLE once the re-registration timeout passed"
like "$(http_get "http://$MASTER_HTTP/metrics")" 'cairn_master_agents\{state="gone"\} 1' \
     "/metrics counts the gone agent"

done_testing
