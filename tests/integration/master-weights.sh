#!/bin/bash
# Role weights: with --weights=a=2,b=1, a framework in role a gets twice
# the dominant share of one in role b. Three agents of cpus:4 and tasks
# of one cpu: 8 tasks for a, 4 for b (within one). As in
# master-fairness.sh, one task per offer and the rest given back at once.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
[ -x "$SCHED_BIN" ] || skip_all "$SCHED_BIN is not built (make check builds it)"

start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=10 \
    --weights=a=2,b=1
ok_or_bail $? "master starts with --weights=a=2,b=1"
TASK="cpus:1;mem:128"
start_sched fa --name=fa --role=a --task-resources="$TASK" --per-offer=1 --refuse=1
start_sched fb --name=fb --role=b --task-resources="$TASK" --per-offer=1 --refuse=1
wait_line 20 fa '^registered ' && wait_line 20 fb '^registered '
ok $? "both frameworks register"
fa=$(sched_fwid fa)
fb=$(sched_fwid fb)
is "$(master_state | jq -r --arg f "$fa" '.frameworks[] | select(.id == $f) | .role')" "a" \
   "/state shows fa in role a"

for i in 1 2 3; do
    start_agent "agent$i" --resources="cpus:4;mem:512"
    ok_or_bail $? "agent$i registers"
done

all_placed () {
    [ "$(master_state | jq '[.tasks[] | select(.state == "TASK_RUNNING")] | length')" -eq 12 ]
}
wait_for 60 all_placed
ok $? "12 tasks run on the 12 cpus"
sleep 1
state=$(master_state)
na=$(jq --arg f "$fa" '[.tasks[] | select(.framework_id == $f and .state == "TASK_RUNNING")] | length' <<<"$state")
nb=$(jq --arg f "$fb" '[.tasks[] | select(.framework_id == $f and .state == "TASK_RUNNING")] | length' <<<"$state")
sa=$(jq --arg f "$fa" '.frameworks[] | select(.id == $f) | .dominant_share' <<<"$state")
sb=$(jq --arg f "$fb" '.frameworks[] | select(.id == $f) | .dominant_share' <<<"$state")
diag "role a runs $na tasks (weighted share $sa), role b runs $nb ($sb)"
is "$((na + nb))" "12" "the two frameworks run all 12 tasks"
[ "$na" -ge 7 ] && [ "$na" -le 9 ]
ok $? "role a (weight 2) runs 8 tasks, within one"
[ "$nb" -ge 3 ] && [ "$nb" -le 5 ]
ok $? "role b (weight 1) runs 4 tasks, within one"
awk -v a="$sa" -v b="$sb" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1/12 + 0.001) }'
ok $? "their weighted dominant shares differ by at most one task's share"
is "$(cat "$T/fa.log" "$T/fb.log" | grep -cE '^status .* TASK_(FAILED|ERROR|DROPPED|LOST)')" "0" \
   "no task failed or was refused"

"$MASTER_BIN" --weights=a=0 --ip=127.0.0.1 --port="$(free_port)" --http-port=0 \
    --work-dir="$T/bad" >/dev/null 2>&1
is "$?" "2" "cairn-master exits 2 on a zero weight"

done_testing
