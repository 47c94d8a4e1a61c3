#!/usr/bin/env bash
# 0028_topic_config: a topic's config overrides reach its logs. One broker
# (log.retention.check.interval.ms 1000, zookeeper.session.timeout.ms 4000), four topics of
# 1 partition, RF 1:
#
#   a. seg, created with --config segment.bytes=65536: 600 records of about 1000 bytes,
#      produced by kcat in batches under 16 KiB, leave at least 6 segments in seg-0; plain,
#      without overrides, gets the same records into 1 segment (log.segment.bytes is 1 GiB)
#   b. `topics alter seg --config retention.bytes=131072`: within 20 s the oldest segments are
#      deleted (the first offset kcat reads is above 0) and at most 4 segments are left, while
#      plain keeps offset 0
#   c. small, created with --config max.message.bytes=1000: a record of 3000 bytes is refused
#      with MESSAGE_TOO_LARGE, a record of 100 bytes is delivered; plain takes 3000 bytes
#   d. `topics alter seg --delete-config retention.bytes`: the broker logs that it read the
#      change, and the broker's retention (7 days) applies again: 100 more records keep the
#      first offset where it was
#   e. ts, created with --config message.timestamp.type=LogAppendTime: a record produced with
#      a CreateTime of 2001 is read back with the broker's time (within a minute of now)
#   f. SIGKILL and restart the broker: its logs open with the broker's settings before it reads
#      the topics' configs, and still take them: 300 more records into seg add at least 3
#      segments
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"

kc_start --brokers 1 --controllers 1 --override broker:log.retention.check.interval.ms=1000 \
    --override zookeeper.session.timeout.ms=4000

create() {
    local name=$1
    shift
    adm topics create "$name" --partitions 1 --replication-factor 1 "$@" >/dev/null \
        2>"$T/create-$name.err" || {
        not_ok "topic $name is created ($(head -c 300 "$T/create-$name.err"))"
        exit 1
    }
    wait_for 20 kc_leaders_seen "$name" 1 || {
        not_ok "kcat sees a leader for $name-0"
        exit 1
    }
}
create seg --config segment.bytes=65536
create plain
create small --config max.message.bytes=1000
create ts --config message.timestamp.type=LogAppendTime
ok "topics seg, plain, small and ts are created and led"

DATA=$CL_DIR/broker-1/data

# produce TOPIC FILE NAME [kcat -X options]: kcat, acks=all, batches under 16 KiB; true when
# every record was delivered. Its stderr is in $T/NAME.err.
produce() {
    local topic=$1 file=$2 name=$3
    shift 3
    timeout 60 "$KCAT" -P -b "$BOOTSTRAP" -t "$topic" -p 0 -X acks=all -X batch.size=16384 \
        -X message.timeout.ms=20000 "$@" <"$file" >/dev/null 2>"$T/$name.err" &&
        ! grep -qi 'delivery failed\|failed to produce' "$T/$name.err"
}
segments() {
    compgen -G "$DATA/$1-0/*.log" | wc -l
}
first_offset() {
    timeout 20 "$KCAT" -C -b "$BOOTSTRAP" -t "$1" -p 0 -o beginning -c 1 -e -f '%o\n' 2>/dev/null |
        head -n 1
}

# a. segment.bytes
awk 'BEGIN { v = sprintf("%0990d", 0); for (i = 0; i < 600; i++) printf "r%05d-%s\n", i, v }' \
    >"$T/big.txt"
check "600 records of 1000 bytes into seg ($(head -c 200 "$T/seg.err" 2>/dev/null))" \
    produce seg "$T/big.txt" seg
check "the same into plain" produce plain "$T/big.txt" plain
n=$(segments seg)
if [ "$n" -ge 6 ]; then
    ok "seg-0 rolled at its segment.bytes of 65536: $n segments for about 600 KB"
else
    not_ok "seg-0 rolls at its segment.bytes of 65536: $n segments for about 600 KB ($(ls -l "$DATA/seg-0" | head -n 12 | tr '\n' ' '))"
fi
check "plain-0 keeps the broker's 1 GiB segments: 1 segment ($(segments plain))" \
    test "$(segments plain)" -eq 1

# b. retention.bytes, altered
adm topics alter seg --config retention.bytes=131072 >/dev/null 2>"$T/alter.err"
check "topics alter seg --config retention.bytes=131072 ($(head -c 200 "$T/alter.err"))" \
    test ! -s "$T/alter.err"
