#!/usr/bin/env bash
# cluster.sh: run a whole Samsa cluster on loopback in one folder: ZooKeeper (one server or an
# ensemble of 3), M samsa-controller processes and N samsa-broker processes (DESIGN.md section 7).
#
#   cluster.sh start   --dir DIR [--brokers N] [--controllers M] [--base-port P]
#                      [--zk-ensemble 3] [--override [WHO:]key=value]...
#   cluster.sh stop    --dir DIR                 TERM every process (brokers, controllers, then
#                                                ZooKeeper), KILL what is left after a while
#   cluster.sh status  --dir DIR                 one line per process: NAME PID STATE
#   cluster.sh kill    NAME --dir DIR            SIGKILL one process (broker-2, controller-1, zk-1)
#   cluster.sh restart NAME --dir DIR            stop it gracefully if it runs, start it again
#   cluster.sh pause   NAME --dir DIR            SIGSTOP (a "zombie" for fencing tests)
#   cluster.sh resume  NAME --dir DIR            SIGCONT
#
# `start` returns once every broker is registered in ZooKeeper and a controller is active, and
# prints two lines for clients and tools:
#
#   bootstrap=127.0.0.1:P+20,127.0.0.1:P+22,...
#   zookeeper=127.0.0.1:P/samsa                  (ensemble: 127.0.0.1:P,127.0.0.1:P+1,...)
#
# Ports, from the base port P (a multiple of 100, so clusters with different bases never meet):
#   zk-i client P+i-1 (i=1..3); ensemble quorum P+3..P+5, election P+6..P+8
#   controller-i RPC P+10+i-1 (M <= 10)
#   broker-i Kafka P+20+2(i-1), control RPC P+21+2(i-1) (N <= 40)
# Every port is checked free before anything starts.
#
# DIR/NAME/ holds each process's config, log, data and pid: broker-i/{server.properties,
# broker.log,data/,pid}, controller-i/{controller.properties,controller.log,pid}, zk-i/{zoo.cfg,
# zk.log,data/,zk.pid} (zk-i is managed through scripts/zk.sh). DIR/cluster.conf records the
# layout for the other commands. Data is kept across stop/start; remove DIR for a fresh cluster.
#
# --override key=value goes into the config of every process whose program knows the key
# (zookeeper.session.timeout.ms reaches brokers and controllers); WHO:key=value restricts it to
# `broker`, `controller` or one process (`broker-2:broker.rack=r2`). An unknown key is refused.
#
# Only pids recorded in DIR are ever signalled, and only after checking that the process still
# runs that folder's config. Every wait is bounded (CLUSTER_START_TIMEOUT, default 60 s;
# CLUSTER_STOP_TIMEOUT, default 10 s, before KILL). Programs come from $BIN (default ROOT/bin).
# Exit codes: 0 success, 1 runtime failure, 2 usage error; errors are one line on stderr.
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-bin}
case "$BIN" in /*) ;; *) BIN=$ROOT/$BIN ;; esac
ZKSH=$ROOT/scripts/zk.sh
ADMIN=$BIN/samsa-admin
CLUSTER_START_TIMEOUT=${CLUSTER_START_TIMEOUT:-60}
CLUSTER_STOP_TIMEOUT=${CLUSTER_STOP_TIMEOUT:-10}
CHROOT=/samsa

DIR=
BASE=19000
NBROKERS=3
NCTLS=1
NZK=1
OVERRIDES=()

die() {
    echo "cluster.sh: $*" >&2
    exit 1
}

usage_die() {
    echo "cluster.sh: $*" >&2
    exit 2
}

usage() {
    sed -n '2,/^set -u/p' "${BASH_SOURCE[0]}" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'
}

is_uint() {
    case "$1" in '' | *[!0-9]*) return 1 ;; *) return 0 ;; esac
}

port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---- layout --------------------------------------------------------------------------------

zk_port() { echo $((BASE + $1 - 1)); }
ctl_port() { echo $((BASE + 10 + $1 - 1)); }
broker_port() { echo $((BASE + 20 + 2 * ($1 - 1))); }
broker_ctl_port() { echo $((BASE + 21 + 2 * ($1 - 1))); }

zk_connect() {
    local i hosts=""
    for ((i = 1; i <= NZK; i++)); do
        hosts+=${hosts:+,}127.0.0.1:$(zk_port "$i")
    done
    echo "$hosts$CHROOT"
}

bootstrap() {
    local i out=""
    for ((i = 1; i <= NBROKERS; i++)); do
        out+=${out:+,}127.0.0.1:$(broker_port "$i")
    done
    echo "$out"
}

names() {
    local i
    for ((i = 1; i <= NZK; i++)); do echo "zk-$i"; done
    for ((i = 1; i <= NCTLS; i++)); do echo "controller-$i"; done
    for ((i = 1; i <= NBROKERS; i++)); do echo "broker-$i"; done
}

# config_of NAME: the file whose path identifies the process in /proc/PID/cmdline.
config_of() {
    case "$1" in
    zk-*) echo "$DIR/$1/zoo.cfg" ;;
    controller-*) echo "$DIR/$1/controller.properties" ;;
    broker-*) echo "$DIR/$1/server.properties" ;;
    esac
}

pidfile_of() {
    case "$1" in
    zk-*) echo "$DIR/$1/zk.pid" ;;
    *) echo "$DIR/$1/pid" ;;
    esac
}

known_name() {
    local n
    for n in $(names); do
        [ "$n" = "$1" ] && return 0
    done
    return 1
}

save_conf() {
    {
        echo "# written by scripts/cluster.sh start"
        echo "base_port=$BASE"
        echo "brokers=$NBROKERS"
        echo "controllers=$NCTLS"
        echo "zk_ensemble=$NZK"
        echo "zookeeper=$(zk_connect)"
        echo "bootstrap=$(bootstrap)"
    } >"$DIR/cluster.conf" || die "cannot write $DIR/cluster.conf"
}

load_conf() {
    local f=$DIR/cluster.conf v
    [ -r "$f" ] || die "$DIR holds no cluster (no cluster.conf): run start first"
    v=$(sed -n 's/^base_port=//p' "$f")
    is_uint "$v" && BASE=$v || die "$f: bad base_port"
    v=$(sed -n 's/^brokers=//p' "$f")
    is_uint "$v" && NBROKERS=$v || die "$f: bad brokers"
    v=$(sed -n 's/^controllers=//p' "$f")
    is_uint "$v" && NCTLS=$v || die "$f: bad controllers"
    v=$(sed -n 's/^zk_ensemble=//p' "$f")
    is_uint "$v" && NZK=$v || die "$f: bad zk_ensemble"
}

# ---- processes -----------------------------------------------------------------------------

# pid_of NAME: prints the recorded pid if that process still runs NAME's config.
pid_of() {
    local pf cfg pid
    pf=$(pidfile_of "$1")
    cfg=$(config_of "$1")
    [ -r "$pf" ] || return 1
    pid=$(cat "$pf" 2>/dev/null)
    is_uint "$pid" || return 1
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$cfg" || return 1
    echo "$pid"
}

# proc_state PID: running, paused or stopped (gone or a zombie).
proc_state() {
    local st
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
    case "$st" in
    '' | Z | X) echo stopped ;;
    T | t) echo paused ;;
    *) echo running ;;
    esac
}

alive() {
    [ "$(proc_state "$1")" != stopped ]
}

state_of() {
    local pid
    if pid=$(pid_of "$1"); then
        echo "$pid $(proc_state "$pid")"
    else
        echo "- stopped"
    fi
}

log_of() {
    case "$1" in
    zk-*) echo "$DIR/$1/zk.log" ;;
    controller-*) echo "$DIR/$1/controller.log" ;;
    broker-*) echo "$DIR/$1/broker.log" ;;
    esac
}

log_tail() {
    local f
    f=$(log_of "$1")
    if [ -s "$f" ]; then
        tail -n 3 "$f" | tr '\n' ' ' | cut -c1-400
    else
        echo "(empty log)"
    fi
}

# stop_pids NAME...: TERM (and CONT, in case one is paused) each live process, wait, then KILL.
stop_names() {
    local n pid pids=() i left
    for n in "$@"; do
        if pid=$(pid_of "$n"); then
            kill -TERM "$pid" 2>/dev/null
            kill -CONT "$pid" 2>/dev/null
            pids+=("$pid")
        fi
    done
    [ ${#pids[@]} -gt 0 ] || return 0
    for ((i = 0; i < (CLUSTER_STOP_TIMEOUT + 5) * 10; i++)); do
        left=0
        for pid in "${pids[@]}"; do
            alive "$pid" || continue
            left=1
            if [ "$i" -eq $((CLUSTER_STOP_TIMEOUT * 10)) ]; then
                kill -KILL "$pid" 2>/dev/null
            fi
        done
        [ "$left" = 0 ] && return 0
        sleep 0.1
    done
    echo "cluster.sh: pid(s) ${pids[*]} still alive after KILL" >&2
    return 1
}

# ---- configs -------------------------------------------------------------------------------

# keys_of PROGRAM: the key names its --help lists.
keys_of() {
    "$BIN/$1" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z0-9._-]*\) .*/\1/p'
}

