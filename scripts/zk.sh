#!/usr/bin/env bash
# zk.sh: run Debian's ZooKeeper server (package `zookeeper`) as the calling user, for
# development and tests. Everything lives under DIR: config, data, log and pid file.
# Nothing is read from or written to /etc or /var; no systemd, no root.
#
#   zk.sh start  DIR PORT                one server on 127.0.0.1:PORT
#   zk.sh start  --ensemble N DIR BASE   N servers (N >= 3 for a quorum that survives a loss)
#   zk.sh start  DIR                     restart what DIR already holds (config kept)
#   zk.sh stop   DIR                     stop the server(s) recorded in DIR
#   zk.sh status DIR                     print "running" or "stopped" ("degraded K/N" for
#                                        an ensemble with some members down); exit 0 iff running
#
# One server uses DIR/{zoo.cfg,data/,zk.log,zk.pid}. An ensemble keeps one such folder per
# member, DIR/zk-1 .. DIR/zk-N (each with data/myid), so a failure test can stop and restart a
# single member with `zk.sh stop DIR/zk-2` / `zk.sh start DIR/zk-2`. Ports of member i
# (1-based): client BASE+i-1, quorum BASE+N+i-1, election BASE+2N+i-1 (3N consecutive ports,
# all checked free before anything starts).
#
# `start` returns once every server answers `ruok` with `imok` and reports its mode
# (standalone, leader or follower) in `srvr`, i.e. serves requests, within ZK_START_TIMEOUT
# seconds (default 30); otherwise it prints one line with the tail of the log and exits 1,
# leaving the process to `stop`. `stop` signals only the pid recorded in the member folder,
# and only if that pid is still a java process running that folder's zoo.cfg: TERM, then KILL
# after 10 s.
#
# Server settings: tickTime 500 ms, sessions from 1 s to 30 s, 4lw commands ruok, stat, srvr
# and mntr, admin server off, JVM heap 128 MB. Environment: JAVA (java binary), ZK_HEAP
# (default 128m), ZK_START_TIMEOUT.
set -u

ZK_JARDIR=/usr/share/java
ZK_HEAP=${ZK_HEAP:-128m}
ZK_START_TIMEOUT=${ZK_START_TIMEOUT:-30}
ZK_STOP_TIMEOUT=10

zk_die() {
    echo "zk.sh: $*" >&2
    exit 1
}

zk_usage() {
    echo "usage: zk.sh start [--ensemble N] DIR [PORT] | stop DIR | status DIR" >&2
    exit 2
}

zk_java() {
    local j
    if [ -n "${JAVA:-}" ]; then
        echo "$JAVA"
        return
    fi
    for j in /usr/lib/jvm/java-17-openjdk-*/bin/java; do
        if [ -x "$j" ]; then
            echo "$j"
            return
        fi
    done
    command -v java || zk_die "no java found: install openjdk-17-jre-headless"
}

# The server jar plus its runtime dependencies from Debian's /usr/share/java. zookeeper.jar's
# manifest names the same jars in its Class-Path; listing them here keeps the dependency
# visible and adds slf4j-simple so the server's messages reach zk.log.
zk_classpath() {
    local cp="" j
    [ -r "$ZK_JARDIR/zookeeper.jar" ] ||
        zk_die "$ZK_JARDIR/zookeeper.jar missing: install the zookeeper package"
    for j in zookeeper zookeeper-jute slf4j-api slf4j-simple commons-cli commons-io \
        metrics-core snappy-java jackson-annotations jackson-core jackson-databind \
        netty-buffer netty-codec netty-common netty-handler netty-resolver netty-transport \
        netty-transport-native-unix-common netty-transport-native-epoll; do
        if [ -r "$ZK_JARDIR/$j.jar" ]; then
            cp=${cp:+$cp:}$ZK_JARDIR/$j.jar
        fi
    done
    echo "$cp"
}

# zk_4lw PORT CMD: print the server's answer to a four-letter command (empty if none in 2 s).
zk_4lw() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf %s "$2" >&3; cat <&3' \
        _ "$1" "$2" 2>/dev/null
}

zk_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# zk_pid_of MDIR: print the live pid recorded in MDIR, if it is still our server.
zk_pid_of() {
    local mdir=$1 pid
    [ -r "$mdir/zk.pid" ] || return 1
    pid=$(cat "$mdir/zk.pid" 2>/dev/null)
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    [ -r "/proc/$pid/cmdline" ] || return 1
    # Guard against pid reuse: the process must be running this folder's config.
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$mdir/zoo.cfg" || return 1
    echo "$pid"
}

zk_port_of() {
    sed -n 's/^clientPort=//p' "$1/zoo.cfg"
}

