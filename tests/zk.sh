# tests/zk.sh - a ZooKeeper ensemble for the high-availability tests.
# Source it after tests/lib.sh.
#
#   zk_start [N]      starts N (default 3) servers on free loopback ports,
#                     each with a capped heap, in $T/zk/N; waits until
#                     they have a leader; sets ZK_HOSTS (host:port,...),
#                     ZK_URL (zk://$ZK_HOSTS/cairn-test-$$) and ZK_PORTS.
#   zk_mode I         prints leader, follower or standalone for server I
#                     (from 1), or nothing if it does not answer.
#   zk_leader         prints the index of the server that leads.
#   zk_kill I [SIG]   signals server I (default KILL).
#   zk_restart I      starts server I again on its ports and data.
#   zk_stop           kills every server this test started (lib.sh calls
#                     it at the end).
#   zk_master NAME [FLAGS...]
#                     a cairn-master on free ports with --zk=$ZK_URL and
#                     --zk-session-timeout=${SESSION_S:-3}s (and FLAGS),
#                     logging to $T/NAME.log; waits for its /health. Sets
#                     MHTTP[NAME] and MPORT[NAME] (127.0.0.1:PORT), MPID[NAME]
#                     and MID[NAME] (its master id).
#   zk_role NAME      the role its /health gives (leader, standby, paused).
# Skips the whole test (exit 77 semantics of lib.sh's skip_all) without
# Java or the server jar, unless CAIRN_ZK_REQUIRE is set (CI sets it):
# then their absence fails.

ZK_JAR=/usr/share/java/zookeeper.jar
ZK_CLASSPATH=$ZK_JAR:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar
ZK_PIDS=()
ZK_PORTS=()
declare -A MHTTP MPORT MPID MID

_zk_missing () {
    if ! command -v java >/dev/null; then
        echo "java is not installed (apt-get install default-jre-headless)"
    elif [ ! -f "$ZK_JAR" ]; then
        echo "the ZooKeeper server is not installed (apt-get install libzookeeper-java)"
    fi
}

_zk_launch () {         # _zk_launch I
    local i=$1 dir=$T/zk/$1
    java -Xms16m -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -Dzookeeper.log.dir="$dir" -Dlog4j.configuration="file:$T/zk/log4j.properties" \
        -cp "$T/zk:$ZK_CLASSPATH" org.apache.zookeeper.server.quorum.QuorumPeerMain \
        "$dir/zoo.cfg" >>"$dir/server.log" 2>&1 &
    ZK_PIDS[$i]=$!
}

zk_start () {
    local n=${1:-3} i why
    why=$(_zk_missing)
    if [ -n "$why" ]; then
        [ -n "${CAIRN_ZK_REQUIRE:-}" ] && bail_out "CAIRN_ZK_REQUIRE is set but $why"
        skip_all "$why"
    fi
    mkdir -p "$T/zk"
    cat >"$T/zk/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=${zookeeper.log.dir}/zookeeper.log
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p %c{1}: %m%n
PROPS
    local servers=""
    for i in $(seq 1 "$n"); do
        ZK_PORTS[$i]=$(free_port) || return 1
        local quorum election
        quorum=$(free_port) || return 1
        election=$(free_port) || return 1
        servers="${servers}server.$i=127.0.0.1:$quorum:$election"$'\n'
    done
    ZK_HOSTS=""
    for i in $(seq 1 "$n"); do
        local dir=$T/zk/$i
        mkdir -p "$dir/data"
        echo "$i" >"$dir/data/myid"
        {
            echo "tickTime=1000"
            echo "initLimit=10"
            echo "syncLimit=2"
            echo "dataDir=$dir/data"
            echo "clientPort=${ZK_PORTS[$i]}"
            echo "clientPortAddress=127.0.0.1"
            echo "admin.enableServer=false"
            echo "4lw.commands.whitelist=*"
            echo "maxSessionTimeout=60000"
            [ "$n" -gt 1 ] && printf '%s' "$servers"
        } >"$dir/zoo.cfg"
        _zk_launch "$i"
        ZK_HOSTS="${ZK_HOSTS:+$ZK_HOSTS,}127.0.0.1:${ZK_PORTS[$i]}"
    done
    ZK_URL="zk://$ZK_HOSTS/cairn-test-$$"
    if ! wait_for 60 _zk_has_leader "$n"; then
        diag "the ZooKeeper ensemble did not elect a leader; its logs:"
        tail -n 5 "$T"/zk/*/zookeeper.log "$T"/zk/*/server.log 2>/dev/null | sed 's/^/#   /'
        return 1
    fi
}

zk_mode () {            # zk_mode I
    local out
    out=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/${ZK_PORTS[$1]}; echo srvr >&3; cat <&3" 2>/dev/null)
    sed -n 's/^Mode: //p' <<<"$out"
}

_zk_has_leader () {
    local i m
    for i in $(seq 1 "$1"); do
        m=$(zk_mode "$i")
        [ "$m" = leader ] || [ "$m" = standalone ] && return 0
    done
    return 1
}

zk_leader () {
    local i
    for i in "${!ZK_PORTS[@]}"; do
        [ "$(zk_mode "$i")" = leader ] && { echo "$i"; return 0; }
    done
    return 1
}

zk_kill () {            # zk_kill I [SIG]
    kill -"${2:-KILL}" "${ZK_PIDS[$1]}" 2>/dev/null || true
    if [ "${2:-KILL}" = KILL ]; then
        wait "${ZK_PIDS[$1]}" 2>/dev/null || true
    fi
    return 0
}

zk_restart () {         # zk_restart I
    _zk_launch "$1"
}

zk_stop () {
    local pid
    # `|| true`: under set -e (the failover bench) a wait for a killed
    # server fails and would end the loop after the first.
    for pid in "${ZK_PIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    ZK_PIDS=()
    return 0
}

zk_master () {          # zk_master NAME [FLAGS...]
    local name=$1 port http
    shift
    port=$(free_port) || return 1
    http=$(free_port) || return 1
    run_bg "$name" "$MASTER_BIN" --ip=127.0.0.1 --port="$port" --http-port="$http" \
        --work-dir="$T/$name" --zk="$ZK_URL" --zk-session-timeout="${SESSION_S:-3}s" "$@"
    MHTTP[$name]=127.0.0.1:$http
    MPORT[$name]=127.0.0.1:$port
    eval "MPID[$name]=\$PID_$name"
    wait_for 20 http_get "http://127.0.0.1:$http/health" >/dev/null || return 1
    MID[$name]=$(http_get "http://127.0.0.1:$http/health" | jq -r .master_id)
}

zk_role () {            # zk_role NAME
    curl -s --max-time 5 "http://${MHTTP[$1]}/health" | jq -r '.ha.role // empty'
}
