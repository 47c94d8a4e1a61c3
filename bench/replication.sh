#!/usr/bin/env bash
# Builds bench_kafka and the programs, then measures what replication costs on a 3-broker
# loopback cluster (issue 6's goals: RF 3 acks=all >= 50% of RF 1 acks=1, end-to-end p99 under
# 10 ms at half the maximum rate):
#
#   1. a fresh cluster (scripts/cluster.sh: ZooKeeper, 1 controller, 3 brokers) in a temporary
#      folder; topics of PARTITIONS partitions (default 3, so each broker leads one)
#   2. (a) RF 1, acks=1: RECORDS (default 10,000,000: about 10 s, a sustained rate rather than
#      a burst into librdkafka's queue) records of SIZE (default 100) bytes produced flat out --
#      records/s, MB/s, p50/p99 from send to delivery report
#   3. (b) RF 3, acks=all: the same into a replicated topic; prints the ratio (b)/(a)
#   4. (c) the end-to-end maximum: RF 3, acks=all, a producer and a consumer thread in one
#      process (bench_kafka e2e), E2E_MAX_RECORDS (default 4,000,000) records sent flat out;
#      the rate is the records over the time until the consumer held the last one
#   5. (d) RF 3, acks=all, paced at half of (c) for E2E_SECS (default 20) seconds, after
#      E2E_WARMUP (default 5) seconds at that rate that are not measured: end-to-end
#      latency from send to receipt by the consumer, p50/p99/p99.9 (the consumer only sees
#      records below the high watermark, so this includes replication). The goal is read here.
#   6. (e) the same paced at half of (b), for reference: (b) has no consumer, and where the
#      clients share the cores with the brokers, half of (b) can be more than the end-to-end
#      path sustains at all ((c)); the summary then says so, as its tail is queueing.
#   E2E_RATE=R paces (d) at R records/s instead of half of (c). The lines of (d) and (e) end
#   with busy=N%: how busy the cores were during the run (clients and cluster share them).
#   BENCH_TIMELINE=1 adds each second's worst latency; BENCH_SLOW=MS every record of MS ms or
#   more, with its partition, send time (CLOCK_MONOTONIC) and produce latency (bench_kafka.c).
#   BENCH_HICCUP=1 runs bench_hiccup beside (d) and (e) and prints its summary: how long each
#   core, and the whole machine, stopped running a real-time thread (bench_hiccup.c).
#   BENCH_PIN=1 runs the cluster on the first half of the CPUs and the clients on the rest.
#
# Before (c), (d) and (e) the script runs sync, so a phase does not pay for the writeback of the
# one before it. Each bench_kafka line gives its figures; the summary at the end gives the ratio and the goals.
# The cluster is stopped and the folder removed at the end (KEEP=1 keeps the folder).
#   RECORDS=2000000 E2E_SECS=10 bench/replication.sh    # a quicker run
#   PARTITIONS=6 SIZE=1024 bench/replication.sh
#   BUILD=build-perf BIN=build-perf/bin bench/replication.sh
#   CLUSTER_ARGS="--override broker:log.writeback.bytes=0" bench/replication.sh   # A/B a setting
# Not part of `make test`: run it by hand and record the figures in docs/performance.md.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
RECORDS=${RECORDS:-10000000}
E2E_MAX_RECORDS=${E2E_MAX_RECORDS:-4000000}
SIZE=${SIZE:-100}
PARTITIONS=${PARTITIONS:-3}
E2E_SECS=${E2E_SECS:-20}
E2E_WARMUP=${E2E_WARMUP:-5}
LAT_LINGER=${LAT_LINGER:-1}
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_build

