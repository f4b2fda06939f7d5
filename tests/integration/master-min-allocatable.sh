#!/bin/bash
# --min-allocatable: an agent whose free resources are below the minimum
# in both cpus and mem is offered to nobody; one with enough of either
# (a memory-only remainder) is offered; freeing resources makes an agent
# offerable again.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
[ -x "$SCHED_BIN" ] || skip_all "$SCHED_BIN is not built (make check builds it)"

offers_on () {          # offers_on NAME AGENT_ID: how many offers NAME got for the agent
    awk -v a="$2" '$1 == "offer" && $3 == a { n++ } END { print n + 0 }' "$T/$1.log"
}

start_master --allocation-interval=100ms --agent-ping-timeout=500ms --max-agent-ping-misses=10 \
    --min-allocatable="cpus:0.5;mem:256"
ok_or_bail $? "master starts with --min-allocatable=cpus:0.5;mem:256"
start_agent agent1 --resources="cpus:2;mem:512"
ok_or_bail $? "agent1 registers"
a1=$(master_state | jq -r '.agents[0].id')

# s takes 1.6 cpus and 300 MiB and gives the rest back: 0.4 cpus and
# 212 MiB, below the minimum in both.
start_sched s --name=s --max-tasks=1 --task-resources="cpus:1.6;mem:300" --refuse=0.2
wait_line 20 s '^status s-1 TASK_RUNNING '
ok $? "s runs a task of cpus:1.6;mem:300 on agent1"
start_sched w --name=w --decline-all --refuse=0.2
wait_line 20 w '^registered '
ok $? "a second framework, w, registers"
sleep 1.5               # fifteen allocation intervals, several refuse times
is "$(offers_on s "$a1")" "1" "s is not offered the small remainder of agent1"
is "$(offers_on w "$a1")" "0" "nor is w"
state=$(master_state)
is "$(jq '[.offers[]] | length' <<<"$state")" "0" "no offer is outstanding"
is "$(jq '.agents[0].free.cpus' <<<"$state")" "0.4" "/state shows agent1 with 0.4 cpus free"

# A memory-only remainder is still worth offering.
start_agent agent2 --resources="cpus:1;mem:1024"
ok_or_bail $? "agent2 registers"
a2=$(master_state | jq -r '.agents[] | select(.hostname == "agent2") | .id')
start_sched m --name=m --max-tasks=1 --task-resources="cpus:1;mem:64" --refuse=0.2
wait_line 20 m '^status m-1 TASK_RUNNING '
ok $? "m takes all of agent2's cpus"
mem_only () { cat "$T/w.log" "$T/m.log" | grep -qE "^offer [^ ]+ $a2 agent2 (cpus:0;)?mem:960;"; }
wait_for 10 mem_only
ok $? "agent2's memory-only remainder (mem:960, no cpus) is offered"

# Freed resources make agent1 offerable again.
sched_cmd s kill s-1
wait_line 10 s '^status s-1 TASK_KILLED '
ok $? "s's task on agent1 is killed"
seen_a1 () { [ $(( $(offers_on s "$a1") + $(offers_on w "$a1") + $(offers_on m "$a1") )) -ge 2 ]; }
wait_for 10 seen_a1
ok $? "with its resources freed agent1 is offered again"

done_testing
