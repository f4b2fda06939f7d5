#!/bin/bash
# doc/screenshots.sh: the web UI's picture in doc/webui.png, taken from a
# small live cluster (a master, three agents, two frameworks running
# tasks, one agent draining) with headless Chromium, the same browser
# the UI's tests use. Run from a build tree after `make check` (it needs
# the test scheduler tests/tools/cairn-sched):
#     CAIRN_BUILDDIR=$PWD CAIRN_SRCDIR=/path/to/source bash doc/screenshots.sh
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || { echo "screenshots.sh: $CHROMIUM is not installed" >&2; exit 1; }
OUT=${1:-$S/doc/webui.png}

start_master --allocation-interval=100ms >/dev/null || exit 1
for h in node1 node2 node3; do
    start_agent "$h" --resources="cpus:4;mem:4096;ports:[31000-31099]" >/dev/null || exit 1
done
start_sched web --name=web-frontend --task-prefix=web- --max-tasks=5 \
    --task-resources="cpus:0.5;mem:256" --command='sleep 600'
start_sched etl --name=nightly-etl --task-prefix=etl- --max-tasks=4 \
    --task-resources="cpus:1;mem:512" --command='sleep 600'
wait_line 30 web '^status web-[0-9]+ TASK_RUNNING' 5 && wait_line 30 etl '^status etl-[0-9]+ TASK_RUNNING' 4
aid=$(master_state | jq -r '.agents[] | select(.hostname == "node3") | .id')
curl -sf -X POST "http://$MASTER_HTTP/agents/drain?agent_id=$aid&grace=10m" >/dev/null
sleep 1
"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --disable-background-networking --disable-component-update --disable-sync --no-first-run \
    --user-data-dir="$(mktemp -d "$T/chromium.XXXXXX")" --hide-scrollbars \
    --window-size=1280,1400 --virtual-time-budget=10000 --screenshot="$OUT" \
    "http://$MASTER_HTTP/ui/" >"$T/chromium.log" 2>&1
[ -s "$OUT" ] && echo "screenshots.sh: $OUT" >&2
sched_cmd web "stop teardown"
sched_cmd etl "stop teardown"
sched_wait web
sched_wait etl
stop_all >/dev/null
rm -rf "$T"
_stopped=1
