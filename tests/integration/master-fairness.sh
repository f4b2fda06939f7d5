#!/bin/bash
# Dominant Resource Fairness: two frameworks with unbounded demand share
# three agents (cpus:4 each) and end with equal dominant shares, within
# one task. Each launches one task per offer and gives the rest back at
# once, so every freed cpu goes through the allocator again; both are
# registered before the first agent joins, so neither starts ahead.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
[ -x "$SCHED_BIN" ] || skip_all "$SCHED_BIN is not built (make check builds it)"

start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=10
ok_or_bail $? "master starts"
TASK="cpus:1;mem:128"
start_sched fa --name=fa --task-resources="$TASK" --per-offer=1 --refuse=1
start_sched fb --name=fb --task-resources="$TASK" --per-offer=1 --refuse=1
wait_line 20 fa '^registered ' && wait_line 20 fb '^registered '
ok $? "both frameworks register"
fa=$(sched_fwid fa)
fb=$(sched_fwid fb)

for i in 1 2 3; do
    # mem fits exactly four tasks: nothing is left over to offer.
    start_agent "agent$i" --resources="cpus:4;mem:512"
    ok_or_bail $? "agent$i registers"
done

all_placed () {
    [ "$(master_state | jq '[.tasks[] | select(.state == "TASK_RUNNING")] | length')" -eq 12 ]
}
wait_for 60 all_placed
ok $? "12 tasks run on the 12 cpus"
sleep 1                 # ten allocation intervals: nothing should move
state=$(master_state)
na=$(jq --arg f "$fa" '[.tasks[] | select(.framework_id == $f and .state == "TASK_RUNNING")] | length' <<<"$state")
nb=$(jq --arg f "$fb" '[.tasks[] | select(.framework_id == $f and .state == "TASK_RUNNING")] | length' <<<"$state")
sa=$(jq --arg f "$fa" '.frameworks[] | select(.id == $f) | .dominant_share' <<<"$state")
sb=$(jq --arg f "$fb" '.frameworks[] | select(.id == $f) | .dominant_share' <<<"$state")
diag "fa runs $na tasks (dominant share $sa), fb runs $nb ($sb)"
is "$((na + nb))" "12" "the two frameworks run all 12 tasks"
[ "$na" -ge 5 ] && [ "$na" -le 7 ] && [ "$nb" -ge 5 ] && [ "$nb" -le 7 ]
ok $? "each runs 6 tasks, within one"
awk -v a="$sa" -v b="$sb" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1/12 + 0.001) }'
ok $? "their dominant shares differ by at most one task's share (1/12)"
awk -v s="$sa" -v n="$na" 'BEGIN { d = s - n / 12; if (d < 0) d = -d; exit !(d < 0.01) }'
ok $? "fa's dominant share in /state is its cpu share ($na/12)"
is "$(jq '[.offers[]] | length' <<<"$state")" "0" "no offer is outstanding: nothing is free"
is "$(jq '[.agents[] | .used.cpus] | add' <<<"$state")" "12" "every agent's cpus are in use"
is "$(cat "$T/fa.log" "$T/fb.log" | grep -cE '^status .* TASK_(FAILED|ERROR|DROPPED|LOST)')" "0" \
   "no task failed or was refused"

done_testing
