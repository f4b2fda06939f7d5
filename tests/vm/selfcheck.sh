#!/bin/sh
# tests/vm/selfcheck.sh - runs inside the test VM (busybox sh, as root):
# proves that the guest's cgroup v2 hierarchy really enforces what the
# agent's isolator relies on, so that a failing isolator test points at
# the isolator and not at the VM. TAP on stdout.
#
# Limits are asserted loosely (a 25% CPU quota must read 15% to 40%), as
# the facts in /work/shared/CGROUPS-V2-TESTING.md advise; TCG measures
# guest CPU time against guest wall time, so quotas read true even when
# the host is busy.
CG=/sys/fs/cgroup
n=0
failed=0

ok () {                 # ok STATUS DESCRIPTION
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        failed=$((failed + 1))
    fi
}

diag () {
    echo "# $*"
}

# field FILE KEY: the value of KEY in a flat-keyed file (memory.events).
field () {
    awk -v k="$2" '$1 == k { print $2; found = 1 } END { if (!found) print -1 }' "$1"
}

# wait_until SECONDS CMD...: polls CMD every 50 ms.
wait_until () {
    tries=$(($1 * 20))
    shift
    while [ $tries -gt 0 ]; do
        "$@" && return 0
        sleep 0.05
        tries=$((tries - 1))
    done
    return 1
}

# centiseconds since boot
now_cs () {
    awk '{ split($1, t, "."); print t[1] * 100 + t[2] }' /proc/uptime
}

nprocs () {
    wc -l <"$1/cgroup.procs"
}

# has_procs G N: group G has at least N processes.
has_procs () {
    [ "$(nprocs "$1")" -ge "$2" ]
}

refused () {
    [ "$(field "$1/pids.events" max)" -ge 1 ]
}

unpopulated () {
    grep -q '^populated 0$' "$1/cgroup.events"
}

# gone G: kills what is left in group G and removes it.
gone () {
    [ -d "$1" ] || return 0
    echo 1 >"$1/cgroup.kill" 2>/dev/null
    wait_until 5 unpopulated "$1"
    rmdir "$1"
}

controllers=$(cat $CG/cgroup.subtree_control)
for c in cpu memory pids io; do
    case " $controllers " in
        *" $c "*) ok 0 "the root cgroup enables $c for its children" ;;
        *) ok 1 "the root cgroup enables $c for its children"
           diag "cgroup.subtree_control: '$controllers'" ;;
    esac
done

# memory.max: a process touching 100 MiB in a 32 MiB group is OOM-killed.
G=$CG/selfcheck-memory
mkdir $G
echo 32M >$G/memory.max
echo 0 >$G/memory.swap.max 2>/dev/null     # absent without swap accounting
[ "$(cat $G/memory.max)" = 33554432 ]
ok $? "memory.max reads back 32 MiB"
# dd reads 100 MiB of zeros into one buffer, touching every page of it.
sh -c "echo \$\$ >$G/cgroup.procs || exit 1; exec dd if=/dev/zero of=/dev/null bs=100M count=1" 2>/dev/null &
wait $! 2>/dev/null
st=$?
[ $st -eq 137 ]
ok $? "a 100 MiB toucher is killed by SIGKILL under memory.max=32M"
[ $st -eq 137 ] || diag "its exit status: $st"
kills=$(field $G/memory.events oom_kill)
[ "$kills" -ge 1 ]
ok $? "memory.events counts the OOM kill (oom_kill $kills)"
gone $G

# cpu.max: a busy loop under a 25% quota gets about 25% of a CPU.
G=$CG/selfcheck-cpu
mkdir $G
echo "25000 100000" >$G/cpu.max
sh -c "echo \$\$ >$G/cgroup.procs || exit 1; while :; do :; done" &
loop=$!
wait_until 5 has_procs $G 1
sleep 0.3
u0=$(field $G/cpu.stat usage_usec)
t0=$(now_cs)
sleep 3
u1=$(field $G/cpu.stat usage_usec)
t1=$(now_cs)
kill -KILL $loop
wait $loop 2>/dev/null
pct=$(( (u1 - u0) / ((t1 - t0) * 100) ))
[ $pct -ge 15 ] && [ $pct -le 40 ]
ok $? "cpu.max '25000 100000' holds a busy loop to 15%..40% of a CPU (got $pct%)"
throttled=$(field $G/cpu.stat nr_throttled)
[ "$throttled" -ge 1 ]
ok $? "cpu.stat counts throttled periods ($throttled)"
gone $G

# pids.max: a group limited to 3 tasks cannot fork a 4th (busybox sh
# gives up at the first refused fork).
G=$CG/selfcheck-pids
mkdir $G
echo 3 >$G/pids.max
sh -c "echo \$\$ >$G/cgroup.procs || exit 1
       for i in 1 2 3 4 5; do sleep 1000 & done
       wait" 2>/dev/null &
sh_pid=$!
wait_until 5 refused $G
hits=$(field $G/pids.events max)
[ "$hits" -ge 1 ]
ok $? "pids.max=3 refuses a 4th task (pids.events: max $hits)"
cur=$(cat $G/pids.current)
[ "$cur" -ge 2 ] && [ "$cur" -le 3 ]
ok $? "the group kept its first tasks (pids.current $cur)"
gone $G
wait $sh_pid 2>/dev/null

# cgroup.kill: three sleepers die at once.
G=$CG/selfcheck-kill
mkdir $G
sh -c "echo \$\$ >$G/cgroup.procs || exit 1; sleep 1000 & sleep 1000 & exec sleep 1000" &
sleepers=$!
wait_until 5 has_procs $G 3
[ "$(nprocs $G)" -eq 3 ]
ok $? "three sleepers run in the group ($(nprocs $G))"
t0=$(now_cs)
echo 1 >$G/cgroup.kill
wait_until 5 unpopulated $G
ok $? "cgroup.kill empties the group (cgroup.events: populated 0, after $(( ($(now_cs) - t0) * 10 )) ms)"
wait $sleepers 2>/dev/null
st=$?
[ $st -eq 137 ]
ok $? "the sleepers died of SIGKILL (exit status $st)"
rmdir $G
ok $? "the emptied group can be removed"

echo "1..$n"
[ $failed -eq 0 ]