check_overrides() {
    local o who kv key bkeys ckeys
    bkeys=" $(keys_of samsa-broker | tr '\n' ' ') "
    ckeys=" $(keys_of samsa-controller | tr '\n' ' ') "
    [ "$bkeys" != "  " ] || die "cannot list the keys of $BIN/samsa-broker (is it built?)"
    for o in "${OVERRIDES[@]+"${OVERRIDES[@]}"}"; do
        who=
        kv=$o
        if [[ "$o" == *:* ]] && [[ "${o%%:*}" != *=* ]]; then
            who=${o%%:*}
            kv=${o#*:}
        fi
        key=${kv%%=*}
        [[ "$kv" == *=* ]] && [ -n "$key" ] || usage_die "--override $o: expected [WHO:]key=value"
        case "$who" in
        '' | broker | controller | broker-[0-9]* | controller-[0-9]*) ;;
        *) usage_die "--override $o: WHO must be broker, controller, broker-N or controller-N" ;;
        esac
        if [[ "$bkeys" != *" $key "* ]] && [[ "$ckeys" != *" $key "* ]]; then
            usage_die "--override $o: unknown key '$key' (neither a broker nor a controller key)"
        fi
        case "$who" in
        broker | broker-*)
            [[ "$bkeys" == *" $key "* ]] || usage_die "--override $o: '$key' is not a broker key"
            ;;
        controller | controller-*)
            [[ "$ckeys" == *" $key "* ]] || usage_die "--override $o: '$key' is not a controller key"
            ;;
        esac
    done
    BROKER_KEYS=$bkeys
    CTL_KEYS=$ckeys
}

