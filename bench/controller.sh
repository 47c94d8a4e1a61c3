#!/usr/bin/env bash
# Builds bench_controller and samsa-controller, starts a private ZooKeeper (scripts/zk.sh) on
# a free loopback port in a fresh temporary folder, runs the controller take-over benchmark
# against it, then stops ZooKeeper and removes the folder. Extra arguments go to the
# benchmark, e.g.
#   bench/controller.sh                                  # 100 x 100 partitions, RF 3, 3 rounds
#   bench/controller.sh --rounds 5 --session-ms 6000
#   bench/controller.sh --topics 10 --partitions 1000
# Not part of `make test`: run it by hand and record the figures in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
make --no-print-directory BUILD="$BUILD" BIN="$BIN" "$BUILD/bench/bench_controller" \
    "$BIN/samsa-controller"

# A loopback port nobody listens on; base ports are multiples of 100 with their +10..+99 free.
port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
pick_base() {
    local base p ok i
    for i in $(seq 1 50); do
        base=$(((200 + RANDOM % 120) * 100)) # below the ephemeral range (32768+)
        ok=1
        for p in $((base + 1)) $((base + 10)) $((base + 11)) $((base + 41)) $((base + 42)) \
            $((base + 43)); do
            port_free "$p" || ok=0
        done
        if [ "$ok" = 1 ]; then
            echo "$base"
            return 0
        fi
    done
    return 1
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/samsa-bench-controller.XXXXXX")
cleanup() {
    scripts/zk.sh stop "$tmp/zk" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
base=$(pick_base)
scripts/zk.sh start "$tmp/zk" $((base + 1)) >/dev/null
"$BUILD/bench/bench_controller" run --zk "127.0.0.1:$((base + 1))" \
    --controller "$BIN/samsa-controller" --dir "$tmp/run" --base-port "$base" "$@"
