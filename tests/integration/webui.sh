#!/bin/bash
# The master's web UI and the endpoint it pages tasks with: the embedded
# files under /ui/ with their content types and security headers,
# --webui-dir, GET /tasks with filters, paging and errors, and what the
# UI's views read besides: the cluster's name, the series behind the
# overview's charts, agents' usage and GET /offers.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

CSP="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

# header FILE NAME: a header's value from curl -D output.
header () {
    tr -d '\r' <"$1" | awk -v n="$2" 'BEGIN { n = tolower(n) ":" }
        tolower($1) == n { sub(/^[^:]*: */, ""); print; exit }'
}

# fetch PATH NAME: GET http://$MASTER_HTTP/PATH into $T/NAME.body and
# $T/NAME.head; prints the status.
fetch () {
    curl -s --max-time 10 -D "$T/$2.head" -o "$T/$2.body" -w '%{http_code}' \
        "http://${3:-$MASTER_HTTP}/$1"
}

start_master --allocation-interval=100ms --cluster-name=webui-test
ok $? "master starts"
start_agent agent1 --resources="cpus:2;mem:1024;ports:[31000-31099]"
ok $? "agent1 registers"
start_agent agent2 --resources="cpus:2;mem:1024;ports:[31100-31199]"
ok $? "agent2 registers"

# Two frameworks: one with 4 long tasks (mixed-case ids, for q=), one
# whose 3 tasks finish at once.
start_sched web --name=web --task-prefix=Web- --max-tasks=4 --per-offer=2 \
    --task-resources="cpus:0.1;mem:32" --command='sleep 300'
start_sched batch --name=batch --task-prefix=job- --max-tasks=3 \
    --task-resources="cpus:0.1;mem:32" --command=true
wait_line 30 web '^status Web-[0-9]+ TASK_RUNNING' 4
ok $? "web's 4 tasks run"
wait_line 30 batch '^status job-[0-9]+ TASK_FINISHED' 3
ok $? "batch's 3 tasks finish"
web_fw=$(sched_fwid web)
batch_fw=$(sched_fwid batch)