zk_log_tail() {
    if [ -r "$1/zk.log" ]; then
        tail -n 3 "$1/zk.log" | tr '\n' ' ' | cut -c1-400
    else
        echo "(no log)"
    fi
}

# zk_write_cfg MDIR PORT [SERVER-LINES]: a config for one server or one ensemble member.
zk_write_cfg() {
    local mdir=$1 port=$2 servers=${3:-}
    mkdir -p "$mdir/data" || zk_die "cannot create $mdir/data"
    {
        echo "# written by scripts/zk.sh"
        echo "tickTime=500"
        echo "initLimit=20"
        echo "syncLimit=10"
        echo "minSessionTimeout=1000"
        echo "maxSessionTimeout=30000"
        echo "dataDir=$mdir/data"
        echo "clientPort=$port"
        echo "clientPortAddress=127.0.0.1"
        echo "maxClientCnxns=0"
        echo "preAllocSize=4096"
        echo "4lw.commands.whitelist=ruok,stat,srvr,mntr"
        echo "admin.enableServer=false"
        echo "autopurge.snapRetainCount=3"
        echo "autopurge.purgeInterval=0"
        if [ -n "$servers" ]; then
            echo "standaloneEnabled=false"
            echo "reconfigEnabled=false"
            printf '%s\n' "$servers"
        fi
    } >"$mdir/zoo.cfg" || zk_die "cannot write $mdir/zoo.cfg"
}

# zk_launch MDIR: start the JVM for the config in MDIR, record its pid.
zk_launch() {
    local mdir=$1 java cp pid
    java=$(zk_java)
    cp=$(zk_classpath)
    if pid=$(zk_pid_of "$mdir"); then
        zk_die "$mdir already running (pid $pid)"
    fi
    echo "---- zk.sh start $(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$mdir/zk.log"
    "$java" -Xmx"$ZK_HEAP" -Xms16m -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
        -XX:-UsePerfData -Djava.net.preferIPv4Stack=true \
        -Dzookeeper.admin.enableServer=false -Dzookeeper.jmx.log4j.disable=true \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=info \
        -Dorg.slf4j.simpleLogger.showDateTime=true \
        -Dorg.slf4j.simpleLogger.dateTimeFormat=yyyy-MM-dd\'T\'HH:mm:ss.SSS \
        -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain "$mdir/zoo.cfg" \
        >>"$mdir/zk.log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$mdir/zk.pid"
}

# zk_wait_ready PORT MDIR MODE_TOO: wait until ruok answers imok (and, if MODE_TOO, srvr
# reports a serving mode). Returns 1 on timeout, 2 if the process died.
zk_wait_ready() {
    local port=$1 mdir=$2 mode_too=$3 deadline
    deadline=$((SECONDS + ZK_START_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        zk_pid_of "$mdir" >/dev/null || return 2
        if [ "$(zk_4lw "$port" ruok)" = imok ]; then
            if [ "$mode_too" = 0 ] ||
                zk_4lw "$port" srvr | grep -qE '^Mode: (leader|follower|standalone)'; then
                return 0
            fi
        fi
        sleep 0.2
    done
    return 1
}

# zk_ready_or_die RC WHAT MDIR: one line naming the failure and the log tail, then exit 1.
zk_ready_or_die() {
    case "$1" in
    0) return 0 ;;
    2) echo "zk.sh: $2 exited during start-up; log: $(zk_log_tail "$3")" >&2 ;;
    *) echo "zk.sh: $2 not serving within ${ZK_START_TIMEOUT}s; log: $(zk_log_tail "$3")" >&2 ;;
    esac
    exit 1
}

zk_members() {
    local dir=$1 n i
    if [ -r "$dir/ensemble" ]; then
        n=$(cat "$dir/ensemble")
        for ((i = 1; i <= n; i++)); do
            echo "$dir/zk-$i"
        done
    else
        echo "$dir"
    fi
}

zk_start_one() {
    local dir=$1 port=${2:-}
    if [ -n "$port" ]; then
        zk_port_busy "$port" && zk_die "port $port is in use on 127.0.0.1"
        zk_write_cfg "$dir" "$port"
    fi
    [ -r "$dir/zoo.cfg" ] || zk_die "$dir has no zoo.cfg: give a PORT"
    port=$(zk_port_of "$dir")
    zk_launch "$dir"
    zk_wait_ready "$port" "$dir" 1
    zk_ready_or_die $? "ZooKeeper on 127.0.0.1:$port" "$dir"
    echo "zookeeper running on 127.0.0.1:$port (pid $(cat "$dir/zk.pid"), dir $dir)"
}

