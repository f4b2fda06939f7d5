#!/bin/bash
# The web UI in a real browser: headless Chromium loads /ui/ from a
# master with two agents and running tasks, runs app.js under the
# master's Content-Security-Policy, and the DOM it leaves must show the
# data loaded (data-ready="1"), the agents' hostnames and the task ids,
# the cluster's name and the allocator's charts; then the drill-down
# views (#agent/ID, #framework/ID, #task/FW/ID) loaded directly.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_all "$CHROMIUM is not installed (apt-get install chromium)"

start_master --allocation-interval=100ms --cluster-name=browser-test
ok $? "master starts"
start_agent uihost-a --resources="cpus:2;mem:1024;ports:[31000-31099]"
ok $? "agent uihost-a registers"
start_agent uihost-b --resources="cpus:2;mem:1024;ports:[31100-31199]"
ok $? "agent uihost-b registers"
start_sched ui --name=ui-fw --task-prefix=uitask- --max-tasks=3 \
    --task-resources="cpus:0.1;mem:32" --command='sleep 300'
wait_line 30 ui '^status uitask-[0-9]+ TASK_RUNNING' 3
ok $? "3 tasks run"
# The charts draw a line once the master has a sample (every 5 s).
sampled () {
    [ "$(http_get "http://$MASTER_HTTP/state/summary" | jq '.series.launch_rate | length')" -ge 1 ]
}
wait_for 20 sampled
ok $? "the master has a sample for the charts"

# dump_dom [FRAGMENT [OUT]]: the DOM of /ui/#FRAGMENT after the page's
# scripts ran, into $T/OUT.html (default dom) (virtual time lets the
# first poll finish without waiting in real time).
dump_dom () {
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --disable-background-networking --disable-component-update --disable-sync \
        --no-first-run --user-data-dir="$(mktemp -d "$T/chromium.XXXXXX")" \
        --virtual-time-budget=10000 --dump-dom "http://$MASTER_HTTP/ui/#${1:-}" \
        >"$T/${2:-dom}.html" 2>"$T/${2:-dom}.chromium.log"
}
# view FRAGMENT OUT KIND: dump_dom until the page shows the view KIND
# with its data loaded (up to three loads).
view () {
    local attempt
    for attempt in 1 2 3; do
        dump_dom "$1" "$2"
        grep -q "<body[^>]*data-ready=\"1\"[^>]*data-view=\"$3\"" "$T/$2.html" && return 0
        diag "$2: load $attempt did not show the $3 view"
    done
    tail -20 "$T/$2.chromium.log" | sed 's/^/#   /'
    return 1
}
# text FILE ID: the text of the element with that id in $T/FILE.html.
text () {
    grep -oP "id=\"$2\"[^>]*>\\K[^<]*" "$T/$1.html" | head -1
}
# A loaded machine can make the first poll miss the virtual-time budget:
# up to three loads, until one shows the data.
for attempt in 1 2 3; do
    dump_dom
    rc=$?
    grep -q '<body[^>]*data-ready="1"' "$T/dom.html" && break
    diag "load $attempt: no data-ready yet (chromium status $rc)"
done
# Chromium's exit status alone proves nothing: the DOM must show the data.
diag "chromium exited with status $rc"
grep -q '<body[^>]*data-ready="1"' "$T/dom.html"
ok $? "the page marks itself ready after loading data"
if ! grep -q 'data-ready="1"' "$T/dom.html"; then
    diag "chromium's log:"
    tail -20 "$T/chromium.log" | sed 's/^/#   /'
fi
for h in uihost-a uihost-b; do
    grep -q "<td>$h</td>" "$T/dom.html"
    ok $? "the agents table shows $h"
done
for t in uitask-1 uitask-2 uitask-3; do
    grep -q "<td>$t</td>" "$T/dom.html"
    ok $? "the tasks table shows $t"
done
grep -q "<td>ui-fw</td>" "$T/dom.html"
ok $? "the frameworks table shows ui-fw"
like "$(grep -o 'id="master-id">[^<]*' "$T/dom.html")" 'm-[0-9a-f]+' "the header shows the master's id"
grep -q 'Cannot reach the master' "$T/dom.html"
is "$?" "1" "no error is shown"

# The cluster's name, in the header and the title; the charts, as SVG.
is "$(text dom cluster-name)" "browser-test" "the header shows the cluster's name"
like "$(grep -o '<title>[^<]*' "$T/dom.html")" '<title>browser-test' \
    "the document's title starts with the cluster's name"
for c in allocation_ms launch_rate; do
    fig=$(tr -d '\n' <"$T/dom.html" | grep -oP "<figure[^>]*data-chart=\"$c\".*?</figure>")
    like "$fig" '<svg[^>]*class="sparkline"' "the $c chart is an SVG"
    like "$fig" '<polyline points="[0-9., -]+"' "the $c chart draws a line of the samples"
done
like "$(text dom poll-interval)" '^every [0-9.]+ s$' "the header says how often the page polls"
grep -q '<body[^>]*data-poll-ms="[0-9]*"' "$T/dom.html"
ok $? "the poll interval is on the body (data-poll-ms)"

fw_ui=$(sched_fwid ui)

# Operator actions: a button in each row, a token input in the header,
# the confirmation row there but hidden until an action is chosen.
rows=$(grep -oP '<tr data-agent="[^"]*">.*?</tr>' "$T/dom.html")
is "$(grep -c . <<<"$rows")" "2" "the agents table has a row per agent"
is "$(grep -c 'data-action="drain"[^>]*>Drain</button>' <<<"$rows")" "2" \
    "each agent row has a Drain button"
fwrow=$(grep -oP '<tr data-framework="[^"]*"><td>ui-fw</td>.*?</tr>' "$T/dom.html")
like "$fwrow" 'data-action="teardown"[^>]*>Tear down</button>' \
    "the ui-fw row has a Tear down button"
grep -q '<input id="token" type="password"' "$T/dom.html"
ok $? "the header has the operator token input"
grep -q '<div id="confirm"[^>]*hidden' "$T/dom.html"
ok $? "no confirmation is shown before an action is chosen"
grep -q '<th>Why idle</th>' "$T/dom.html"
ok $? "the agents table has a why idle column"
grep -q '<th>Why no offers</th>' "$T/dom.html"
ok $? "the frameworks table has a why no offers column"

# Drill down: one agent's page, loaded directly.
aid_a=$(http_get "http://$MASTER_HTTP/agents" | jq -r '.agents[] | select(.hostname == "uihost-a") | .id')
view "agent/$aid_a" agent agent
ok $? "the #agent/ID page loads"
is "$(text agent agent-hostname)" "uihost-a" "the agent page shows its hostname"
grep -q '<div id="view-overview"[^>]*hidden' "$T/agent.html"
ok $? "the overview is hidden on the agent page"
want=$(http_get "http://$MASTER_HTTP/tasks?agent_id=$aid_a" | jq -r '[.tasks[].id] | sort | join(" ")')
got=$(tr -d '\n' <"$T/agent.html" | grep -oP '<table id="agent-tasks">.*?</table>' \
      | grep -oP '<tr data-task="\K[^"]+' | sort | paste -sd' ')
is "$got" "$want" "the agent page lists exactly its tasks ('$want')"
like "$(tr -d '\n' <"$T/agent.html" | grep -oP '<div id="agent-bars">.*?<h3>')" \
    'data-resource="cpus".*total 2\.00' "the agent page draws its CPUs used/total bar"
like "$(tr -d '\n' <"$T/agent.html" | grep -oP '<dl id="agent-usage".*?</dl>')" '<dt>' \
    "the agent page has a usage section"

# One framework's page: its tasks, and the offers a holding framework keeps.
start_sched holder --name=holder-fw --hold
wait_line 30 holder '^held ' 1
ok $? "holder-fw holds an offer"
hfw=$(sched_fwid holder)
view "framework/$fw_ui" framework framework
ok $? "the #framework/ID page loads"
is "$(text framework framework-name)" "ui-fw" "the framework page shows its name"
got=$(tr -d '\n' <"$T/framework.html" | grep -oP '<table id="framework-tasks">.*?</table>' \
      | grep -oP '<tr data-task="\K[^"]+' | sort | paste -sd' ')
is "$got" "uitask-1 uitask-2 uitask-3" "the framework page lists its tasks"
like "$(tr -d '\n' <"$T/framework.html" | grep -oP '<ul id="framework-task-counts".*?</ul>')" \
    '<li>TASK_RUNNING: 3</li>' "the framework page counts its tasks by state"
view "framework/$hfw" holder framework
ok $? "holder-fw's page loads"
held=$(http_get "http://$MASTER_HTTP/offers?framework_id=$hfw")
offer=$(jq -r '.offers[0].id' <<<"$held")
host=$(jq -r '.offers[0].hostname' <<<"$held")
row=$(grep -oP "<tr data-offer=\"$offer\">.*?</tr>" "$T/holder.html")
like "$row" ">$host</a></td>" "holder-fw's page lists its offer $offer on $host"
sched_cmd holder "stop teardown"
sched_wait holder

# One task's page: state, health, history, resources; its sandbox and
# output, or why they cannot be shown.
view "task/$fw_ui/uitask-1" task task
ok $? "the #task/FW/ID page loads"
is "$(text task task-details-id)" "uitask-1" "the task page names the task"
fields=$(tr -d '\n' <"$T/task.html" | grep -oP '<dl id="task-details-fields".*?</dl>')
like "$fields" '<dt>Health</dt><dd>no health check reported</dd>' "the task page says what it knows of health"
like "$fields" '<dt>Agent</dt><dd><a href="#agent/' "the task page links to its agent's page"
like "$(tr -d '\n' <"$T/task.html" | grep -oP '<table id="task-history">.*?</table>')" \
    '<td>TASK_RUNNING</td>' "the task page shows its status history"
like "$(tr -d '\n' <"$T/task.html" | grep -oP '<div id="task-usage">.*?</div>')" \
    'data-resource="CPUs"' "the task page shows its resources"
sandbox=$(tr -d '\n' <"$T/task.html" | grep -oP '<table id="sandbox-files">.*?</table>')
status=$(text task sandbox-status)
[[ $sandbox == *'data-file="stdout"'* || -n $status ]]
ok $? "the task page lists the sandbox or says why not ($status)"

# Why not running: a suppressed framework and a draining agent say so.
sched_cmd ui suppress
fw=$fw_ui
suppressed () {
    [ "$(http_get "http://$MASTER_HTTP/state/summary" \
         | jq -r --arg f "$fw" '.frameworks[] | select(.id == $f) | .suppressed')" = true ]
}
wait_for 20 suppressed
ok $? "ui-fw is suppressed"
aid=$(http_get "http://$MASTER_HTTP/agents" \
      | jq -r '.agents[] | select(.hostname == "uihost-b") | .id')
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
      "http://$MASTER_HTTP/agents/drain?agent_id=$aid&grace=1s")" "200" "uihost-b is drained"
for attempt in 1 2 3; do
    dump_dom
    grep -q '<body[^>]*data-ready="1"' "$T/dom.html" && break
done
fwrow=$(grep -oP '<tr data-framework="[^"]*"><td>ui-fw</td>.*?</tr>' "$T/dom.html")
like "$fwrow" '<td class="why">suppressed: it asked for no offers</td>' \
    "the ui-fw row says why it gets no offers: suppressed"
brow=$(grep -oP '<tr data-agent="[^"]*"><td>uihost-b</td>.*?</tr>' "$T/dom.html")
like "$brow" '<td class="why">draining</td>' "the uihost-b row says why it is idle: draining"
like "$brow" 'data-action="undrain"[^>]*>Undrain</button>' "the draining uihost-b has an Undrain button"
arow=$(grep -oP '<tr data-agent="[^"]*"><td>uihost-a</td>.*?</tr>' "$T/dom.html")
like "$arow" 'data-action="drain"[^>]*>Drain</button>' "uihost-a still has a Drain button"

sched_cmd ui "stop teardown"
sched_wait ui
done_testing
