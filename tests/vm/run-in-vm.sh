#!/bin/bash
# tests/vm/run-in-vm.sh - runs a command in a small VM with a real cgroup v2
# hierarchy (all controllers), for the tests the host cannot run.
#
# Usage: run-in-vm.sh [OPTIONS] FILE... -- COMMAND [ARG...]
#   --timeout SECONDS   give up after this long (default $CAIRN_VM_TIMEOUT
#                       or 180); QEMU is killed by its PID
#   --env NAME=VALUE    set NAME in COMMAND's environment (repeatable)
#   --kernel VMLINUX    the ELF kernel (default $CAIRN_VM_KERNEL, else
#                       what build-vm.sh prepares)
#
# Each FILE is packed into a busybox initramfs at its own absolute path
# (so a build tree keeps its layout inside the guest), with the shared
# libraries and dynamic loader `ldd` lists for it; a libtool wrapper script
# is replaced by the program it wraps. The guest's /init (tests/vm/init)
# mounts proc, sysfs, devtmpfs, tmpfs on /tmp and cgroup2 on
# /sys/fs/cgroup, enables +cpu +memory +pids +io in the root cgroup, runs
# COMMAND as root in /tmp with busybox's applets on PATH, and powers off.
# QEMU emulates the machine (TCG: /dev/kvm on these hosts is nested PVM and
# cannot boot a stock kernel) and boots the ELF kernel directly (PVH).
#
# COMMAND's output (stdout and stderr) is streamed to stdout, line by line;
# the console's other output (the kernel's, QEMU's) goes to stderr only if
# something fails. Exit status: COMMAND's, or 124 if it did not finish in
# time, or 125 if the VM could not be started or stopped without saying
# how COMMAND ended.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
timeout=${CAIRN_VM_TIMEOUT:-180}
kernel=${CAIRN_VM_KERNEL:-}
envs=()

say () { echo "run-in-vm: $*" >&2; }
die () { say "$*"; exit 125; }

# s_quote WORD: WORD as one single-quoted shell word.
s_quote () {
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

while [ $# -gt 0 ]; do
    case $1 in
        --timeout) timeout=${2:?--timeout needs SECONDS}; shift 2 ;;
        --timeout=*) timeout=${1#*=}; shift ;;
        --env) envs+=("${2:?--env needs NAME=VALUE}"); shift 2 ;;
        --env=*) envs+=("${1#*=}"); shift ;;
        --kernel) kernel=${2:?--kernel needs a path}; shift 2 ;;
        --kernel=*) kernel=${1#*=}; shift ;;
        --) break ;;
        -*) die "unknown option $1" ;;
        *) break ;;
    esac
done
files=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    files+=("$1")
    shift
done
[ "${1:-}" = "--" ] && [ $# -ge 2 ] || die "usage: run-in-vm.sh [OPTIONS] FILE... -- COMMAND [ARG...]"
shift
[[ $timeout =~ ^[0-9]+$ ]] && [ "$timeout" -gt 0 ] || die "bad --timeout '$timeout'"

qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
busybox=
for b in /bin/busybox /usr/bin/busybox "$(command -v busybox 2>/dev/null)"; do
    [ -n "$b" ] && [ -x "$b" ] && { busybox=$b; break; }
done
[ -n "$busybox" ] || die "busybox is not installed (apt-get install busybox-static)"
command -v cpio >/dev/null || die "cpio is not installed (apt-get install cpio)"
if [ -z "$kernel" ]; then
    kernel=$(bash "$HERE/build-vm.sh") || die "no kernel for the VM (see build-vm.sh's message above)"
fi
[ -f "$kernel" ] || die "no kernel at $kernel"

W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-vm.XXXXXX") || die "cannot create a temporary directory"
qpid=
s_cleanup () {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
        kill -KILL "$qpid" 2>/dev/null
        wait "$qpid" 2>/dev/null
    fi
    rm -rf "$W"
}
trap s_cleanup EXIT
trap 'exit 130' INT TERM

R=$W/root
mkdir -p "$R/bin" "$R/cairn-vm" "$R/lib64"

# s_add SRC DEST: copies SRC (following links) to DEST inside the guest.
s_add () {
    mkdir -p "$R$(dirname "$2")" && cp -L "$1" "$R$2" ||
        die "cannot copy $1 into the initramfs"
}

# s_add_libs FILE: the libraries ldd lists for FILE, if it is dynamic.
s_add_libs () {
    local out lib
    head -c 4 "$1" | grep -q 'ELF' || return 0
    out=$(LC_ALL=C ldd "$1" 2>&1) || return 0     # static: nothing to add
    if grep -q 'not found' <<<"$out"; then
        die "ldd $1: $(grep 'not found' <<<"$out" | tr -s ' \t\n' ' ')"
    fi
    for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 }
                      $1 ~ /^\// { print $1 }' <<<"$out"); do
        [ -e "$R$lib" ] || s_add "$lib" "$lib"
    done
}

