#!/bin/bash
# The master's operator endpoints: /metrics in the Prometheus text format
# (checked with promtool), /state/summary, /health, and error answers.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
command -v promtool >/dev/null || skip_all "promtool is not installed (apt-get install prometheus)"

start_master --allocation-interval=100ms
ok $? "master starts"
start_agent agent1 --resources="cpus:2;mem:1024;ports:[31000-31099]"
ok $? "agent1 registers"
start_agent agent2 --resources="cpus:2;mem:1024;ports:[31100-31199]"
ok $? "agent2 registers"
timeout 60 "$HELLO_BIN" --master="$MASTER" --tasks=6 >"$T/hello.out" 2>&1
is "$?" "0" "hello runs 6 tasks"
LOGS+=("$T/hello.out")

metrics=$(http_get "http://$MASTER_HTTP/metrics")
ok $? "GET /metrics answers"
printf '%s\n' "$metrics" >"$T/metrics.txt"
promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1
ok $? "promtool check metrics accepts /metrics"
[ -s "$T/promtool.out" ] && sed 's/^/#   /' "$T/promtool.out"
like "$metrics" 'cairn_master_agents\{state="active"\} 2' "metrics count 2 active agents"
like "$metrics" 'cairn_master_tasks\{state="TASK_FINISHED"\} 6' "metrics count 6 finished tasks"
like "$metrics" 'cairn_master_frameworks\{state="removed"\} 1' "metrics count hello's framework as removed"
like "$metrics" 'cairn_master_messages_received_total\{type="ACCEPT"\} [1-9]' "metrics count ACCEPT messages"
like "$metrics" 'cairn_master_allocation_runs_total [1-9]' "metrics count allocation runs"

type=$(curl -s -o /dev/null -w '%{content_type}' "http://$MASTER_HTTP/metrics")
like "$type" '^text/plain; version=0.0.4' "/metrics has the Prometheus content type"

summary=$(http_get "http://$MASTER_HTTP/state/summary")
is "$(jq .agents.active <<<"$summary")" "2" "/state/summary counts 2 active agents"
is "$(jq .resources.cpus <<<"$summary")" "4" "/state/summary adds up the agents' cpus"
is "$(jq '.tasks.TASK_FINISHED' <<<"$summary")" "6" "/state/summary counts 6 finished tasks"
is "$(jq 'has("completed_tasks")' <<<"$summary")" "false" "/state/summary has no task lists"

# /state in slices is still one valid document with everything in it.
state=$(master_state)
is "$(jq '.agents | length' <<<"$state")" "2" "/state lists both agents"
is "$(jq '.completed_tasks | length' <<<"$state")" "6" "/state lists the 6 completed tasks"

code=$(curl -s -o "$T/err.json" -w '%{http_code}' "http://$MASTER_HTTP/nope")
is "$code" "404" "an unknown path is 404"
like "$(jq -r .error "$T/err.json")" "no such resource: /nope" "with a JSON error naming the path"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$MASTER_HTTP/state")
is "$code" "405" "POST /state is 405"

done_testing
