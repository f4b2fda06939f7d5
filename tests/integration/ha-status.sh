#!/bin/bash
# cairn status and the web UI's HA panel with two masters elected in a
# three-server ZooKeeper ensemble:
# - through zk://, status names the leader and the standby with their
#   roles (each from its own /health), ZooKeeper connected, and exits 0;
#   --json carries the same;
# - through the standby's own ZeroMQ address it still reports, naming
#   the leader;
# - the leader's /ui/ shows the leader and the standby (headless
#   Chromium; skipped without it);
# - after the leader is killed (SIGKILL), status names the new leader and
#   the failover from the old one, and exits 0.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
command -v jq >/dev/null || skip_all "jq is not installed"
. "$S/tests/zk.sh"
C=$CAIRN_BIN

zk_start 3
ok_or_bail $? "a ZooKeeper ensemble of three servers elects a leader"

start_ha_master () {    # start_ha_master NAME: a master on free ports with --zk
    zk_master "$1" --allocation-interval=100ms
}
role () { zk_role "$1"; }
role_is () { [ "$(role "$1")" = "$2" ]; }

start_ha_master m1
ok_or_bail $? "master m1 starts"
wait_for 20 role_is m1 leader
ok_or_bail $? "m1, first in, leads"
start_ha_master m2
ok_or_bail $? "master m2 starts"
wait_for 10 bash -c "curl -s http://${MHTTP[m2]}/health | jq_e '.ha.masters | length == 2'"
ok_or_bail $? "both masters list the two candidates"
wait_for 10 bash -c "curl -s http://${MHTTP[m1]}/health | jq_e '.ha.masters | length == 2'"

# --- through ZooKeeper ---------------------------------------------------
out=$("$C" --master="$ZK_URL" status)
is "$?" 0 "cairn status through zk:// exits 0 while a leader acts"
like "$out" "LEADER +${MID[m1]}" "it names m1 as the leader"
like "$out" "${MID[m1]} .* leader +${MPORT[m1]}" "m1's row says leader"
like "$out" "${MID[m2]} .* standby +${MPORT[m2]}" "m2's row says standby"
like "$out" "ZOOKEEPER +connected" "ZooKeeper is connected"
like "$out" "FAILOVER +none seen" "no failover yet"
like "$out" "AGENTS +0 active" "with the counts"

json=$("$C" --master="$ZK_URL" --json status)
is "$?" 0 "cairn status --json exits 0"
is "$(jq -r .ha.leader.id <<<"$json")" "${MID[m1]}" ".ha.leader.id is m1"
is "$(jq -r '[.ha.masters[] | .id + "=" + .role] | sort | join(",")' <<<"$json")" \
   "$(printf '%s\n' "${MID[m1]}=leader" "${MID[m2]}=standby" | sort | paste -sd,)" \
   ".ha.masters gives each master's role"
is "$(jq -r '.ha.zk_connected, .leading, .master.master_id, .master.role' <<<"$json" | paste -sd' ')" \
   "true true ${MID[m1]} leader" ".ha.zk_connected, .leading and .master"
jq_e '.ha.lease_ms_left > 0 and .summary.agents.active == 0' <<<"$json" >/dev/null
ok $? ".ha.lease_ms_left and .summary"

# --- through the standby's own endpoint -----------------------------------
out=$("$C" --master="${MPORT[m2]}" status)
is "$?" 0 "cairn status through the standby's address exits 0"
like "$out" "LEADER +${MID[m1]}" "it names the leader"
like "$out" "${MID[m2]} .* standby" "and the standby"
is "$("$C" --master="${MPORT[m2]}" --json status | jq -r '.ha.leader.id')" "${MID[m1]}" \
   "--json too"

# --- the web UI's HA panel -----------------------------------------------
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
    dump_dom () {
        timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
            --disable-background-networking --disable-component-update --disable-sync \
            --no-first-run --user-data-dir="$(mktemp -d "$T/chromium.XXXXXX")" \
            --virtual-time-budget=10000 --dump-dom "http://${MHTTP[m1]}/ui/" \
            >"$T/dom.html" 2>"$T/chromium.log"
    }
    for attempt in 1 2 3; do
        dump_dom
        grep -q '<body[^>]*data-ready="1"' "$T/dom.html" && break
        diag "load $attempt: no data-ready yet"
    done
    grep -q '<body[^>]*data-ready="1"' "$T/dom.html"
    ok $? "the leader's /ui/ loads its data"
    panel=$(tr -d '\n' <"$T/dom.html" | grep -oP '<section id="ha"[^>]*>.*?</section>' | head -1)
    [ -n "$panel" ] && ! grep -q '<section id="ha"[^>]*hidden' <<<"$panel"
    ok $? "the HA panel is shown"
    like "$(grep -oP 'id="ha-role"[^>]*>\K[^<]*' <<<"$panel")" "leader" \
         "it says the page's master leads"
    like "$(grep -oP 'id="ha-leader"[^>]*>.*?</dd>' <<<"$panel")" "${MID[m1]}" \
         "it names the leader"
    like "$(grep -oP 'id="ha-masters"[^>]*>.*?</dd>' <<<"$panel")" "1 standby.*${MID[m2]}" \
         "it names the standby"
    like "$(grep -oP 'id="ha-zk"[^>]*>\K[^<]*' <<<"$panel")" "connected" \
         "ZooKeeper is connected"
else
    ok 0 "# SKIP $CHROMIUM is not installed (apt-get install chromium)"
fi

# --- the leader dies -----------------------------------------------------
kill -KILL "${MPID[m1]}"
wait_for 30 role_is m2 leader
ok_or_bail $? "m2 takes over"
out=$("$C" --master="$ZK_URL" status)
is "$?" 0 "cairn status exits 0 with the new leader"
sed 's/^/#   /' <<<"$out"
like "$out" "LEADER +${MID[m2]}" "it names m2 as the leader"
like "$out" "FAILOVER +${MID[m1]} -> ${MID[m2]}, [0-9]+s ago" "and the failover from m1 to m2"
json=$("$C" --master="$ZK_URL" --json status)
is "$(jq -r '.ha.last_failover.from + " " + .ha.last_failover.to' <<<"$json")" \
   "${MID[m1]} ${MID[m2]}" ".ha.last_failover names both"
is "$(jq -r '.ha.leader.id + " " + .master.role' <<<"$json")" "${MID[m2]} leader" \
   ".ha.leader is m2, which leads"
done_testing