# overrides_for NAME KEYS: the key=value lines of the overrides that reach NAME.
overrides_for() {
    local name=$1 keys=$2 o who kv key
    for o in "${OVERRIDES[@]+"${OVERRIDES[@]}"}"; do
        who=
        kv=$o
        if [[ "$o" == *:* ]] && [[ "${o%%:*}" != *=* ]]; then
            who=${o%%:*}
            kv=${o#*:}
        fi
        key=${kv%%=*}
        [[ "$keys" == *" $key "* ]] || continue
        case "$who" in
        '' | "${name%%-*}" | "$name") echo "$kv" ;;
        esac
    done
}

# write_config FILE NAME KEYS BASE-LINES: base lines, minus the keys an override replaces,
# then the overrides.
write_config() {
    local file=$1 name=$2 keys=$3 base=$4 ov line key
    ov=$(overrides_for "$name" "$keys")
    {
        echo "# written by scripts/cluster.sh start"
        while IFS= read -r line; do
            key=${line%%=*}
            if [ -n "$ov" ] && printf '%s\n' "$ov" | grep -q "^${key//./\\.}="; then
                continue
            fi
            echo "$line"
        done <<<"$base"
        if [ -n "$ov" ]; then
            echo "# --override"
            printf '%s\n' "$ov"
        fi
    } >"$file" || die "cannot write $file"
}

