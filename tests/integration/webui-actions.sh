#!/bin/bash
# The web UI's operator actions in a real browser: headless Chromium
# loads /ui/ from a master with --http-token-file, and a driver script
# (tests/integration/webui-drive.js, served from a --webui-dir copy of
# webui/ with one extra <script>) clicks as an operator would: Drain,
# Undrain, Tear down, Kill task, each through the in-page confirmation.
# The master's state shows what happened; the page shows its answer.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_all "$CHROMIUM is not installed (apt-get install chromium)"

TOKEN=ui-operator-0123456789abcdef
printf 'ops %s\n' "$TOKEN" >"$T/tokens"
chmod 600 "$T/tokens"
mkdir "$T/webui"
cp "$S/webui/app.css" "$S/webui/app.js" "$S/tests/integration/webui-drive.js" "$T/webui/"
sed 's|<script src="app.js" defer></script>|&\n<script src="webui-drive.js" defer></script>|' \
    "$S/webui/index.html" >"$T/webui/index.html"
grep -q 'webui-drive.js' "$T/webui/index.html"
ok_or_bail $? "the test's copy of the UI loads the driver"

start_master --allocation-interval=100ms --http-token-file="$T/tokens" --webui-dir="$T/webui"
ok_or_bail $? "master starts with --http-token-file and --webui-dir"
start_agent uiact-a --resources="cpus:2;mem:1024;ports:[31000-31099]"
ok_or_bail $? "agent uiact-a registers"
start_agent uiact-b --resources="cpus:2;mem:1024;ports:[31100-31199]"
ok_or_bail $? "agent uiact-b registers"
start_sched act --name=act-fw --task-prefix=act- --max-tasks=2 \
    --task-resources="cpus:0.1;mem:32" --command='echo ui-output-4242; exec sleep 300'
wait_line 30 act '^status act-[0-9]+ TASK_RUNNING' 2
ok_or_bail $? "2 tasks run"
fw=$(sched_fwid act)
agent_id () {
    master_state | jq -r --arg h "$1" '.agents[] | select(.hostname == $h) | .id'
}
draining () {
    master_state | jq -r --arg h "$1" '.agents[] | select(.hostname == $h) | .drain != null'
}
bid=$(agent_id uiact-b)

# drive NAME FRAGMENT: loads /ui/#FRAGMENT until the driver marks the
# page done (up to three loads); the DOM goes to $T/NAME.html.
drive () {
    local attempt
    for attempt in 1 2 3; do
        timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
            --disable-background-networking --disable-component-update --disable-sync \
            --no-first-run --user-data-dir="$(mktemp -d "$T/chromium.XXXXXX")" \
            --virtual-time-budget=15000 --dump-dom "http://$MASTER_HTTP/ui/#$2" \
            >"$T/$1.html" 2>"$T/$1.chromium.log"
        grep -q '<body[^>]*data-done="1"' "$T/$1.html" && return 0
        diag "$1: load $attempt did not finish"
    done
    tail -20 "$T/$1.chromium.log" | sed 's/^/#   /'
    return 1
}
# text NAME ID: the text of the element with that id in $T/NAME.html.
text () {
    grep -oP "id=\"$2\"[^>]*>\\K[^<]*" "$T/$1.html" | head -1
}

# Without a token: the confirmation names the agent, the master answers
# 401, the page shows why, and nothing changes.
drive notoken "action=drain&target=$bid"
ok $? "drain without a token: the page runs the action"
like "$(text notoken confirm-text)" "^Drain agent uiact-b \\($bid\\)\\?" \
    "the confirmation names the agent to drain"
like "$(text notoken action-result)" "failed: 401 .*needs a valid bearer token" \
    "the 401's error text is shown"
grep -q '<p id="action-result"[^>]*class="error"' "$T/notoken.html"
ok $? "shown as an error"
is "$(draining uiact-b)" "false" "without a token uiact-b is not drained"

# Cancel: nothing is sent.
drive cancel "action=drain&target=$bid&token=$TOKEN&answer=no"
ok $? "drain, then Cancel: the page runs"
grep -q '<p id="action-result"[^>]*hidden' "$T/cancel.html"
ok $? "after Cancel no answer is shown"
is "$(draining uiact-b)" "false" "after Cancel uiact-b is not drained"

