#!/bin/bash
# batch.sh - benchmark: cairn-batch run of N (default 5,000) /bin/true
# tasks on a local cluster (one master, two agents, the machine's
# isolation: cgroups as root, so every task gets its own shim, cgroups
# and sandbox), beside three baselines measured in the same run:
#   (a) xargs -P2 running the same N commands, with no cluster manager;
#   (b) tests/bench/launch-loop two-wide: the agent's per-task work
#       (sandbox, cgroups, a shim from the launcher) with two tasks in
#       flight, without agent, master or messaging: the per-task floor;
#   (c) Slurm (Debian's slurmctld, slurmd and munge) on one node set up
#       for its best throughput (tests/bench/slurm/slurm.conf.in: many
#       virtual CPUs, no accounting, no cgroups), running an N-element
#       job array of `true` with its output to /dev/null. Skipped, with
#       the reason on stderr, when Slurm or munge is not installed or
#       not running as root.
# Beside it, the same cluster with CURVE on every link, run in the same
# rounds, is reported against the plain one.
# Every daemon runs in a temporary directory on free ports of 127.0.0.1
# and is stopped by the PID this script started. Prints JSON lines (see
# run.sh) on stdout; progress on stderr.
#
# The cluster, (a) and (b) run CAIRN_BENCH_BATCH_ROUNDS (3) interleaved
# rounds and each keeps its best; Slurm, much slower, runs once.
#
# Environment: CAIRN_BENCH_BATCH_TASKS (N), CAIRN_BENCH_BATCH_ROUNDS
# (BENCH_QUICK=1: 500 tasks, one round),
# CAIRN_BENCH_SLURM=0 to skip Slurm, CAIRN_BENCH_SLURM_CPUS (the virtual
# CPUs of its node, 512).
set -uo pipefail
if [ -n "${BENCH_QUICK:-}" ]; then      # run.sh's quick pass
    N=${CAIRN_BENCH_BATCH_TASKS:-500} ROUNDS=${CAIRN_BENCH_BATCH_ROUNDS:-1}
else
    N=${CAIRN_BENCH_BATCH_TASKS:-5000} ROUNDS=${CAIRN_BENCH_BATCH_ROUNDS:-3}
fi
SLURM_CPUS=${CAIRN_BENCH_SLURM_CPUS:-512}
. "${CAIRN_SRCDIR:-.}/tests/lib.sh" >/dev/null
BATCH=$B/frameworks/batch/cairn-batch

now () { date +%s.%N; }
rate () { echo "$1 / ($3 - $2)" | bc -l; }
say () { echo "batch.sh: $*" >&2; }
fail () { say "$*"; stop_all >/dev/null; rm -rf "$T"; exit 1; }

best () { echo "if ($1 > $2) $1 else $2" | bc -l; }

# The cluster: tasks of 0.05 cpu and 4 MiB, so that each agent runs up to
# 40 at a time and the framework, not the slots, sets the pace (more in
# flight, 200 per agent at 0.01 cpu, measured no faster on 2 CPUs).
start_master --allocation-interval=100ms >/dev/null || fail "the master did not start"
for a in bench1 bench2; do
    start_agent "$a" --resources="cpus:2;mem:4096;disk:1000" --usage-interval=0s \
        --disk-check-interval=0s >/dev/null || fail "agent $a did not register"
done
agent_isolation=$(grep -o '[a-z0-9-]* isolation' "$T/bench1.log" | head -1 | cut -d' ' -f1)
PLAIN_MASTER=$MASTER

# The same cluster with CURVE on every link (the master's secret key and
# allow directory; agents and cairn-batch as CURVE clients), idle while
# the plain one works and the other way round.
"$CAIRN_BIN" keygen --name=master --out="$T/keys" >/dev/null || fail "cairn keygen failed"
for k in agents batch; do
    "$CAIRN_BIN" keygen --name=$k --out="$T/keys" --principal=$k >/dev/null || fail "cairn keygen failed"
