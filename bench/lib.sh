# shellcheck shell=bash disable=SC2034,SC2154 # sets BK, ZK, BOOT for the caller; reads its tmp
# bench/lib.sh: what bench/kafka.sh and bench/replication.sh share. Sourced from the repository
# root with BUILD and BIN set; `tmp` names the run's temporary folder.

# Builds bench_kafka, bench_hiccup and the three programs; makes BIN absolute (exported for cluster.sh) and
# sets BK to the bench_kafka program. Exits when the build fails.
bench_build() {
    make --no-print-directory BUILD="$BUILD" BIN="$BIN" "$BUILD/bench/bench_kafka" "$BUILD/bench/bench_hiccup" \
        "$BIN/samsa-broker" "$BIN/samsa-controller" "$BIN/samsa-admin" >/dev/null || exit 1
    case "$BIN" in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
    export BIN
    BK=$BUILD/bench/bench_kafka
}

# Prints the machine line: cores, memory, and the filesystem of $tmp.
bench_machine() {
    echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
        "filesystem of $tmp: $(df -hT "$tmp" | awk 'NR == 2 { print $2 }')"
}

# bench_cluster NAME BROKERS [cluster.sh start options...]: starts ZooKeeper, 1 controller and
# BROKERS brokers in $tmp/cluster at a random base port below the ephemeral range (5 tries);
# sets ZK and BOOT, or exits with one line naming NAME. BENCH_CLUSTER_PIN, if set, is a command
# prefix the cluster runs under (replication.sh's BENCH_PIN sets it to a taskset).
bench_cluster() {
    local name=$1 brokers=$2 out='' base
    shift 2
    for _ in 1 2 3 4 5; do
        base=$(((200 + RANDOM % 120) * 100)) # below the ephemeral range (32768+)
        # shellcheck disable=SC2086 # BENCH_CLUSTER_PIN is a command prefix (taskset) or empty
        out=$(${BENCH_CLUSTER_PIN:-} scripts/cluster.sh start --dir "$tmp/cluster" --brokers "$brokers" --controllers 1 \
            --base-port "$base" "$@" 2>"$tmp/start.err") && break
        rm -rf "$tmp/cluster"
        out=
    done
    [ -n "$out" ] || {
        echo "$name: the cluster did not start: $(cat "$tmp/start.err")" >&2
        exit 1
    }
    ZK=$(sed -n 's/^zookeeper=//p' <<<"$out")
    BOOT=$(sed -n 's/^bootstrap=//p' <<<"$out")
}