tmp=$(mktemp -d "${TMPDIR:-/tmp}/samsa-bench-repl.XXXXXX")
cleanup() {
    [ -r "$tmp/cluster/cluster.conf" ] && scripts/cluster.sh stop --dir "$tmp/cluster" >/dev/null 2>&1
    if [ "${KEEP:-0}" = 1 ]; then
        echo "kept $tmp (broker logs in $tmp/cluster/broker-*/broker.log)"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

bench_machine

# BENCH_PIN=1: the cluster on the first half of the CPUs, the clients on the other half, as if
# they ran on a machine of their own (they still share the memory, the caches and the host).
CLIENT_PIN=
if [ "${BENCH_PIN:-0}" = 1 ]; then
    ncpu=$(nproc)
    [ "$ncpu" -ge 2 ] || {
        echo "replication.sh: BENCH_PIN=1 needs 2 or more CPUs, this machine has $ncpu" >&2
        exit 1
    }
    BENCH_CLUSTER_PIN="taskset -c 0-$((ncpu / 2 - 1))"
    CLIENT_PIN="taskset -c $((ncpu / 2))-$((ncpu - 1))"
    echo "pinned: cluster on CPUs 0-$((ncpu / 2 - 1)), clients on CPUs $((ncpu / 2))-$((ncpu - 1))"
fi

# shellcheck disable=SC2086 # CLUSTER_ARGS is a list of words on purpose
bench_cluster replication.sh 3 ${CLUSTER_ARGS:-}
echo "cluster: 3 brokers at $BOOT, topics of $PARTITIONS partitions, records of $SIZE bytes"

# topic NAME RF: create it, wait (bounded) until kcat sees a leader for every partition and, for
# RF > 1, a full ISR.
topic() {
    local i meta
    "$BIN/samsa-admin" --zookeeper "$ZK" topics create "$1" --partitions "$PARTITIONS" \
        --replication-factor "$2" >/dev/null || exit 1
    for ((i = 0; i < 200; i++)); do
        meta=$(timeout 5 kcat -b "$BOOT" -L -t "$1" 2>/dev/null)
        if [ "$(grep -c 'partition [0-9]*, leader [0-9]' <<<"$meta")" -eq "$PARTITIONS" ] &&
            [ "$(grep -c "isrs: \([0-9]*,\)\{$(($2 - 1))\}[0-9]*\$" <<<"$meta")" -eq "$PARTITIONS" ]; then
            return 0
        fi
        sleep 0.1
    done
    echo "replication.sh: topic $1 has no leaders or full ISRs after 20 s" >&2
    exit 1
}

# field LINE KEY: the value of KEY=... in a bench_kafka line.
field() {
    tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2; exit }'
}

topic rf1 1
echo "(a) RF 1, acks=1, flat out:"
A=$($CLIENT_PIN "$BK" produce --bootstrap "$BOOT" --topic rf1 --records "$RECORDS" --size "$SIZE" --acks 1 \
    --partitions "$PARTITIONS") || echo "replication.sh: (a) did not deliver every record" >&2
echo "  $A"

topic rf3 3
echo "(b) RF 3, acks=all, flat out:"
B=$($CLIENT_PIN "$BK" produce --bootstrap "$BOOT" --topic rf3 --records "$RECORDS" --size "$SIZE" --acks all \
    --partitions "$PARTITIONS") || echo "replication.sh: (b) did not deliver every record" >&2
echo "  $B"

RA=$(field "$A" records/s)
RB=$(field "$B" records/s)

# settle: the disk writes what earlier phases left in the page cache before the next phase is
# measured, so no phase pays for another's writeback (sync waits for it; the brokers are idle).
settle() {
    sync
    sleep 1
}

topic rf3max 3
settle
echo "(c) RF 3, acks=all, end to end flat out (producer and consumer together):"
C=$($CLIENT_PIN "$BK" e2e --bootstrap "$BOOT" --topic rf3max --records "$E2E_MAX_RECORDS" --size "$SIZE" \
    --acks all --partitions "$PARTITIONS" --linger-ms "$LAT_LINGER") ||
    echo "replication.sh: (c) did not see every record come back" >&2
echo "  $C"
RC=$(field "$C" records/s)

# cluster_ticks: CPU ticks (user + system) the cluster's processes have used so far: brokers,
# controller and ZooKeeper, by the pids scripts/cluster.sh recorded.
cluster_ticks() {
    local f pid sum=0 t
    for f in "$tmp"/cluster/*/pid "$tmp"/cluster/*/zk.pid; do
        pid=$(cat "$f" 2>/dev/null) || continue
        t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || continue
        sum=$((sum + ${t:-0}))
    done
    echo "$sum"
}

# ticks: the machine's busy and idle CPU ticks so far (/proc/stat; iowait counts as idle).
ticks() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat
}

