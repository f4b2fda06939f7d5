#!/bin/sh
# replay.sh - replays the fuzz corpus (tests/fuzz/corpus/<harness>/)
# through every harness, built as an ordinary program with replay.c, so
# each seed and regression input runs under the build's own sanitizers.
# TAP: one test per harness.
builddir=${CAIRN_BUILDDIR:-.}
srcdir=${CAIRN_SRCDIR:-.}
harnesses="codec resources app job master agent"

# An allocation over 256 MiB is a bug here (the inputs are small), as is
# any sanitizer report.
ASAN_OPTIONS="max_allocation_size_mb=256:${ASAN_OPTIONS:-}"
UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export ASAN_OPTIONS UBSAN_OPTIONS

set -- $harnesses
echo "1..$#"
n=0
failed=0
for h in $harnesses; do
    n=$((n + 1))
    dir="$srcdir/tests/fuzz/corpus/$h"
    prog="$builddir/tests/fuzz/replay-$h"
    count=$(ls "$dir" 2>/dev/null | wc -l)
    if [ "$count" -eq 0 ]; then
        echo "not ok $n - $h: no corpus in $dir"
        failed=1
        continue
    fi
    if [ "$h" = agent ] && [ ! -x /bin/true ]; then
        echo "ok $n - # SKIP $h: needs /bin/true as a stand-in shim"
        continue
    fi
    log=$(mktemp "${TMPDIR:-/tmp}/cairn-replay.XXXXXX")
    if out=$("$prog" "$dir" 2>"$log"); then
        echo "ok $n - $h: $out"
    else
        echo "not ok $n - $h: the replay failed (exit $?)"
        sed 's/^/# /' "$log" | head -60
        failed=1
    fi
    rm -f "$log"
done
exit $failed