done
mkdir -p "$T/keys/allow"
cp "$T/keys/agents.key" "$T/keys/batch.key" "$T/keys/allow/"
start_master --allocation-interval=100ms --work-dir="$T/master-curve" \
    --curve-secret="$T/keys/master.key_secret" --curve-allow-dir="$T/keys/allow" >/dev/null \
    || fail "the CURVE master did not start"
for a in curve1 curve2; do
    start_agent "$a" --resources="cpus:2;mem:4096;disk:1000" --usage-interval=0s \
        --disk-check-interval=0s --master-public-key="$T/keys/master.key" \
        --curve-cert="$T/keys/agents.key_secret" >/dev/null || fail "agent $a did not register"
done
CURVE_MASTER=$MASTER

# timed_batch MASTER ID: runs the N tasks through cairn-batch run on
# MASTER; prints tasks per second, or fails saying why (on stderr).
timed_batch () {
    local t0 t1 rc
    t0=$(now)
    "$BATCH" run --master="$1" --quiet --count="$N" --cpus=0.05 --mem=4 --id="$2" \
        -- /bin/true >"$T/batch.out" 2>"$T/batch.err"
    rc=$?
    t1=$(now)
    if ! grep -q "$N tasks: $N succeeded" "$T/batch.out" || [ $rc -ne 0 ]; then
        say "cairn-batch run on $1 failed (exit $rc): $(cat "$T/batch.out" "$T/batch.err")"
        return 1
    fi
    rate "$N" "$t0" "$t1"
}

# Rounds of (a), (b) and cairn-batch, interleaved so that a burst of
# load from elsewhere hits all three alike; each keeps its best round.
xargs_rate=0 loop_rate=0 cairn_rate=0 curve_rate=0
for round in $(seq 1 "$ROUNDS"); do
    # (a) xargs -P2: the same command, N times, two at a time.
    t0=$(now)
    seq 1 "$N" | xargs -P2 -n1 /bin/true
    t1=$(now)
    r=$(rate "$N" "$t0" "$t1")
    xargs_rate=$(best "$r" "$xargs_rate")
    say "round $round: (a) xargs -P2: $(printf '%.1f' "$r") tasks/s"

    # (b) The agent's per-task work, two tasks in flight.
    read -r r isolation < <("$B/tests/bench/launch-loop" "$B/agent/cairn-shim" "$T/loop" "$N" 2)
    rm -rf "$T/loop"
    [ -n "${r:-}" ] || fail "launch-loop failed"
    loop_rate=$(best "$r" "$loop_rate")
    say "round $round: (b) launch-loop two-wide: $r tasks/s ($isolation)"

    # cairn-batch run, from its start to its exit (registration included),
    # on the plain cluster and on the CURVE one.
    r=$(timed_batch "$PLAIN_MASTER" "bench$round") || fail "the plain cluster failed"
    cairn_rate=$(best "$r" "$cairn_rate")
    say "round $round: cairn-batch: $(printf '%.1f' "$r") tasks/s (${agent_isolation:-?})"
    r=$(CAIRN_MASTER_PUBLIC_KEY=$T/keys/master.key CAIRN_CURVE_CERT=$T/keys/batch.key_secret \
        timed_batch "$CURVE_MASTER" "curve$round") || fail "the CURVE cluster failed"
    curve_rate=$(best "$r" "$curve_rate")
    say "round $round: cairn-batch with CURVE: $(printf '%.1f' "$r") tasks/s"
done
stop_all >/dev/null
_stopped=0                      # stop_all again at the end, for Slurm's PIDs
PIDS=()

# (c) Slurm on one node.
slurm_rate=""
slurm_skip=""
if [ "${CAIRN_BENCH_SLURM:-1}" = 0 ]; then
    slurm_skip="CAIRN_BENCH_SLURM=0"
elif [ "$(id -u)" != 0 ]; then
    slurm_skip="Slurm's daemons need root here"
else
    export PATH=$PATH:/usr/sbin
    for prog in slurmctld slurmd munged sbatch squeue sinfo; do
        command -v $prog >/dev/null || {
            slurm_skip="$prog is not installed (apt-get install slurmctld slurmd munge slurm-client)"
            break
        }
    done