# paced NAME RATE: an end-to-end run of E2E_SECS at RATE records/s into a fresh topic NAME; its
# line ends with busy=N%: how busy the machine's cores were over the whole run (clients and
# cluster together), as a tail is queueing once they are nearly full; and cluster_cpu=N%: the
# CPU the cluster's processes used, in percent of one core (bench_kafka's client_cpu is its own).
paced() {
    local t0 t1 c0 c1 w0 w1 out hiccup=''
    topic "$1" 3
    settle
    if [ "${BENCH_HICCUP:-0}" = 1 ]; then
        "$BUILD/bench/bench_hiccup" >"$tmp/hiccup.$1" &
        hiccup=$!
    fi
    t0=$(ticks)
    c0=$(cluster_ticks)
    w0=$(date +%s%N)
    out=$($CLIENT_PIN "$BK" e2e --bootstrap "$BOOT" --topic "$1" --records "$(($2 * E2E_SECS))" --size "$SIZE" \
        --acks all --partitions "$PARTITIONS" --rate "$2" --linger-ms "$LAT_LINGER" \
        --warmup-secs "$E2E_WARMUP") ||
        echo "replication.sh: the run at $2 records/s did not see every record come back" >&2
    t1=$(ticks)
    c1=$(cluster_ticks)
    w1=$(date +%s%N)
    if [ -n "${hiccup:-}" ]; then
        kill "$hiccup" && wait "$hiccup"
        grep '^hiccup:' "$tmp/hiccup.$1" >&2
    fi
    echo "$out busy=$(awk -v a="$t0" -v b="$t1" 'BEGIN { split(a, x, " "); split(b, y, " ")
        d = (y[1] - x[1]) + (y[2] - x[2]); printf "%.0f%%", (d > 0 ? 100 * (y[1] - x[1]) / d : 0) }') cluster_cpu=$(
        awk -v c="$((c1 - c0))" -v w="$((w1 - w0))" -v hz="$(getconf CLK_TCK)" \
            'BEGIN { printf "%.0f%%", (w > 0 ? 100 * c / hz / (w / 1e9) : 0) }')"
}

HALF_C=${E2E_RATE:-$(awk -v r="${RC:-0}" 'BEGIN { printf "%d", r / 2 }')}
HALF_B=$(awk -v r="${RB:-0}" 'BEGIN { printf "%d", r / 2 }')
if [ "${HALF_C:-0}" -lt 1 ] || [ "${HALF_B:-0}" -lt 1 ]; then
    echo "replication.sh: no rate from (b) or (c), cannot pace (d) and (e)" >&2
    exit 1
fi
echo "(d) RF 3, acks=all, paced at $HALF_C records/s (${E2E_RATE:+E2E_RATE, not }half of (c)) for $E2E_SECS s, end to end:"
D=$(paced rf3half "$HALF_C")
echo "  $D"
echo "(e) for reference, paced at $HALF_B records/s (half of (b)) for $E2E_SECS s, end to end:"
E=$(paced rf3halfb "$HALF_B")
echo "  $E"

awk -v a="${RA:-0}" -v b="${RB:-0}" -v c="${RC:-0}" -v hc="$HALF_C" -v hb="$HALF_B" \
    -v d="$(field "$D" p99_ms)" -v e="$(field "$E" p99_ms)" -v db="$(field "$D" busy)" 'BEGIN {
    ratio = a > 0 ? b / a : 0
    if (d == "") d = 999999
    if (e == "") e = 999999
    printf "summary: RF 3 acks=all / RF 1 acks=1 = %.0f / %.0f records/s = %.2f (goal >= 0.50: %s)\n",
        b, a, ratio, (ratio >= 0.5 ? "met" : "NOT met")
    printf "summary: end-to-end maximum (producer and consumer together) = %.0f records/s\n", c
    printf "summary: end-to-end p99 at %d records/s (half of the end-to-end maximum unless E2E_RATE) = %.2f ms (goal < 10 ms: %s; the cores were %s busy)\n",
        hc, d, (d < 10 ? "met" : "NOT met"), (db == "" ? "?" : db)
    printf "summary: for reference, end-to-end p99 at %d records/s (half of (b)) = %.2f ms%s\n",
        hb, e, (c > 0 && hb > c ? sprintf(" (%.0f%% of the end-to-end maximum: more than the path sustains)", 100 * hb / c) : "")
}'
