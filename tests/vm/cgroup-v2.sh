#!/bin/bash
# tests/vm/cgroup-v2.sh - the tests that need a real cgroup v2 hierarchy
# with its controllers, which these hosts lack (their v2 mount has only
# hugetlb): one boot of a small VM (run-in-vm.sh) runs them all.
#
#   1. tests/vm/selfcheck.sh proves the guest enforces memory.max, cpu.max,
#      pids.max and cgroup.kill;
#   2. $CAIRN_BUILDDIR/tests/unit/isolator, when it is built, runs with
#      the agent's binaries (cairn-shim, cairn-agent) at their build-tree
#      paths and CAIRN_BUILDDIR set, so it finds the shim.
#
# Their TAP streams become one: results are renumbered in order and
# prefixed with the part's name; each part's plan and exit status become
# results of their own. The VM needs qemu-system-x86, busybox-static and
# cpio (contrib/install-deps.sh) and a Debian kernel (build-vm.sh fetches
# it once into a cache); without them the test skips, unless
# CAIRN_VM_REQUIRE=1, which makes that a failure. CAIRN_VM_SKIP=1 skips.
#
# In a sanitizer build the binaries take their ASan/UBSan runtimes along
# (ldd lists them) and ASAN_OPTIONS/UBSAN_OPTIONS are passed in: the
# isolator is the code most worth sanitizing, and TCG runs it fast enough.
set -u
# Paths without "..": files keep their paths inside the guest.
B=$(cd "${CAIRN_BUILDDIR:-.}" && pwd)
S=$(cd "${CAIRN_SRCDIR:-$B}" && pwd)
HERE=$S/tests/vm
T=$(mktemp -d "${TMPDIR:-/tmp}/cairn-test.XXXXXX")
vm_pid=
# run-in-vm.sh kills its QEMU when it gets SIGTERM.
trap '[ -n "$vm_pid" ] && kill -TERM "$vm_pid" 2>/dev/null && wait "$vm_pid"; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

n=0
failed=0

emit () {               # emit STATUS DESCRIPTION [DIRECTIVE]
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2${3:+ # $3}"
    else
        echo "not ok $n - $2${3:+ # $3}"
        case ${3:-} in [Tt][Oo][Dd][Oo]*) ;; *) failed=$((failed + 1)) ;; esac
    fi
}

diag () {
    echo "# $*"
}

bail_out () {
    echo "Bail out! $*"
    exit 1
}

skip_all () {
    if [ "${CAIRN_VM_REQUIRE:-0}" = 1 ]; then
        echo "Bail out! CAIRN_VM_REQUIRE=1 but $*"
        exit 1
    fi
    echo "1..0 # SKIP $*"
    exit 0
}

[ "${CAIRN_VM_SKIP:-0}" = 1 ] && skip_all "CAIRN_VM_SKIP=1"
command -v qemu-system-x86_64 >/dev/null ||
    skip_all "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
{ [ -x /bin/busybox ] || command -v busybox >/dev/null; } || skip_all "busybox is not installed (apt-get install busybox-static)"
command -v cpio >/dev/null || skip_all "cpio is not installed (apt-get install cpio)"
start=$SECONDS
kernel=$(bash "$HERE/build-vm.sh" 2>"$T/build-vm.err")
if [ $? -ne 0 ] || [ -z "$kernel" ]; then
    sed 's/^/# /' "$T/build-vm.err"
    skip_all "no Debian kernel for the VM: $(tail -1 "$T/build-vm.err")"
fi
sed 's/^/# /' "$T/build-vm.err"
diag "kernel: $kernel (ready in $((SECONDS - start)) s)"

# The parts, in the order they run in the guest.
files=("$HERE/selfcheck.sh" "$T/guest.sh")
{
    echo "# Runs each part, framed by lines the host reads (cgroup-v2.sh)."
    echo "echo \"# cairn-vm: guest up after \$(cut -d' ' -f1 /proc/uptime) s\""
    echo "part () {"
    echo "    t0=\$(cut -d' ' -f1 /proc/uptime)"
    echo "    echo \"# cairn-vm part: \$1\""
    echo "    shift"
    echo "    \"\$@\" 2>&1"
    echo "    st=\$?"
    echo "    echo \"# cairn-vm part-exit: \$st \$t0 \$(cut -d' ' -f1 /proc/uptime)\""
    echo "}"
    echo "part selfcheck sh '$HERE/selfcheck.sh'"
} >"$T/guest.sh"
isolator=$B/tests/unit/isolator
if [ -f "$isolator" ]; then
    files+=("$isolator")
    for f in "$B/agent/cairn-shim" "$B/agent/cairn-agent"; do
        [ -f "$f" ] && files+=("$f")
    done
    echo "part isolator '$isolator'" >>"$T/guest.sh"