fi
if [ -z "$slurm_skip" ]; then
    D=$T/slurm
    mkdir -p "$D/state" "$D/spool"
    chmod 755 "$T"              # munged wants its socket's directories searchable
    head -c 1024 /dev/urandom >"$D/munge.key"
    chmod 400 "$D/munge.key"
    node=$(hostname -s)
    sed -e "s|@NODE@|$node|g" -e "s|@CTLD_PORT@|$(free_port)|" \
        -e "s|@SLURMD_PORT@|$(free_port)|" -e "s|@DIR@|$D|g" -e "s|@CPUS@|$SLURM_CPUS|" \
        -e "s|@MEM@|$((SLURM_CPUS * 1000))|" "$S/tests/bench/slurm/slurm.conf.in" >"$D/slurm.conf"
    export SLURM_CONF=$D/slurm.conf
    run_bg munged munged --foreground --force --socket="$D/munge.sock" \
        --key-file="$D/munge.key" --pid-file="$D/munged.pid" --log-file="$D/munged.log" \
        --seed-file="$D/munged.seed" --num-threads=4
    wait_for 10 test -S "$D/munge.sock" || slurm_skip="munged did not start: $(tail -3 "$T/munged.log")"
fi
if [ -z "$slurm_skip" ]; then
    run_bg slurmctld slurmctld -D -i -f "$D/slurm.conf"
    run_bg slurmd slurmd -D -f "$D/slurm.conf"
    wait_for 60 sh -c 'sinfo -h -o %t | grep -qx idle' \
        || slurm_skip="the Slurm node did not come up: $(tail -3 "$T/slurmctld.log" "$T/slurmd.log")"
fi
if [ -z "$slurm_skip" ]; then
    t0=$(now)
    jid=$(sbatch --parsable --array=0-$((N - 1)) --output=/dev/null --error=/dev/null \
        --job-name=cairnbench --wrap=true 2>"$T/sbatch.err")
    if [ -z "$jid" ]; then
        slurm_skip="sbatch failed: $(cat "$T/sbatch.err")"
    else
        # Done when none of the array's tasks is pending, running or
        # completing (polled every 0.25 s: at most that much is added).
        while [ -n "$(squeue -h -j "$jid" -t PD,R,CG,CF -o %i 2>/dev/null | head -1)" ]; do
            sleep 0.25
        done
        t1=$(now)
        slurm_rate=$(rate "$N" "$t0" "$t1")
        say "(c) Slurm: $(printf '%.1f' "$slurm_rate") tasks/s"
    fi
fi
stop_all >/dev/null
[ -n "$slurm_skip" ] && say "skipping the Slurm comparison: $slurm_skip"

metric="cairn-batch run: tasks/s ($N x /bin/true, 1 master + 2 agents, ${agent_isolation:-$isolation})"
emit () {               # emit BASELINE BASELINE-RATE
    printf '{"bench":"batch","metric":"%s","value":%.1f,"unit":"tasks/s","baseline":"%s","baseline_value":%.1f,"ratio":%.3f}\n' \
        "$metric" "$cairn_rate" "$1" "$2" "$(echo "$cairn_rate / $2" | bc -l)"
}
emit "(a) xargs -P2 /bin/true" "$xargs_rate"
emit "(b) shim + cgroup + sandbox loop, two-wide" "$loop_rate"
[ -n "$slurm_rate" ] && emit "(c) Slurm, one node, $N-task array" "$slurm_rate"
metric="cairn-batch run with CURVE on every link: tasks/s ($N x /bin/true, 1 master + 2 agents)"
printf '{"bench":"batch","metric":"%s","value":%.1f,"unit":"tasks/s","baseline":"%s","baseline_value":%.1f,"ratio":%.3f}\n' \
    "$metric" "$curve_rate" "the same without CURVE, this run" "$cairn_rate" \
    "$(echo "$curve_rate / $cairn_rate" | bc -l)"
rm -rf "$T"
_stopped=1
exit 0