zk_start_ensemble() {
    local dir=$1 n=$2 base=${3:-} i p servers="" m
    if [ -z "$base" ]; then
        # Restart every member that is down, with its existing config.
        [ -r "$dir/ensemble" ] || zk_die "$dir holds no ensemble: give a BASE port"
        n=$(cat "$dir/ensemble")
        for m in $(zk_members "$dir"); do
            zk_pid_of "$m" >/dev/null || zk_launch "$m"
        done
    else
        case "$base" in '' | *[!0-9]*) zk_die "bad base port '$base'" ;; esac
        [ $((base + 3 * n)) -le 65535 ] || zk_die "base port $base too high for $n members"
        for ((p = base; p < base + 3 * n; p++)); do
            zk_port_busy "$p" &&
                zk_die "port $p is in use on 127.0.0.1 (ensemble needs $((3 * n)) from $base)"
        done
        for ((i = 1; i <= n; i++)); do
            servers+="server.$i=127.0.0.1:$((base + n + i - 1)):$((base + 2 * n + i - 1))"$'\n'
        done
        mkdir -p "$dir" || zk_die "cannot create $dir"
        echo "$n" >"$dir/ensemble"
        for ((i = 1; i <= n; i++)); do
            zk_write_cfg "$dir/zk-$i" "$((base + i - 1))" "${servers%$'\n'}"
            echo "$i" >"$dir/zk-$i/data/myid"
        done
        for ((i = 1; i <= n; i++)); do
            zk_launch "$dir/zk-$i"
        done
    fi
    for m in $(zk_members "$dir"); do
        p=$(zk_port_of "$m")
        zk_wait_ready "$p" "$m" 1
        zk_ready_or_die $? "ensemble member $m (127.0.0.1:$p)" "$m"
    done
    p=""
    for m in $(zk_members "$dir"); do
        p+="$(zk_port_of "$m") "
    done
    echo "zookeeper ensemble of $n running on 127.0.0.1 client ports ${p}(dir $dir)"
}

# zk_alive PID: true while PID exists and is not a zombie waiting for its parent.
zk_alive() {
    local st
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ]
}

# zk_stop DIR: TERM every live member recorded under DIR at once, wait, then KILL leftovers.
zk_stop() {
    local m pid pids=() i alive
    for m in $(zk_members "$1"); do
        if pid=$(zk_pid_of "$m"); then
            kill -TERM "$pid" 2>/dev/null
            pids+=("$pid")
        fi
        rm -f "$m/zk.pid"
    done
    for ((i = 0; i < (ZK_STOP_TIMEOUT + 5) * 10; i++)); do
        alive=0
        for pid in "${pids[@]}"; do
            zk_alive "$pid" || continue
            alive=1
            if [ "$i" -eq $((ZK_STOP_TIMEOUT * 10)) ]; then
                kill -KILL "$pid" 2>/dev/null
            fi
        done
        [ "$alive" = 0 ] && return 0
        sleep 0.1
    done
    echo "zk.sh: pid(s) ${pids[*]} still alive after KILL" >&2
    return 1
}

zk_status() {
    local dir=$1 m up=0 all=0
    for m in $(zk_members "$dir"); do
        all=$((all + 1))
        zk_pid_of "$m" >/dev/null && up=$((up + 1))
    done
    if [ "$up" -eq "$all" ] && [ "$all" -gt 0 ]; then
        echo running
        return 0
    elif [ "$up" -eq 0 ]; then
        echo stopped
    else
        echo "degraded $up/$all"
    fi
    return 3
}

# Absolute path so the pid check (which greps the command line) is unambiguous.
zk_abs() {
    case "$1" in
    /*) echo "${1%/}" ;;
    *) echo "$(pwd)/${1%/}" ;;
    esac
}

main() {
    local cmd=${1:-} ensemble=0 dir port
    [ $# -ge 2 ] || zk_usage
    shift
    if [ "${1:-}" = --ensemble ]; then
        ensemble=${2:-}
        case "$ensemble" in '' | *[!0-9]*) zk_die "bad --ensemble count" ;; esac
        [ "$ensemble" -ge 1 ] || zk_die "bad --ensemble count"
        shift 2
    fi
    [ $# -ge 1 ] || zk_usage
    dir=$(zk_abs "$1")
    port=${2:-}
    case "$cmd" in
    start)
        if [ -n "$port" ]; then
            case "$port" in *[!0-9]*) zk_die "bad port '$port'" ;; esac
        fi
        if [ "$ensemble" -gt 0 ]; then
            zk_start_ensemble "$dir" "$ensemble" "$port"
        elif [ -z "$port" ] && [ -r "$dir/ensemble" ]; then
            zk_start_ensemble "$dir" 0 ""
        else
            mkdir -p "$dir" || zk_die "cannot create $dir"
            zk_start_one "$dir" "$port"
        fi
        ;;
    stop)
        zk_stop "$dir"
        ;;
    status)
        zk_status "$dir"
        ;;
    *)
        zk_usage
        ;;
    esac
}

main "$@"