else
    diag "no $isolator: only the VM's self-check runs"
fi
# Each part's status is a result of its own; the VM's is the harness's.
echo "exit 0" >>"$T/guest.sh"
for f in "${files[@]}"; do
    if LC_ALL=C ldd "$f" 2>/dev/null | grep -q 'libasan\|libubsan'; then
        diag "sanitizer build: the ASan/UBSan runtimes go into the VM with the binaries"
        break
    fi
done

# One part's end: its exit status and plan become results.
part=
s_end_part () {         # s_end_part STATUS T0 T1
    local took
    took=$(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", b - a }' 2>/dev/null)
    if [ "$plan" = 0 ] && [ "$1" -eq 0 ]; then
        # "1..0 # SKIP why": the part skipped as a whole.
        emit 0 "$part: skipped" "SKIP ${skip_reason:-no reason given}"
    else
        emit $(( $1 != 0 )) "$part: exits with status 0 (status $1, $took s)"
        if [ -z "$plan" ]; then
            emit 1 "$part: printed a plan (ran $count tests)"
        else
            [ "$plan" -eq "$count" ]
            emit $? "$part: ran the $plan tests it planned (ran $count)"
        fi
    fi
    if [ -n "$reports" ]; then
        emit 1 "$part: no sanitizer report"
    fi
    part=
}

mkfifo "$T/vm.out" || bail_out "cannot create a fifo in $T"
vm_start=$SECONDS
bash "$HERE/run-in-vm.sh" --kernel "$kernel" --timeout "${CAIRN_VM_TIMEOUT:-180}" \
    --env CAIRN_BUILDDIR="$B" --env CAIRN_SRCDIR="$S" \
    --env ASAN_OPTIONS="$ASAN_OPTIONS:color=never" \
    --env UBSAN_OPTIONS="$UBSAN_OPTIONS:color=never" \
    "${files[@]}" -- sh "$T/guest.sh" >"$T/vm.out" 2>&1 &
vm_pid=$!
while IFS= read -r line; do
    case $line in
        "# cairn-vm part: "*)
            part=${line#\# cairn-vm part: }
            plan=
            count=0
            skip_reason=
            reports=
            continue ;;
        "# cairn-vm part-exit: "*)
            [ -n "$part" ] && s_end_part ${line#\# cairn-vm part-exit: }
            continue ;;
    esac
    if [ -z "$part" ]; then
        case $line in
            \#*) echo "$line" ;;
            *) diag "$line" ;;
        esac
        continue
    fi
    case $line in
        *"ERROR: AddressSanitizer"*|*"ERROR: LeakSanitizer"*|*"runtime error:"*)
            reports=1 ;;
    esac
    if [[ $line =~ ^(not\ ok|ok)([[:space:]]+[0-9]+)?([[:space:]]*-)?[[:space:]]*([^#]*)(#[[:space:]]*(.*))?$ ]]; then
        count=$((count + 1))
        desc=${BASH_REMATCH[4]}
        desc=${desc%"${desc##*[![:space:]]}"}
        [ "${BASH_REMATCH[1]}" = ok ]
        emit $? "$part: ${desc:-test $count}" "${BASH_REMATCH[6]}"
    elif [[ $line =~ ^1\.\.([0-9]+)[[:space:]]*(#[[:space:]]*[Ss][Kk][Ii][Pp][^[:space:]]*[[:space:]]*(.*))?$ ]]; then
        plan=${BASH_REMATCH[1]}
        skip_reason=${BASH_REMATCH[3]}
    elif [[ $line =~ ^Bail\ out!(.*)$ ]]; then
        emit 1 "$part: bailed out:${BASH_REMATCH[1]}"
    elif [[ $line =~ ^TAP\ version ]]; then
        :
    elif [[ $line == \#* ]]; then
        echo "$line"
    else
        diag "$line"
    fi
done <"$T/vm.out"
wait "$vm_pid"
vm_status=$?
vm_pid=

if [ -n "$part" ]; then
    emit 1 "$part: finished (the VM stopped in the middle of it)"
fi
[ "$vm_status" -eq 0 ]
emit $? "the VM booted, ran every part and powered off (status $vm_status, $((SECONDS - vm_start)) s)"
echo "1..$n"
[ $failed -eq 0 ]