s_add "$busybox" /bin/busybox
s_add_libs "$busybox"
s_add "$HERE/init" /init
chmod 755 "$R/init"

for f in "${files[@]}"; do
    [ -f "$f" ] || die "no file $f"
    abs=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")
    src=$f
    # A program linked against an uninstalled shared library is a libtool
    # wrapper script; its RUNPATH leads ldd to the library.
    if head -c 4096 "$f" | grep -q 'libtool wrapper'; then
        for real in "$(dirname "$f")/.libs/$(basename "$f")" "$(dirname "$f")/.libs/lt-$(basename "$f")"; do
            [ -f "$real" ] && { src=$real; break; }
        done
    fi
    s_add "$src" "$abs"
    s_add_libs "$src"
done

{
    echo "# written by run-in-vm.sh"
    for e in "${envs[@]}"; do
        [[ ${e%%=*} =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] && [[ $e == *=* ]] || die "bad --env '$e'"
        echo "export ${e%%=*}=$(s_quote "${e#*=}")"
    done
    printf 'exec'
    for a in "$@"; do
        printf ' %s' "$(s_quote "$a")"
    done
    echo
} >"$R/cairn-vm/cmd"

(cd "$R" && find . | cpio -o -H newc -R 0:0 --quiet) >"$W/initrd.cpio" ||
    die "cannot build the initramfs"

mkfifo "$W/console" || die "cannot create a fifo in $W"
"$qemu" -accel tcg,thread=multi -cpu max -smp 2 -m 512 -nographic -no-reboot \
    -nic none -kernel "$kernel" -initrd "$W/initrd.cpio" \
    -append 'console=ttyS0 rdinit=/init quiet panic=-1' \
    </dev/null >"$W/console" 2>"$W/qemu.err" &
qpid=$!
exec 3<"$W/console"

# Pass through what COMMAND prints; keep the rest for a failure report.
deadline=$((SECONDS + timeout))
state=boot
status=
timed_out=0
while :; do
    left=$((deadline - SECONDS))
    [ $left -gt 0 ] || { timed_out=1; break; }
    IFS= read -r -t "$left" line <&3
    rc=$?
    [ $rc -gt 128 ] && { timed_out=1; break; }
    [ $rc -ne 0 ] && [ -z "$line" ] && break    # end of the console
    line=${line%$'\r'}
    case $state:$line in
        boot:*CAIRN-VM-START*) state=run ;;
        run:*CAIRN-VM-EXIT\ *)
            status=${line##*CAIRN-VM-EXIT }
            status=${status%%[!0-9]*}
            state=ended
            break ;;
        run:*) printf '%s\n' "$line" ;;
        *) printf '%s\n' "$line" >>"$W/boot.log" ;;
    esac
    [ $rc -ne 0 ] && break
done

# The guest powers off by itself; give it a moment, then stop it.
if [ $timed_out -eq 0 ]; then
    for _ in $(seq 1 100); do
        kill -0 "$qpid" 2>/dev/null || break
        sleep 0.1
    done
fi
if kill -0 "$qpid" 2>/dev/null; then
    [ $timed_out -eq 1 ] && say "killing QEMU (PID $qpid) after $timeout s"
    kill -KILL "$qpid" 2>/dev/null
fi
wait "$qpid" 2>/dev/null
qrc=$?
qpid=
exec 3<&-

if [ "$state" = ended ] && [ -n "$status" ]; then
    exit "$status"
fi
case $state in
    boot) say "the guest never started the command (QEMU exit status $qrc)" ;;
    *) say "the command did not finish (QEMU exit status $qrc)" ;;
esac
if [ -s "$W/boot.log" ]; then
    say "console, last lines:"
    tail -25 "$W/boot.log" | sed 's/^/run-in-vm:   /' >&2
fi
if [ -s "$W/qemu.err" ]; then
    say "QEMU said:"
    tail -10 "$W/qemu.err" | sed 's/^/run-in-vm:   /' >&2
fi
[ $timed_out -eq 1 ] && exit 124
exit 125