# With the token.
drive drain "action=drain&target=$bid&token=$TOKEN"
ok $? "drain with the token: the page runs"
is "$(text drain action-result)" "Drain agent uiact-b ($bid): done." "the page says it is done"
is "$(draining uiact-b)" "true" "uiact-b is draining"
grep -q "$TOKEN" "$T/drain.html"
is "$?" "1" "the token is not written into the page"
drive undrain "action=undrain&target=$bid&token=$TOKEN"
ok $? "undrain with the token: the page runs"
like "$(text undrain confirm-text)" "^Undrain agent uiact-b" "the confirmation names the agent"
is "$(text undrain action-result)" "Undrain agent uiact-b ($bid): done." "the page says it is done"
is "$(draining uiact-b)" "false" "uiact-b is no longer draining"

# A wrong token: 401 saying so.
drive badtoken "action=drain&target=$bid&token=not-the-token-0000"
ok $? "drain with a wrong token: the page runs"
like "$(text badtoken action-result)" "failed: 401 .*not valid" "the page shows the token is not valid"
is "$(draining uiact-b)" "false" "uiact-b is still not drained"

# Drill down: an agent's task count shows only that agent's tasks, with
# its hostname in the Agent column.
aid=$(master_state | jq -r '.tasks[] | select(.id == "act-1") | .agent_id')
host=$(master_state | jq -r --arg a "$aid" '.agents[] | select(.id == $a) | .hostname')
drive scope "action=scope&target=$aid"
ok $? "clicking the task count of act-1's agent ($host): the page runs"
is "$(text scope task-scope-text)" "only agent $host" "the task table says whose tasks it shows"
want=$(master_state | jq -r --arg a "$aid" \
       '[.tasks[] | select(.agent_id == $a) | .id] | sort | join(" ")')
got=$(grep -oP '<tr data-task="\K[^"]+' "$T/scope.html" | sort | paste -sd' ')
is "$got" "$want" "the table lists exactly $host's tasks ($want)"
is "$(grep -oP '<tr data-task="[^"]+">.*?</tr>' "$T/scope.html" | grep -c "<td title=\"$aid\">$host</td>")" \
   "$(wc -w <<<"$want")" "each row names the agent by its hostname"
other=$(master_state | jq -r --arg a "$aid" '.agents[] | select(.id != $a) | .id')
drive scope2 "action=scope&target=$other"
ok $? "clicking the other agent's task count: the page runs"
want=$(master_state | jq -r --arg a "$other" \
       '[.tasks[] | select(.agent_id == $a) | .id] | sort | join(" ")')
got=$(grep -oP '<tr data-task="\K[^"]+' "$T/scope2.html" | sort | paste -sd' ')
is "$got" "$want" "the table lists exactly the other agent's tasks ('$want'), not act-1"

# A task's details show its output, read through the master.
drive output "action=output&target=act-2"
ok $? "act-2's details: the page runs"
is "$(text output log-text)" "ui-output-4242" "they show what the task wrote to stdout"

# Kill a task from its details.
drive kill "action=kill&target=act-1&token=$TOKEN"
ok $? "kill act-1 with the token: the page runs"
like "$(text kill confirm-text)" "^Kill task act-1 of framework $fw\\?" \
    "the confirmation names the task and its framework"
is "$(text kill action-result)" "Kill task act-1: done." "the page says it is done"
wait_line 30 act '^status act-1 TASK_KILLED'
ok $? "act-1 is killed"
grep -q '^status act-2 TASK_KILLED' "$T/act.log"
is "$?" "1" "act-2 is not"

# Tear the framework down.
drive teardown "action=teardown&target=$fw&token=$TOKEN"
ok $? "teardown with the token: the page runs"
like "$(text teardown confirm-text)" "^Tear down framework act-fw \\($fw\\)\\? All its tasks" \
    "the confirmation names the framework and says its tasks are killed"
is "$(text teardown action-result)" "Tear down framework act-fw ($fw): done." \
    "the page says it is done"
is "$(master_state | jq -r --arg f "$fw" '[.frameworks[], .completed_frameworks[]?]
      | map(select(.id == $f)) | .[0].removed')" "true" "act-fw is removed"
done_testing