retained() {
    local f
    f=$(first_offset seg)
    [ -n "$f" ] && [ "$f" -gt 0 ] && [ "$(segments seg)" -le 4 ]
}
if wait_for 20 retained; then
    ok "seg-0 deleted its oldest segments for retention.bytes: first offset $(first_offset seg), $(segments seg) segments"
else
    not_ok "seg-0 deletes its oldest segments for retention.bytes within 20 s (first offset '$(first_offset seg)', $(segments seg) segments)"
fi
check "plain still starts at offset 0" test "$(first_offset plain)" = 0

# c. max.message.bytes
awk 'BEGIN { printf "%03000d\n", 0 }' >"$T/huge.txt"
echo small-record >"$T/tiny.txt"
if produce small "$T/huge.txt" small-huge; then
    not_ok "a 3000-byte record into small (max.message.bytes=1000) is refused, but it was delivered"
elif grep -qi 'too large' "$T/small-huge.err"; then
    ok "a 3000-byte record into small is refused: $(grep -i -m 1 'too large' "$T/small-huge.err" | head -c 160)"
else
    not_ok "a 3000-byte record into small is refused with MESSAGE_TOO_LARGE ($(head -c 300 "$T/small-huge.err"))"
fi
check "a 100-byte record into small is delivered ($(head -c 200 "$T/small-tiny.err" 2>/dev/null))" \
    produce small "$T/tiny.txt" small-tiny
check "a 3000-byte record into plain is delivered" produce plain "$T/huge.txt" plain-huge

# d. deleting the override restores the broker's retention
before=$(first_offset seg)
reads() {
    grep -c 'topic seg: config read' "$CL_DIR/broker-1/broker.log"
}
n_reads=$(reads)
adm topics alter seg --delete-config retention.bytes >/dev/null 2>"$T/alter2.err"
check "topics alter seg --delete-config retention.bytes ($(head -c 200 "$T/alter2.err"))" \
    test ! -s "$T/alter2.err"
read_again() {
    [ "$(reads)" -gt "$n_reads" ]
}
check "the broker logs that it read seg's altered config" wait_for 10 read_again
head -n 100 "$T/big.txt" >"$T/more.txt"
check "100 more records into seg" produce seg "$T/more.txt" seg-more
sleep 3 # three retention passes
check "with the broker's retention again, seg-0 keeps its first offset ($before, now $(first_offset seg))" \
    test "$(first_offset seg)" = "$before"

# e. message.timestamp.type=LogAppendTime
if [ -x "$ITBIN/ts_produce" ]; then
    timeout 60 "$ITBIN/ts_produce" "$BOOTSTRAP" ts 0 none 1 978307200000 1 >"$T/ts.out" 2>"$T/ts.err"
    ts=$(timeout 20 "$KCAT" -C -b "$BOOTSTRAP" -t ts -p 0 -o beginning -c 1 -e -f '%T\n' 2>/dev/null | head -n 1)
    now=$(now_ms)
    if [ -n "$ts" ] && [ "$ts" -gt $((now - 60000)) ] && [ "$ts" -le $((now + 1000)) ]; then
        ok "a record with CreateTime 2001 into ts (LogAppendTime) reads back with the broker's time ($ts)"
    else
        not_ok "a record with CreateTime 2001 into ts (LogAppendTime) reads back with the broker's time (got '$ts', now $now; $(cat "$T/ts.out" "$T/ts.err" | head -c 200))"
    fi
else
    not_ok "ts_produce is built ($ITBIN/ts_produce)"
fi

# f. after a restart the logs take their topic's config again
n=$(segments seg)
cl_sh kill broker-1 >/dev/null
if cl_sh restart broker-1 >/dev/null 2>"$T/restart.err" && wait_for 30 kc_leaders_seen seg 1; then
    ok "broker 1 is SIGKILLed and restarted"
else
    not_ok "broker 1 restarts ($(head -c 300 "$T/restart.err"))"
fi
head -n 300 "$T/big.txt" >"$T/after.txt"
check "300 records into seg after the restart ($(head -c 200 "$T/seg-after.err" 2>/dev/null))" \
    produce seg "$T/after.txt" seg-after
m=$(segments seg)
check "seg-0 still rolls at 65536 after the restart: $n segments before, $m after 300 KB" \
    test "$m" -ge $((n + 3))