write_configs() {
    local i d rf=$((NBROKERS < 3 ? NBROKERS : 3))
    for ((i = 1; i <= NCTLS; i++)); do
        d=$DIR/controller-$i
        mkdir -p "$d" || die "cannot create $d"
        write_config "$d/controller.properties" "controller-$i" "$CTL_KEYS" \
            "controller.id=$i
listeners=127.0.0.1:$(ctl_port "$i")
zookeeper.connect=$(zk_connect)"
    done
    for ((i = 1; i <= NBROKERS; i++)); do
        d=$DIR/broker-$i
        mkdir -p "$d/data" || die "cannot create $d/data"
        write_config "$d/server.properties" "broker-$i" "$BROKER_KEYS" \
            "broker.id=$i
listeners=PLAINTEXT://127.0.0.1:$(broker_port "$i")
control.listener=127.0.0.1:$(broker_ctl_port "$i")
log.dirs=$d/data
zookeeper.connect=$(zk_connect)
offsets.topic.replication.factor=$rf"
    done
}

# ---- starting ------------------------------------------------------------------------------

check_ports() {
    local i p
    if [ "$NZK" -gt 1 ]; then
        for ((p = BASE; p < BASE + 9; p++)); do
            port_busy "$p" && die "port $p (ZooKeeper ensemble) is in use on 127.0.0.1; pick another --base-port"
        done
    else
        p=$(zk_port 1)
        port_busy "$p" && die "port $p (zk-1) is in use on 127.0.0.1; pick another --base-port"
    fi
    for ((i = 1; i <= NCTLS; i++)); do
        p=$(ctl_port "$i")
        port_busy "$p" && die "port $p (controller-$i) is in use on 127.0.0.1; pick another --base-port"
    done
    for ((i = 1; i <= NBROKERS; i++)); do
        for p in $(broker_port "$i") $(broker_ctl_port "$i"); do
            port_busy "$p" && die "port $p (broker-$i) is in use on 127.0.0.1; pick another --base-port"
        done
    done
    return 0
}

# launch NAME: starts a controller or broker in its own session, records its pid.
launch() {
    local name=$1 prog cfg log pid i
    cfg=$(config_of "$name")
    log=$(log_of "$name")
    case "$name" in
    controller-*) prog=$BIN/samsa-controller ;;
    broker-*) prog=$BIN/samsa-broker ;;
    esac
    [ -x "$prog" ] || die "$prog is missing: run make first"
    # setsid: the process outlives the shell that started it and ignores its terminal's ^C.
    # The background child is not a group leader, so setsid execs in place and $! stays its pid.
    setsid "$prog" -c "$cfg" >>"$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$(pidfile_of "$name")"
    # Until the exec, /proc/PID/cmdline is this script's: wait for it so pid_of recognises it.
    for ((i = 0; i < 100; i++)); do
        pid_of "$name" >/dev/null && return 0
        alive "$pid" || return 0
        sleep 0.02
    done
}

zk_start_all() {
    local out=$DIR/zk-start.log
    if [ "$NZK" -gt 1 ]; then
        "$ZKSH" start --ensemble "$NZK" "$DIR" "$BASE" >"$out" 2>&1 ||
            die "ZooKeeper ensemble did not start: $(tail -n 1 "$out")"
    else
        "$ZKSH" start "$DIR/zk-1" "$(zk_port 1)" >"$out" 2>&1 ||
            die "ZooKeeper did not start: $(tail -n 1 "$out")"
    fi
}

zk_start_one() {
    local name=$1 out=$DIR/$1/start.log
    "$ZKSH" start "$DIR/$name" >"$out" 2>&1 || die "$name did not start: $(tail -n 1 "$out")"
}

admin() {
    "$ADMIN" --zookeeper "$(zk_connect)" --timeout-ms 3000 "$@" 2>/dev/null
}

# registered ID: true while /brokers/ids/ID exists.
registered() {
    admin zk get "/brokers/ids/$1" >/dev/null
}

# all_registered: every broker 1..N is in brokers list.
all_registered() {
    local ids i
    ids=" $(admin --json brokers list | grep -o '"id": [0-9]*' | sed 's/"id": //' | tr '\n' ' ') "
    for ((i = 1; i <= NBROKERS; i++)); do
        [[ "$ids" == *" $i "* ]] || return 1
    done
}

