#!/bin/bash
# The main job: build Cairn, start a local cluster (one master, two
# agents) on 127.0.0.1, run real work through it (the hello example
# framework, a service through cairn-service), show what ran where and
# what it printed, and stop everything. Installs missing Debian packages
# first.
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
# Tasks run as nobody (the agents' --default-user): they must be able to
# reach their sandboxes below this directory.
chmod 711 "$T"
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
wait_for bash -o pipefail -c "curl -sf http://127.0.0.1:$HTTP/state | jq -e '.agents | length == 2'"
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
echo "== a parameter sweep with cairn-batch: an array of 20 tasks, output collected"
"$B/frameworks/batch/cairn-batch" run --master="$MASTER" --array=1-20 --cpus=0.1 --mem=16 \
    --output="$T/sweep" --quiet --shell -- \
    'echo "part $CAIRN_ARRAY_INDEX of the sweep, computed on $CAIRN_HOSTNAME"' || status=1
for f in $(find "$T/sweep" -name '*.stdout' | sort -V | head -5); do
    printf '  %s: %s\n' "${f#$T/sweep/}" "$(cat "$f")"
done
echo "  ... $(find "$T/sweep" -name '*.stdout' | wc -l) outputs in all"

echo
echo "== one command with cairn run, its output streamed back, its exit status kept"
"$B/cli/cairn" --master="$MASTER" run --cpus=0.5 --mem=64 -- sh -c 'uname -sr; echo "on $CAIRN_HOSTNAME"' ||
    status=1

echo
echo "== running a service with cairn-service: 2 instances of an HTTP server, one per agent, health-checked"
API=$(free_port)
"$B/frameworks/service/cairn-service" --master="$MASTER" --api-port="$API" \
    --state-dir="$T/service" >"$T/service.log" 2>&1 &
PIDS+=($!)
wait_for bash -o pipefail -c "curl -sf http://127.0.0.1:$API/health | jq -e .registered"
cat >"$T/web.json" <<'EOF'
{ "id": "web", "cmd": "exec python3 -m http.server --bind 127.0.0.1 $PORT0",
  "instances": 2, "cpus": 0.2, "mem": 64, "ports": 1,
  "health_check": { "type": "http", "path": "/", "delay_s": 0.5, "interval_s": 1 },
  "constraints": [["hostname", "unique"]] }
EOF
"$B/cli/cairn" --master="$MASTER" service deploy "$T/web.json" --wait --wait-timeout=60s || status=1
"$B/cli/cairn" --master="$MASTER" service show web
for port in $(curl -sf "http://127.0.0.1:$API/v1/apps/web" | jq -r '.tasks[].ports[0]'); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")
    echo "  http://127.0.0.1:$port/ answers $code"
done
"$B/cli/cairn" --master="$MASTER" service delete web --wait --wait-timeout=30s || status=1

echo
echo "== stopping the cluster"
cleanup
PIDS=()
trap - EXIT
if [ $status -eq 0 ]; then
    echo "demo: all work finished; the cluster is stopped."
else
    echo "demo: some work failed (status $status)" >&2
fi
exit $status
