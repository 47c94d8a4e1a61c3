#!/usr/bin/env bash
# Builds bench_kafka and the programs, then measures Samsa's data plane on loopback:
#
#   1. the loopback baseline: iperf3 (Debian package iperf3) for 5 s, one TCP stream
#   2. a fresh cluster (scripts/cluster.sh: ZooKeeper, 1 controller, 1 broker) in a temporary
#      folder, topic `bench` with PARTITIONS partitions, replication factor 1
#   3. RECORDS (default 10,000,000) records of 100 bytes produced (acks ACKS, default 1), then
#      consumed back; then RECORDS_1K (default 1,000,000) records of 1 KiB produced into
#      `bench1k` and consumed CONSUME_RUNS (default 3) times, with the median against iperf3
#      and a paced run for latency: 100,000 records of 100 bytes at 10,000/s, acks -1
#   4. the broker's resident memory: the peak while the clients run (sampled every 0.5 s)
#      and when idle afterwards
#
# Each bench_kafka line gives records/s, MB/s and, for producers, the p50/p99/p99.9 latency
# from send to delivery report. The cluster and the folder are removed at the end.
#   RECORDS=1000000 bench/kafka.sh           # a quicker run
#   PARTITIONS=6 ACKS=-1 bench/kafka.sh
#   BUILD=build-perf BIN=build-perf/bin bench/kafka.sh
# Not part of `make test`: run it by hand and record the figures in docs/performance.md.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
RECORDS=${RECORDS:-10000000}
RECORDS_1K=${RECORDS_1K:-1000000}
PARTITIONS=${PARTITIONS:-1}
ACKS=${ACKS:-1}
CONSUME_RUNS=${CONSUME_RUNS:-3}
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_build

tmp=$(mktemp -d "${TMPDIR:-/tmp}/samsa-bench-kafka.XXXXXX")
SAMPLER=
IPERF=
cleanup() {
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
    [ -n "$IPERF" ] && kill "$IPERF" 2>/dev/null
    [ -r "$tmp/cluster/cluster.conf" ] && scripts/cluster.sh stop --dir "$tmp/cluster" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT

port_free() {
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

bench_machine

if command -v iperf3 >/dev/null; then
    p=$((20000 + RANDOM % 12000))
    while ! port_free $p; do p=$((p + 1)); done
    iperf3 -s -1 -B 127.0.0.1 -p $p >/dev/null 2>&1 &
    IPERF=$!
    sleep 0.5
    bps=$(timeout 30 iperf3 -c 127.0.0.1 -p $p -t 5 -f m 2>/dev/null |
        awk '/receiver/ { print $(NF - 2) }')
    IPERF=
    echo "loopback baseline (iperf3, 1 stream, 5 s): ${bps:-?} Mbit/s = $(awk -v m="${bps:-0}" 'BEGIN { printf "%.0f", m / 8 }') MB/s"
else
    echo "loopback baseline: iperf3 is not installed (apt-get install iperf3)"
fi

bench_cluster kafka.sh 1
BPID=$(cat "$tmp/cluster/broker-1/pid")
rss_kb() {
    awk '/VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null
}
grep -q samsa-broker "/proc/$BPID/cmdline" 2>/dev/null || {
    echo "kafka.sh: pid $BPID is not the broker" >&2
    exit 1
}
echo "cluster: 1 broker at $BOOT (pid $BPID), topic partitions $PARTITIONS, RF 1, acks $ACKS;" \
    "broker RSS at start $(($(rss_kb "$BPID") / 1024)) MiB"

topic() {
    "$BIN/samsa-admin" --zookeeper "$ZK" topics create "$1" --partitions "$PARTITIONS" \
        --replication-factor 1 >/dev/null || exit 1
    for _ in $(seq 1 100); do
        timeout 5 kcat -b "$BOOT" -L -t "$1" 2>/dev/null | grep -q 'leader 1,' && return 0
        sleep 0.1
    done
    echo "kafka.sh: topic $1 has no leader" >&2
    exit 1
}

# Peak RSS of the broker while the clients run.
( peak=0
  while kill -0 "$BPID" 2>/dev/null; do
      r=$(rss_kb "$BPID")
      [ -n "$r" ] && [ "$r" -gt "$peak" ] && { peak=$r; echo "$peak" >"$tmp/peak"; }
      sleep 0.5
  done ) &
SAMPLER=$!

topic bench
"$BK" produce --bootstrap "$BOOT" --topic bench --records "$RECORDS" --size 100 --acks "$ACKS" \
    --partitions "$PARTITIONS"
"$BK" consume --bootstrap "$BOOT" --topic bench --records "$RECORDS" --partitions "$PARTITIONS"
topic benchlat
echo "paced (latency without queueing): 100,000 records of 100 bytes at 10,000/s, acks -1, linger 0"
"$BK" produce --bootstrap "$BOOT" --topic benchlat --records 100000 --size 100 --acks -1 \
    --partitions "$PARTITIONS" --linger-ms 0 --rate 10000
topic bench1k
"$BK" produce --bootstrap "$BOOT" --topic bench1k --records "$RECORDS_1K" --size 1024 \
    --acks "$ACKS" --partitions "$PARTITIONS"
echo "1 KiB consumed $CONSUME_RUNS times (the figure is their median; librdkafka defaults:" \
    "max.partition.fetch.bytes 1 MiB, one fetch in flight per broker)"
for _ in $(seq 1 "$CONSUME_RUNS"); do
    "$BK" consume --bootstrap "$BOOT" --topic bench1k --records "$RECORDS_1K" \
        --partitions "$PARTITIONS"
done | tee "$tmp/consume1k"
awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^MB\/s=/) { sub(/MB\/s=/, "", $i); print $i } }' \
    "$tmp/consume1k" | sort -n | awk -v base="${bps:-0}" '{ v[NR] = $1 }
    END { if (NR == 0) exit; m = v[int((NR + 1) / 2)];
          r = 0; if (base > 0) r = m / (base / 8);
          printf "1 KiB consume median: %.1f MB/s = %.2fx of the loopback baseline\n", m, r }'
echo "broker RSS: peak while the clients ran $(($(cat "$tmp/peak" 2>/dev/null || echo 0) / 1024)) MiB" \
    "(sampled), VmHWM $(awk '/VmHWM/ { printf "%.1f MiB", $2 / 1024 }' "/proc/$BPID/status")"
sleep 3
echo "broker RSS: idle after the runs $(($(rss_kb "$BPID") / 1024)) MiB," \
    "log size on disk $(du -sh "$tmp/cluster/broker-1/data" | cut -f 1)"
