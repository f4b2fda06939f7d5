#!/bin/bash
# What `make install` puts on an operator's machine: exactly the expected
# files under the prefix (programs, library, header, pkg-config file, man
# pages, systemd units, example configs, docs), units that point at the
# installed daemons and keep tasks across agent restarts, example configs
# the daemons accept, an operator's edited config kept across reinstall
# and uninstall, and nothing else left after `make uninstall`.
. "${CAIRN_SRCDIR:-.}/tests/lib.sh"
command -v jq >/dev/null || skip_all "jq is not installed"

STAGE=$T/stage
mk () { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$B" "$@" DESTDIR="$STAGE"; }
mk install >"$T/install.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -20 "$T/install.log" | sed 's/^/#   /'
ok_or_bail $rc "make install DESTDIR=\$STAGE"

prefix=$(sed -n 's/^prefix = //p' "$B/Makefile")
root=$STAGE$prefix
[ -d "$root" ]
ok_or_bail $? "files go under the prefix ($prefix)"

# Everything but the library's man3 pages (library-install.sh checks
# those), with the prefix cut off.
got=$(cd "$root" && find . \( -type f -o -type l \) ! -path './share/man/man3/*' | sed 's|^\./||' | sort)
want=$(sort <<'LIST'
bin/cairn
bin/cairn-agent-sim
bin/cairn-batch
bin/cairn-service
etc/cairn/agent.json
etc/cairn/master.json
include/cairn.h
lib/libcairn.la
lib/libcairn.so
lib/libcairn.so.0
lib/libcairn.so.0.0.0
lib/pkgconfig/cairn.pc
lib/systemd/system/cairn-agent.service
lib/systemd/system/cairn-master.service
libexec/cairn/cairn-fetcher
libexec/cairn/cairn-shim
sbin/cairn-agent
sbin/cairn-master
share/doc/cairn/architecture.md
share/doc/cairn/batch.md
share/doc/cairn/examples/dispatch.c
share/doc/cairn/examples/failover.c
share/doc/cairn/examples/hello.c
share/doc/cairn/examples/killtask.c
share/doc/cairn/examples/tutorial.c
share/doc/cairn/fuzzing.md
share/doc/cairn/libframework.md
share/doc/cairn/operations.md
share/doc/cairn/performance.md
share/doc/cairn/protocol.md
share/doc/cairn/security.md
share/doc/cairn/service.md
share/man/man1/cairn-batch.1
share/man/man1/cairn-service.1
share/man/man1/cairn.1
share/man/man8/cairn-agent.8
share/man/man8/cairn-master.8
LIST
)
is "$(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | paste -sd' ')" "" \
   "make install installs exactly the $(wc -l <<<"$want") expected files (< missing, > unexpected)"

for p in bin/cairn bin/cairn-batch bin/cairn-service bin/cairn-agent-sim sbin/cairn-master \
         sbin/cairn-agent libexec/cairn/cairn-shim libexec/cairn/cairn-fetcher; do
    [ -x "$root/$p" ] || echo "$p"
done >"$T/notexec"
is "$(paste -sd' ' "$T/notexec")" "" "the programs are executable"

# The units: the installed daemons with the installed configs.
sbindir=$(sed -n 's/^sbindir = //p' "$B/Makefile" | sed "s|\${exec_prefix}|$prefix|")
sysconfdir=$(sed -n 's/^sysconfdir = //p' "$B/Makefile" | sed "s|\${prefix}|$prefix|")
unitdir=$root/lib/systemd/system
for d in master agent; do
    exec_start=$(sed -n 's/^ExecStart=//p' "$unitdir/cairn-$d.service")
    is "$exec_start" "$sbindir/cairn-$d --config=$sysconfdir/cairn/$d.json" \
       "cairn-$d.service starts the installed daemon with the installed config"
    [ -x "$STAGE${exec_start%% *}" ]
    ok $? "and that daemon is installed"
    ! grep -q '[@%][A-Za-z]*[@%]' "$unitdir/cairn-$d.service"
    ok $? "cairn-$d.service has no placeholder left"
done
grep -qx 'Delegate=yes' "$unitdir/cairn-agent.service"
ok $? "the agent's unit delegates its cgroup subtree (Delegate=yes)"
grep -qx 'KillMode=process' "$unitdir/cairn-agent.service"
ok $? "restarting the agent's unit does not kill its tasks (KillMode=process)"
if command -v systemd-analyze >/dev/null; then
    # Only the syntax: the paths exist in the staging directory, not here.
    out=$(systemd-analyze verify --man=no "$unitdir/cairn-agent.service" "$unitdir/cairn-master.service" 2>&1 |
          grep -v 'Command .* is not executable\|No such file\|is not executable' )
    is "$out" "" "systemd-analyze verify finds nothing wrong in the units"
fi

# The example configs are valid for the daemons: started with them (the
# flags override addresses and directories: flag beats file), they run.
for f in master agent; do
    jq -e 'type == "object"' "$root/etc/cairn/$f.json" >/dev/null
    ok $? "etc/cairn/$f.json is a JSON object"
done
# The example's credential files are not there: empty values unset them.
start_master --config="$root/etc/cairn/master.json" --ip=127.0.0.1 --advertise-ip=127.0.0.1 \
    --weights=prod=3 --http-token-file= --curve-secret= --curve-allow-dir=
ok $? "the master runs with the example master.json"
start_agent node1 --config="$root/etc/cairn/agent.json" --master="$MASTER" --advertise-ip=127.0.0.1 \
    --resources="cpus:1;mem:256" --master-public-key= --curve-cert=
ok $? "an agent runs with the example agent.json"
is "$(master_state | jq -r '.agents[0].attributes.rack // .agents[0].attributes[0].value // empty')" "r1" \
   "the agent took its attributes from the file"
stop_all

# An operator's config is never replaced or removed.
echo '{ "log-level": "debug" }' >"$root/etc/cairn/agent.json"
mk install >"$T/install2.log" 2>&1
ok $? "make install again"
is "$(cat "$root/etc/cairn/agent.json")" '{ "log-level": "debug" }' "a second install keeps the edited agent.json"
mk uninstall >"$T/uninstall.log" 2>&1
ok $? "make uninstall DESTDIR=\$STAGE"
left=$(cd "$root" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort | paste -sd' ')
is "$left" "etc/cairn/agent.json" "make uninstall removes everything but the edited config"
done_testing
