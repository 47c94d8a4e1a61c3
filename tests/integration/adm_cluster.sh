# shellcheck shell=bash
# Helpers for the control-plane integration tests (0011..0019): a whole cluster through
# scripts/cluster.sh, samsa-admin calls, and reading its one-line JSON without jq. Source it
# after lib.sh and it_init.
#
#   cl_start ARGS...        cluster.sh start in $T/cluster on a free base port (a random multiple
#                           of 100 in 20000..60000, retried when busy); sets CL_DIR, ZKC, BOOTSTRAP
#   cl_stop                 cluster.sh stop (the EXIT trap does it too)
#   cl_sh CMD ARGS...       cluster.sh CMD ARGS --dir $CL_DIR
#   cl_pid NAME             pid recorded for broker-2, controller-1, zk-1, ...
#   adm ARGS...             samsa-admin --zookeeper $ZKC --timeout-ms ${ADM_TIMEOUT:-5000} ARGS
#   now_ms                  monotonic-enough wall clock in ms
#   js_int JSON KEY         first integer value of "KEY" in JSON
#   part_field JSON P KEY   value of KEY in partition P's object of a topics describe --json
#
# Every wait is bounded; only processes of this cluster are signalled (by cluster.sh, by pid).

CLUSTER=$ROOT/scripts/cluster.sh
ADMIN=$BIN/samsa-admin
CL_DIR=
ZKC=
BOOTSTRAP=
export BIN CLUSTER_STOP_TIMEOUT=${CLUSTER_STOP_TIMEOUT:-5}

cl_stop() {
    if [ -n "$CL_DIR" ] && [ -r "$CL_DIR/cluster.conf" ]; then
        "$CLUSTER" stop --dir "$CL_DIR" >/dev/null 2>&1
    fi
}

# Stops the cluster, then lib.sh's cleanup (which keeps $T when a check failed).
cl_on_exit() {
    cl_stop
    it_cleanup
}
trap cl_on_exit EXIT

cl_start() {
    local base out
    CL_DIR=$T/cluster
    for _ in 1 2 3 4 5 6; do
        base=$(((200 + RANDOM % 120) * 100))
        out=$("$CLUSTER" start --dir "$CL_DIR" --base-port "$base" "$@" 2>"$T/cluster-start.err")
        if [ $? -eq 0 ]; then
            ZKC=$(sed -n 's/^zookeeper=//p' <<<"$out")
            BOOTSTRAP=$(sed -n 's/^bootstrap=//p' <<<"$out")
            CL_BASE=$base
            return 0
        fi
        grep -q "in use" "$T/cluster-start.err" || break
        rm -rf "$CL_DIR"
    done
    not_ok "cluster starts ($*): $(tail -n 2 "$T/cluster-start.err" | tr '\n' ' ')"
    exit 1
}

cl_sh() {
    local cmd=$1
    shift
    "$CLUSTER" "$cmd" "$@" --dir "$CL_DIR"
}

cl_pid() {
    case "$1" in
    zk-*) cat "$CL_DIR/$1/zk.pid" ;;
    *) cat "$CL_DIR/$1/pid" ;;
    esac
}

adm() {
    "$ADMIN" --zookeeper "$ZKC" --timeout-ms "${ADM_TIMEOUT:-5000}" "$@"
}

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

js_int() {
    grep -o "\"$2\": -\{0,1\}[0-9]*" <<<"$1" | head -n 1 | sed 's/.*: //'
}

# part_field JSON P KEY: leader / leader_epoch (a number) or replicas / isr ("1,2,3").
part_field() {
    local obj
    obj=$(grep -o "{\"partition\": $2, [^}]*}" <<<"$1" | head -n 1)
    case "$3" in
    replicas | isr)
        sed -n "s/.*\"$3\": \[\([^]]*\)\].*/\1/p" <<<"$obj" | tr -d ' '
        ;;
    *)
        js_int "$obj" "$3"
        ;;
    esac
}

# leaders_ready TOPIC N: every one of N partitions has a leader.
leaders_ready() {
    local js p l
    js=$(adm --json topics describe "$1" 2>/dev/null) || return 1
    for ((p = 0; p < $2; p++)); do
        l=$(part_field "$js" "$p" leader)
        [ -n "$l" ] && [ "$l" -ge 0 ] || return 1
    done
}

# active_controller: prints "ID EPOCH" of the active controller, fails when there is none.
active_controller() {
    local js
    js=$(adm --json controller 2>/dev/null) || return 1
    echo "$(js_int "$js" id) $(js_int "$js" epoch)"
}

# one_line_error WHAT RC WANT_RC ERRFILE TEXT: the run exited WANT_RC with exactly one stderr
# line containing TEXT.
one_line_error() {
    local what=$1 rc=$2 want=$3 file=$4 text=$5 lines
    lines=$(wc -l <"$file")
    if [ "$rc" -eq "$want" ] && [ "$lines" -eq 1 ] && grep -qF -- "$text" "$file"; then
        ok "$what"
    else
        not_ok "$what (exit $rc, want $want; $lines stderr lines: $(head -c 300 "$file"))"
    fi
}
