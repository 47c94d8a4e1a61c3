# Shared helpers for integration scripts (source it; bash only).
#
#   it_init                 make a private temp folder $T, stop everything we started on exit
#   it_free_port            print a loopback TCP port nobody listens on
#   it_zk_start             start a real ZooKeeper in $T/zk; sets ZK=127.0.0.1:PORT
#   it_spawn NAME CMD...    start CMD in the background, log to $T/NAME.log, record its pid
#   it_pid NAME             pid of a spawned process
#   ok / not_ok / check     report checks as "ok - ..." / "not ok - ..." (run-tests.sh counts them)
#   wait_for SECS CMD...    retry CMD every 0.1 s until it succeeds or SECS pass
#
# Only processes this script started are ever signalled, always by pid.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
case "$BUILD" in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
case "$BIN" in /*) ;; *) BIN=$ROOT/$BIN ;; esac
ITBIN=$BUILD/tests/integration
declare -A IT_PIDS=()
IT_FAILED=0
IT_ZK_DIR=

it_cleanup() {
    local n
    for n in "${!IT_PIDS[@]}"; do
        kill -CONT "${IT_PIDS[$n]}" 2>/dev/null
        kill -KILL "${IT_PIDS[$n]}" 2>/dev/null
    done
    if [ -n "$IT_ZK_DIR" ]; then
        "$ROOT/scripts/zk.sh" stop "$IT_ZK_DIR" >/dev/null 2>&1
    fi
    if [ "${KEEP:-0}" = 1 ] || [ "$IT_FAILED" -ne 0 ]; then
        echo "# kept $T"
    else
        rm -rf "$T"
    fi
}

it_init() {
    T=$(mktemp -d "${TMPDIR:-/tmp}/samsa-it.XXXXXX")
    trap it_cleanup EXIT
}

it_free_port() {
    local p i
    for i in $(seq 1 200); do
        p=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

it_zk_start() {
    local port
    port=$(it_free_port)
    IT_ZK_DIR=$T/zk
    "$ROOT/scripts/zk.sh" start "$IT_ZK_DIR" "$port" >"$T/zk-start.log" 2>&1 || {
        cat "$T/zk-start.log"
        not_ok "zookeeper starts on 127.0.0.1:$port"
        exit 1
    }
    ZK=127.0.0.1:$port
    ZK_PORT=$port
}

it_spawn() {
    local name=$1
    shift
    "$@" >"$T/$name.log" 2>&1 &
    IT_PIDS[$name]=$!
}

it_pid() {
    echo "${IT_PIDS[$1]}"
}

ok() {
    echo "ok - $*"
}

not_ok() {
    IT_FAILED=1
    echo "not ok - $*"
}

# check "what" CMD...: runs CMD, reports ok or not ok.
check() {
    local what=$1
    shift
    if "$@"; then
        ok "$what"
    else
        not_ok "$what"
    fi
}

wait_for() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
