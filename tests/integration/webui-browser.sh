#!/bin/bash
# The web UI in a real browser: headless Chromium loads /ui/ from a
# master with two agents and running tasks, runs app.js under the
# master's Content-Security-Policy, and the DOM it leaves must show the
# data loaded (data-ready="1"), the agents' hostnames and the task ids.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_all "$CHROMIUM is not installed (apt-get install chromium)"

start_master --allocation-interval=100ms
ok $? "master starts"
start_agent uihost-a --resources="cpus:2;mem:1024;ports:[31000-31099]"
ok $? "agent uihost-a registers"
start_agent uihost-b --resources="cpus:2;mem:1024;ports:[31100-31199]"
ok $? "agent uihost-b registers"
start_sched ui --name=ui-fw --task-prefix=uitask- --max-tasks=3 \
    --task-resources="cpus:0.1;mem:32" --command='sleep 300'
wait_line 30 ui '^status uitask-[0-9]+ TASK_RUNNING' 3
ok $? "3 tasks run"

# dump_dom: the DOM after the page's scripts ran (virtual time lets the
# first poll finish without waiting in real time).
dump_dom () {
    timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --disable-background-networking --disable-component-update --disable-sync \
        --no-first-run --user-data-dir="$(mktemp -d "$T/chromium.XXXXXX")" \
        --virtual-time-budget=10000 --dump-dom "http://$MASTER_HTTP/ui/" \
        >"$T/dom.html" 2>"$T/chromium.log"
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

# Why not running: a suppressed framework and a draining agent say so.
sched_cmd ui suppress
fw=$(sched_fwid ui)
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
