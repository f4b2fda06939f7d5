#!/bin/bash
# The main job: build Cairn, start a local cluster (one master, two
# agents) on 127.0.0.1, run real work through it with the hello
# framework, show what ran where and what it printed, and stop
# everything. Installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$(pwd)

bash contrib/install-deps.sh

echo "== building (in build/)"
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q
make -j"$(nproc)" -s >/dev/null
B=$(pwd)

T=$(mktemp -d /tmp/cairn-demo.XXXXXX)
PIDS=()
cleanup () {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT

free_port () {
    local p
    while :; do
        p=$((20000 + RANDOM % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
wait_for () {
    for _ in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "demo: timed out waiting for: $*" >&2
    return 1
}

PORT=$(free_port)
HTTP=$(free_port)
MASTER=127.0.0.1:$PORT
echo "== starting a master on $MASTER (HTTP on 127.0.0.1:$HTTP), logs in $T"
"$B/master/cairn-master" --port="$PORT" --http-port="$HTTP" --work-dir="$T/master" \
    --allocation-interval=200ms >"$T/master.log" 2>&1 &
PIDS+=($!)
wait_for curl -sf "http://127.0.0.1:$HTTP/health"

for i in 1 2; do
    echo "== starting agent$i (1 cpu, 512 MiB)"
    "$B/agent/cairn-agent" --master="$MASTER" --http-port=0 --hostname="agent$i" \
        --work-dir="$T/agent$i" --resources="cpus:1;mem:512;ports:[3${i}000-3${i}099]" \
        >"$T/agent$i.log" 2>&1 &
    PIDS+=($!)
done
wait_for sh -c "curl -sf http://127.0.0.1:$HTTP/state | jq -e '.agents | length == 2'"
"$B/cli/cairn" --master="$MASTER" agents

echo
echo "== running 12 tasks with the hello framework"
status=0
"$B/frameworks/examples/hello/hello" --master="$MASTER" --tasks=12 \
    --command='echo "hello from $CAIRN_TASK_ID on $CAIRN_HOSTNAME (pid $$)"' || status=$?

echo
echo "== what ran where (cairn tasks)"
"$B/cli/cairn" --master="$MASTER" tasks

echo
echo "== what the tasks printed (read from each agent's sandbox over HTTP)"
STATE=$(curl -sf "http://127.0.0.1:$HTTP/state")
jq -r '.completed_tasks[] | [.framework_id, .id, .agent_id] | @tsv' <<<"$STATE" |
while IFS=$'\t' read -r fw task agent; do
    addr=$(jq -r --arg a "$agent" '.agents[] | select(.id == $a) | .http_address' <<<"$STATE")
    printf '  %-9s %s' "$task:" "$(curl -sf "http://$addr/files/read?framework_id=$fw&task_id=$task&file=stdout")"
    echo
done

echo
echo "== stopping the cluster"
cleanup
PIDS=()
trap - EXIT
if [ $status -eq 0 ]; then
    echo "demo: all tasks finished; the cluster is stopped."
else
    echo "demo: hello exited with status $status" >&2
fi
exit $status