# --- the embedded UI ---------------------------------------------------
for f in index.html:text/html app.css:text/css app.js:text/javascript; do
    name=${f%%:*}
    type=${f#*:}
    code=$(fetch "ui/$name" "$name")
    is "$code" "200" "GET /ui/$name answers 200"
    like "$(header "$T/$name.head" Content-Type)" "^$type; charset=utf-8\$" \
        "/ui/$name is $type"
    is "$(header "$T/$name.head" Content-Security-Policy)" "$CSP" "/ui/$name has the CSP"
    is "$(header "$T/$name.head" X-Content-Type-Options)" "nosniff" "/ui/$name has nosniff"
    cmp -s "$T/$name.body" "$S/webui/$name"
    ok $? "/ui/$name is webui/$name byte for byte"
done
code=$(fetch "ui/" index)
is "$code" "200" "GET /ui/ answers 200"
cmp -s "$T/index.body" "$S/webui/index.html"
ok $? "/ui/ serves index.html"
like "$(header "$T/index.head" Content-Type)" '^text/html' "/ui/ is HTML"
is "$(header "$T/index.head" Content-Security-Policy)" "$CSP" "/ui/ has the CSP"
code=$(fetch "ui/x" missing)
is "$code" "404" "an unknown /ui/x is 404"
is "$(header "$T/missing.head" Content-Security-Policy)" "$CSP" "the 404 has the CSP too"
code=$(fetch "ui/.hidden" hidden)
is "$code" "404" "/ui/.hidden is 404"
code=$(fetch "" root)
like "$code" '^30[12]$' "GET / redirects"
is "$(header "$T/root.head" Location)" "ui/" "to ui/ (a relative Location)"
grep -q 'href="ui/"' "$T/root.body"
ok $? "and its page links to ui/"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$MASTER_HTTP/ui/index.html")
is "$code" "405" "POST /ui/index.html is 405"
code=$(fetch "tasks?task_id=Web-1&framework_id=$web_fw" t1)
is "$code" "200" "the API still answers beside the UI"

# --- --webui-dir -------------------------------------------------------
"$MASTER_BIN" --ip=127.0.0.1 --port="$(free_port)" --http-port=0 --work-dir="$T/bad" \
    --webui-dir="$T/no-such-dir" >"$T/baddir.out" 2>&1
is "$?" "2" "--webui-dir naming no directory: exit status 2"
like "$(cat "$T/baddir.out")" 'webui-dir' "with a message naming the flag"
mkdir "$T/webui"
cp "$S/webui/index.html" "$S/webui/app.css" "$S/webui/app.js" "$T/webui/"
echo '/* changed on disk */' >>"$T/webui/app.css"
DEV_HTTP=127.0.0.1:$(free_port)
run_bg devmaster "$MASTER_BIN" --ip=127.0.0.1 --port="$(free_port)" \
    --http-port="${DEV_HTTP#*:}" --work-dir="$T/devmaster" --webui-dir="$T/webui"
wait_for 20 http_get "http://$DEV_HTTP/health"
ok $? "a master with --webui-dir starts"
code=$(fetch "ui/app.css" devcss "$DEV_HTTP")
is "$code" "200" "--webui-dir: /ui/app.css answers 200"
cmp -s "$T/devcss.body" "$T/webui/app.css"
ok $? "--webui-dir: it is the changed file from disk"
echo '/* and again */' >>"$T/webui/app.css"
fetch "ui/app.css" devcss2 "$DEV_HTTP" >/dev/null
like "$(cat "$T/devcss2.body")" 'and again' "--webui-dir: a later change shows without a restart"
is "$(header "$T/devcss2.head" Content-Security-Policy)" "$CSP" "--webui-dir: with the CSP"
echo 'new' >"$T/webui/extra.txt"
code=$(fetch "ui/extra.txt" devtxt "$DEV_HTTP")
is "$code" "200" "--webui-dir: a new file is served"
code=$(fetch "ui/extra.txt" embtxt)
is "$code" "404" "but not by the master with the embedded copy"
code=$(fetch "ui/nothere.js" devmissing "$DEV_HTTP")
is "$code" "404" "--webui-dir: a missing file is 404"
is "$(http_get "http://$DEV_HTTP/state/summary" | jq -r .cluster_name)" "cairn" \
    "without --cluster-name the cluster is called cairn"
kill -TERM "$PID_devmaster"
wait "$PID_devmaster"
is "$?" "0" "the --webui-dir master stops cleanly"

# --- GET /tasks: pages and filters --------------------------------------
# Expectations come from /state, the other way to list the tasks.
state=$(master_state)
all=$(jq -c '[.tasks[], .completed_tasks[]] | sort_by([.framework_id, .id]) | map(.id)' \
      <<<"$state")
is "$(jq length <<<"$all")" "7" "/state lists 7 tasks"

tasks () { http_get "http://$MASTER_HTTP/tasks?$1"; }
page=$(tasks "")
is "$(jq .total <<<"$page")" "7" "/tasks: total counts every task"
is "$(jq .offset <<<"$page")" "0" "/tasks: offset defaults to 0"
is "$(jq .limit <<<"$page")" "100" "/tasks: limit defaults to 100"
is "$(jq -c 'map(.id)' <<<"$(jq .tasks <<<"$page")")" "$all" \
    "/tasks: ordered by framework id, then task id"

page=$(tasks "offset=1&limit=2")
is "$(jq .total <<<"$page")" "7" "offset=1&limit=2: total is still 7"
is "$(jq .offset <<<"$page")" "1" "offset=1&limit=2: offset 1"
is "$(jq .limit <<<"$page")" "2" "offset=1&limit=2: limit 2"
is "$(jq -c '.tasks | map(.id)' <<<"$page")" "$(jq -c '.[1:3]' <<<"$all")" \
    "offset=1&limit=2: the 2nd and 3rd tasks"
page=$(tasks "offset=7")
is "$(jq '.tasks | length' <<<"$page")" "0" "an offset past the end gives no tasks"

want=$(jq -c '[.tasks[] | select(.state == "TASK_RUNNING")] | map(.id) | sort' <<<"$state")
page=$(tasks "state=TASK_RUNNING")
is "$(jq -c '.tasks | map(.id) | sort' <<<"$page")" "$want" "state=TASK_RUNNING: the running tasks"
is "$(jq .total <<<"$page")" "4" "state=TASK_RUNNING: 4 of them"
is "$(jq .total <<<"$(tasks state=TASK_FINISHED)")" "3" "state=TASK_FINISHED: 3"
is "$(jq .total <<<"$(tasks state=active)")" "4" "state=active: 4"
is "$(jq -c '[.tasks[].id] | sort' <<<"$(tasks state=completed)")" \
    '["job-1","job-2","job-3"]' "state=completed: the batch tasks"
is "$(jq .total <<<"$(tasks state=TASK_KILLED)")" "0" "state=TASK_KILLED: none"

page=$(tasks "framework_id=$web_fw")
is "$(jq .total <<<"$page")" "4" "framework_id: web has 4 tasks"
is "$(jq -r '[.tasks[].framework_id] | unique | join(",")' <<<"$page")" "$web_fw" \
    "framework_id: only web's"
is "$(jq .total <<<"$(tasks "framework_id=$batch_fw&state=completed")")" "3" \
    "framework_id and state combine"

aid=$(jq -r '.agents[] | select(.hostname == "agent1") | .id' <<<"$state")
want=$(jq -c --arg a "$aid" '[.tasks[], .completed_tasks[]] | map(select(.agent_id == $a))
                             | map(.id) | sort' <<<"$state")
page=$(tasks "agent_id=$aid")
is "$(jq -c '.tasks | map(.id) | sort' <<<"$page")" "$want" "agent_id: agent1's tasks"
is "$(jq .total <<<"$page")" "$(jq length <<<"$want")" "agent_id: total counts them"

is "$(jq -c '.tasks | map(.id)' <<<"$(tasks q=web)")" '["Web-1","Web-2","Web-3","Web-4"]' \
    "q=web matches Web-* whatever the case"
is "$(jq -c '.tasks | map(.id)' <<<"$(tasks q=JOB-2)")" '["job-2"]' "q=JOB-2 matches job-2"
is "$(jq .total <<<"$(tasks q=nothing-like-this)")" "0" "q matching nothing gives 0"

# Each task as /state writes it.
is "$(jq -c '.tasks[0] | {id, name, framework_id, agent_id, state, resources}' \
      <<<"$(tasks "q=job-1")")" \
   "$(jq -c '.completed_tasks[] | select(.id == "job-1")
             | {id, name, framework_id, agent_id, state, resources}' <<<"$state")" \
   "a task is written as in /state"

# Bad parameters: 400 naming the parameter.
for bad in "limit=0:limit" "limit=1001:limit" "limit=abc:limit" "offset=-1:offset" \
           "state=TASK_BOGUS:state" "agent_id=bad%20id:agent_id" \
           "framework_id=bad%20id:framework_id"; do
    query=${bad%:*}
    field=${bad##*:}
    code=$(fetch "tasks?$query" bad)
    is "$code" "400" "$query is 400"
    is "$(jq -r .field "$T/bad.body")" "$field" "$query: the error names $field"
done
is "$(jq .limit <<<"$(tasks limit=1000)")" "1000" "limit=1000 is allowed"

# GET /tasks?task_id= as before.
code=$(fetch "tasks?task_id=Web-2" one)
is "$code" "200" "task_id=Web-2 answers 200"
is "$(jq -r .id "$T/one.body")" "Web-2" "task_id=Web-2: that task"
is "$(jq -r .framework_name "$T/one.body")" "web" "task_id=Web-2: with its framework's name"
like "$(jq -c '[.history[].state]' "$T/one.body")" 'TASK_RUNNING' "task_id=Web-2: with its history"
is "$(jq 'has("total")' "$T/one.body")" "false" "task_id: one task, not a page"
code=$(fetch "tasks?task_id=no-such-task" none)
is "$code" "404" "an unknown task_id is 404"
code=$(fetch "tasks?task_id=bad%20id" badid)
is "$code" "400" "a malformed task_id is 400"
is "$(jq -r .field "$T/badid.body")" "task_id" "naming task_id"

# A bad task id next to a framework id is answered, not a crash.
code=$(fetch "tasks?task_id=bad%20id&framework_id=$web_fw" badid2)
is "$code" "400" "a malformed task_id with a framework_id is 400"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
       "http://$MASTER_HTTP/tasks/kill?task_id=bad%20id&framework_id=$web_fw")
is "$code" "400" "POST /tasks/kill with a malformed task_id is 400"
http_get "http://$MASTER_HTTP/health" >/dev/null
ok $? "the master still answers"

# The UI's other sources.
agents=$(http_get "http://$MASTER_HTTP/agents")
is "$(jq -c '[.agents[].hostname] | sort' <<<"$agents")" '["agent1","agent2"]' \
    "/agents lists both agents"
summary=$(http_get "http://$MASTER_HTTP/state/summary")
is "$(jq '.offered | has("cpus")' <<<"$summary")" "true" "/state/summary has offered resources"
is "$(jq -r .cluster_name <<<"$summary")" "webui-test" "/state/summary has --cluster-name"
is "$(jq -r .cluster_name <<<"$state")" "webui-test" "/state has --cluster-name"
is "$(jq .tasks_launched <<<"$summary")" "7" "/state/summary counts 7 tasks launched"
like "$(http_get "http://$MASTER_HTTP/metrics")" 'cairn_master_tasks_launched_total 7' \
    "/metrics counts 7 tasks launched"
is "$(jq -r '.agents[] | select(.hostname == "agent1") | .usage | has("mem_bytes") and has("cpu_seconds") and (.tasks_sampled | type == "number")' \
      <<<"$agents")" "true" "/agents: an agent's usage (sums of its tasks' samples)"
is "$(jq -r '[.agents[].last_seen_s_ago | select(. >= 0 and . < 30)] | length' <<<"$agents")" "2" \
    "/agents: each agent was last seen within 30 s"

# The charts' series: one sample per interval_s, of the mean allocation
# run time and the launch rate. The 7 launches happened in the first
# samples, so rate x interval adds up to them (each sample covers one
# interval give or take a 250 ms tick).
series () { http_get "http://$MASTER_HTTP/state/summary" | jq -c .series; }
launched_in_series () {
    [ "$(series | jq '[.launch_rate[]] | add // 0 | . * 5 >= 6.5')" = true ]
}
wait_for 30 launched_in_series
ok $? "series: the launch rates add up to the 7 launches"
s=$(series)
is "$(jq .interval_s <<<"$s")" "5" "series: one sample every 5 s"
is "$(jq '[.launch_rate[]] | add * 5 <= 7.5' <<<"$s")" "true" "series: and no more than 7 launches"
is "$(jq '(.allocation_ms | length) == (.launch_rate | length)' <<<"$s")" "true" \
    "series: as many allocation_ms samples as launch_rate ones"
is "$(jq '[.allocation_ms[] | select(. > 0)] | length > 0' <<<"$s")" "true" \
    "series: allocation runs (every 100 ms) take some time"
is "$(jq '[.allocation_ms[] | select(. < 0 or . > 10000)] | length' <<<"$s")" "0" \
    "series: allocation_ms values are in milliseconds"

# --- why is this not running -------------------------------------------
# fw_field FWID JQ: a field of a framework's entry in /state/summary.
fw_field () {
    http_get "http://$MASTER_HTTP/state/summary" \
        | jq -r --arg f "$1" ".frameworks[] | select(.id == \$f) | $2"
}
# agent_field HOSTNAME JQ: a field of an agent's entry in /agents.
agent_field () {
    http_get "http://$MASTER_HTTP/agents" \
        | jq -r --arg h "$1" ".agents[] | select(.hostname == \$h) | $2"
}
is_now () { [ "$("${@:2}")" = "$1" ]; }

is "$(fw_field "$web_fw" .suppressed)" "false" "summary: web is not suppressed"
unlike_suppressed () { ! fw_field "$web_fw" '.why_no_offers // ""' | grep -q suppressed; }
unlike_suppressed
ok $? "summary: web, not suppressed, is not said to be suppressed"
is "$(agent_field agent1 .filters | grep -cE '^[0-9]+$')" "1" "/agents: each agent has a filters count"
sched_cmd web suppress
wait_for 20 is_now true fw_field "$web_fw" .suppressed
ok $? "summary: web shows suppressed true after it suppresses"
like "$(fw_field "$web_fw" .why_no_offers)" '^suppressed' "summary: and why it gets no offers"
is "$(jq '[.frameworks[] | select(.suppressed)] | length' \
      <<<"$(http_get "http://$MASTER_HTTP/state")")" "1" "/state: web is the one suppressed framework"

# A framework that declines every offer for an hour: one filter per agent.
start_sched decl --name=decl --decline-all --refuse=3600
wait_line 30 decl '^decline ' 2
ok $? "decl declines offers"
decl_fw=$(sched_fwid decl)
wait_for 20 is_now 2 fw_field "$decl_fw" .filters
ok $? "summary: decl has 2 refuse filters in force (both agents declined)"
is "$(fw_field "$decl_fw" .offers)" "0" "summary: decl holds no offer"
like "$(fw_field "$decl_fw" .why_no_offers)" '^declined 2 agents' \
    "summary: decl's why_no_offers names the 2 declined agents"
is "$(fw_field "$decl_fw" .suppressed)" "false" "summary: decl is not suppressed"
like "$(agent_field agent1 .filters)" '^[1-3]$' "/agents: agent1 counts decl's filter (and any of web's, batch's)"

# With web suppressed and decl filtered, nobody takes the free agents.
wait_for 20 is_now "filtered by 2 frameworks that declined it" agent_field agent1 .why_idle ||
wait_for 5 is_now "filtered by 1 framework that declined it" agent_field agent1 .why_idle
ok $? "/agents: agent1's why_idle says it is filtered"

aid2=$(agent_field agent2 .id)
code=$(curl -s -o "$T/drain.body" -w '%{http_code}' -X POST \
       "http://$MASTER_HTTP/agents/drain?agent_id=$aid2&grace=1s")
is "$code" "200" "agent2 is drained"
is "$(agent_field agent2 .why_idle)" "draining" "/agents: a draining agent's why_idle is draining"
[ "$(agent_field agent1 .why_idle)" != "draining" ]
ok $? "/agents: agent1, not drained, is not said to be draining"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST \
       "http://$MASTER_HTTP/agents/undrain?agent_id=$aid2")
is "$code" "200" "agent2 is undrained"
isnt_draining () { [ "$(agent_field agent2 .why_idle)" != "draining" ]; }
wait_for 10 isnt_draining
ok $? "/agents: agent2's why_idle no longer says draining"

# --- GET /offers: a framework's outstanding offers ----------------------
start_sched hold --name=hold --hold
wait_line 30 hold '^held ' 2
ok $? "hold keeps an offer of each agent unanswered"
hold_fw=$(sched_fwid hold)
holds () { [ "$(http_get "http://$MASTER_HTTP/offers?framework_id=$hold_fw" | jq .total)" = 2 ]; }
wait_for 10 holds
offers=$(http_get "http://$MASTER_HTTP/offers?framework_id=$hold_fw")
held=$(grep -c '^held ' "$T/hold.log")
is "$(jq .total <<<"$offers")" "$held" "/offers?framework_id: as many offers as hold holds ($held)"
is "$(jq -c '[.offers[].id] | sort' <<<"$offers")" \
   "$(grep '^held ' "$T/hold.log" | awk '{print $2}' | jq -Rsc 'split("\n") | map(select(length > 0)) | sort')" \
   "/offers?framework_id: the offers hold holds"
is "$(jq -r '[.offers[].framework_id] | unique | join(",")' <<<"$offers")" "$hold_fw" \
    "/offers?framework_id: only hold's"
is "$(jq -r '[.offers[].hostname] - ["agent1", "agent2"] | length' <<<"$offers")" "0" \
    "/offers: each names its agent's hostname"
is "$(jq '[.offers[] | select(.age_s >= 0 and (.resources.cpus | type == "number"))] | length' \
      <<<"$offers")" "$held" "/offers: each has an age and resources"
is "$(fw_field "$hold_fw" .offers)" "$held" "/offers agrees with the summary's offer count"
o_aid=$(jq -r '.offers[0].agent_id' <<<"$offers")
is "$(http_get "http://$MASTER_HTTP/offers?framework_id=$hold_fw&agent_id=$o_aid" \
      | jq -r '[.offers[].agent_id] | unique | join(",")')" "$o_aid" \
    "/offers?framework_id&agent_id: only that agent's"
is "$(http_get "http://$MASTER_HTTP/offers?framework_id=$web_fw" | jq .total)" "0" \
    "/offers: web, suppressed, holds none"
is "$(http_get "http://$MASTER_HTTP/offers?framework_id=$hold_fw&limit=1" | jq '.offers | length')" \
    "1" "/offers: limit=1 gives one"
code=$(fetch "offers?framework_id=f-no-such-framework" nofw)
is "$code" "404" "/offers for an unknown framework is 404"
code=$(fetch "offers?framework_id=bad%20id" badfw)
is "$code" "400" "/offers with a malformed framework_id is 400"
is "$(jq -r .field "$T/badfw.body")" "framework_id" "naming framework_id"
code=$(fetch "offers?limit=0" badlimit)
is "$code" "400" "/offers?limit=0 is 400"

sched_cmd hold "stop teardown"
sched_wait hold
sched_cmd decl "stop teardown"
sched_cmd web "stop teardown"
sched_cmd batch "stop teardown"
sched_wait decl
sched_wait web
sched_wait batch
done_testing