controller_active() {
    admin --json controller >/dev/null
}

# died NAME...: prints the first name whose process is gone.
died() {
    local n pid
    for n in "$@"; do
        if ! pid=$(pid_of "$n") || ! alive "$pid"; then
            echo "$n"
            return 0
        fi
    done
    return 1
}

# wait_up WHAT CHECK NAME...: polls CHECK until it succeeds, failing when a process of NAMES
# dies or CLUSTER_START_TIMEOUT passes.
wait_up() {
    local what=$1 check=$2 deadline dead
    shift 2
    deadline=$((SECONDS + CLUSTER_START_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if dead=$(died "$@"); then
            echo "cluster.sh: $dead exited while waiting for $what; log: $(log_tail "$dead")" >&2
            return 1
        fi
        $check && return 0
        sleep 0.2
    done
    echo "cluster.sh: $what not reached within ${CLUSTER_START_TIMEOUT}s" >&2
    return 1
}

cmd_start() {
    local i n pid t0=$SECONDS procs=()
    [ -n "$DIR" ] || usage_die "start: missing --dir DIR"
    is_uint "$BASE" && [ $((BASE % 100)) -eq 0 ] && [ "$BASE" -ge 1100 ] && [ "$BASE" -le 65400 ] ||
        usage_die "start: --base-port $BASE must be a multiple of 100 between 1100 and 65400"
    is_uint "$NBROKERS" && [ "$NBROKERS" -ge 1 ] && [ "$NBROKERS" -le 40 ] ||
        usage_die "start: --brokers must be 1..40"
    is_uint "$NCTLS" && [ "$NCTLS" -ge 1 ] && [ "$NCTLS" -le 10 ] ||
        usage_die "start: --controllers must be 1..10"
    [ "$NZK" = 1 ] || [ "$NZK" = 3 ] || usage_die "start: --zk-ensemble must be 1 or 3"
    mkdir -p "$DIR" || die "cannot create $DIR"
    DIR=$(cd "$DIR" && pwd)
    if [ -r "$DIR/cluster.conf" ]; then
        (
            load_conf
            for n in $(names); do
                if pid=$(pid_of "$n"); then
                    die "$DIR already runs $n (pid $pid): stop it first"
                fi
            done
        ) || exit 1
    fi
    check_overrides
    check_ports
    save_conf
    write_configs
    zk_start_all
    for ((i = 1; i <= NCTLS; i++)); do
        launch "controller-$i"
        procs+=("controller-$i")
    done
    for ((i = 1; i <= NBROKERS; i++)); do
        launch "broker-$i"
        procs+=("broker-$i")
    done
    if ! wait_up "every broker registered" all_registered "${procs[@]}" ||
        ! wait_up "an active controller" controller_active "${procs[@]}"; then
        cmd_stop >/dev/null 2>&1
        exit 1
    fi
    echo "cluster.sh: $NZK ZooKeeper, $NCTLS controller(s), $NBROKERS broker(s) up in $DIR" \
        "($((SECONDS - t0)) s)" >&2
    echo "bootstrap=$(bootstrap)"
    echo "zookeeper=$(zk_connect)"
}

cmd_stop() {
    local i rc=0 brokers=() ctls=()
    [ -n "$DIR" ] || usage_die "stop: missing --dir DIR"
    [ -r "$DIR/cluster.conf" ] || return 0
    load_conf
    for ((i = 1; i <= NBROKERS; i++)); do brokers+=("broker-$i"); done
    for ((i = 1; i <= NCTLS; i++)); do ctls+=("controller-$i"); done
    stop_names "${brokers[@]}" || rc=1
    stop_names "${ctls[@]}" || rc=1
    for ((i = 1; i <= NZK; i++)); do
        "$ZKSH" stop "$DIR/zk-$i" >/dev/null 2>&1 || rc=1
    done
    return $rc
}

cmd_status() {
    local n
    [ -n "$DIR" ] || usage_die "status: missing --dir DIR"
    load_conf
    for n in $(names); do
        echo "$n $(state_of "$n")"
    done
}

need_name() {
    [ -n "$DIR" ] || usage_die "$1: missing --dir DIR"
    [ -n "$NAME" ] || usage_die "$1: missing NAME (zk-1, controller-1, broker-1, ...)"
    load_conf
    known_name "$NAME" || usage_die "$1: no process '$NAME' in $DIR (see status)"
}

cmd_signal() {
    local cmd=$1 sig=$2 pid i
    need_name "$cmd"
    pid=$(pid_of "$NAME") || die "$cmd: $NAME is not running"
    kill "-$sig" "$pid" 2>/dev/null || die "$cmd: cannot signal $NAME (pid $pid)"
    if [ "$sig" = KILL ]; then
        for ((i = 0; i < 100; i++)); do
            alive "$pid" || return 0
            sleep 0.05
        done
        die "kill: $NAME (pid $pid) still alive after SIGKILL"
    fi
}

cmd_restart() {
    local deadline id
    need_name restart
    case "$NAME" in
    zk-*)
        "$ZKSH" stop "$DIR/$NAME" >/dev/null 2>&1
        zk_start_one "$NAME"
        return 0
        ;;
    esac
    stop_names "$NAME" || die "restart: $NAME did not stop"
    if [[ "$NAME" == broker-* ]]; then
        # A registration left by a killed broker lives until its session times out; a new
        # process with the same id would be refused until then.
        id=${NAME#broker-}
        deadline=$((SECONDS + CLUSTER_START_TIMEOUT))
        while registered "$id"; do
            [ "$SECONDS" -lt "$deadline" ] ||
                die "restart: /brokers/ids/$id still registered after ${CLUSTER_START_TIMEOUT}s"
            sleep 0.2
        done
        launch "$NAME"
        wait_up "broker $id registered" "registered $id" "$NAME" || exit 1
        return 0
    fi
    launch "$NAME"
    sleep 0.3
    if died "$NAME" >/dev/null; then
        die "restart: $NAME exited at start-up; log: $(log_tail "$NAME")"
    fi
}

main() {
    local cmd=${1:-}
    NAME=
    [ $# -ge 1 ] || {
        usage >&2
        exit 2
    }
    shift
    case "$cmd" in
    -h | --help | help)
        usage
        exit 0
        ;;
    esac
    while [ $# -gt 0 ]; do
        case "$1" in
        --dir)
            DIR=${2:-}
            shift 2 || usage_die "--dir needs a value"
            ;;
        --brokers)
            NBROKERS=${2:-}
            shift 2 || usage_die "--brokers needs a value"
            ;;
        --controllers)
            NCTLS=${2:-}
            shift 2 || usage_die "--controllers needs a value"
            ;;
        --base-port)
            BASE=${2:-}
            shift 2 || usage_die "--base-port needs a value"
            ;;
        --zk-ensemble)
            NZK=${2:-}
            shift 2 || usage_die "--zk-ensemble needs a value"
            ;;
        --override)
            [ $# -ge 2 ] || usage_die "--override needs key=value"
            OVERRIDES+=("$2")
            shift 2
            ;;
        -*)
            usage_die "$cmd: unknown option '$1'"
            ;;
        *)
            [ -z "$NAME" ] || usage_die "$cmd: unexpected argument '$1'"
            NAME=$1
            shift
            ;;
        esac
    done
    case "$cmd" in
    start | stop | status) [ -z "$NAME" ] || usage_die "$cmd: unexpected argument '$NAME'" ;;
    esac
    if [ -n "$DIR" ] && [ "$cmd" != start ]; then
        [ -d "$DIR" ] || die "$cmd: no folder $DIR"
        DIR=$(cd "$DIR" && pwd) || die "$cmd: cannot enter $DIR"
    fi
    case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    kill) cmd_signal kill KILL ;;
    pause) cmd_signal pause STOP ;;
    resume) cmd_signal resume CONT ;;
    restart) cmd_restart ;;
    *) usage_die "unknown command '$cmd' (start, stop, status, kill, restart, pause, resume)" ;;
    esac
}

main "$@"
