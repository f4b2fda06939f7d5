#!/bin/bash
# The framework library's edge cases against a real cluster (see
# tests/tools/library-edge.c): tasks the driver cannot send, stopping and
# joining from a callback, acknowledgement before a stop, and dispatch
# from a callback.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"

start_master --allocation-interval=100ms
ok $? "master starts"
start_agent agent1 --resources="cpus:2;mem:1024;ports:[31000-31001]"
ok $? "agent1 registers (2 ports)"
timeout 120 "$B/tests/tools/library-edge" "$MASTER" >"$T/edge.out" 2>&1
rc=$?
# The program's own TAP lines, renumbered into this test's.
while read -r line; do
    case "$line" in
        "ok "*) ok 0 "${line#ok * - }" ;;
        "not ok "*) ok 1 "${line#not ok * - }" ;;
    esac
done <"$T/edge.out"
is "$rc" "0" "library-edge exits 0"
LOGS+=("$T/edge.out")
done_testing
