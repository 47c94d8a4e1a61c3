#!/usr/bin/env bash
# 0023_librdkafka: tests/integration/rdk_client.c, a C program on librdkafka, against a
# 3-broker cluster.
#
#   a. acks=all producer, 20,000 records of 200 bytes over 4 partitions (record i to partition
#      i % 4): every delivery report succeeds and gives offset i / 4 in partition i % 4
#   b. the legacy consumer (rd_kafka_consume_start by partition and offset) reads every record
#      from offset 0 and checks offset, key, value and header byte for byte
#   c. the same from offset 1000 of each partition (a fetch that starts inside a batch)
#   d. acks=1 with lz4, 3,000 records of 4 KiB over 2 partitions, read back and checked
#   e. a record of 0 bytes (empty value) goes through too
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"

RDK=$ITBIN/rdk_client
[ -x "$RDK" ] || {
    not_ok "rdk_client is built ($RDK)"
    exit 1
}
kc_start --brokers 3 --controllers 1

# run WHAT ARGS...: rdk_client ARGS, reported with its summary line.
run() {
    local what=$1 out rc
    shift
    out=$(timeout 120 "$RDK" "$@" 2>"$T/rdk.err")
    rc=$?
    if [ $rc -eq 0 ]; then
        ok "$what ($out)"
    else
        not_ok "$what (exit $rc: $out $(head -c 400 "$T/rdk.err" | tr '\n' ' '))"
    fi
}

kc_topic a 4 3
run "acks=all: 20000 records delivered, each at the expected partition and offset" \
    produce "$BOOTSTRAP" a 4 20000 200 all
run "legacy consumer reads all 20000 records from offset 0, byte for byte" \
    consume "$BOOTSTRAP" a 4 20000 200 0
run "legacy consumer reads from offset 1000 of each partition" \
    consume "$BOOTSTRAP" a 4 20000 200 1000

kc_topic b 2 3
run "acks=1 + lz4: 3000 records of 4 KiB delivered" produce "$BOOTSTRAP" b 2 3000 4096 1 lz4
run "acks=1 + lz4: read back and checked" consume "$BOOTSTRAP" b 2 3000 4096 0

kc_topic c 1 3
run "an empty value is delivered" produce "$BOOTSTRAP" c 1 10 0 all
run "an empty value is read back" consume "$BOOTSTRAP" c 1 10 0 0
