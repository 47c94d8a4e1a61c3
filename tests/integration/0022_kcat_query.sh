#!/usr/bin/env bash
# 0022_kcat_query: ListOffsets through `kcat -Q -t topic:partition:timestamp` (librdkafka's
# offsetsForTimes, ListOffsets v1+).
#
# Three bursts of 100 messages are produced into partition 0 of a 2-partition topic, 1.2 s
# apart, so their CreateTime timestamps differ; partition 1 gets one burst. The timestamps are
# read back with `kcat -C -f %T`. Then:
#   a. for timestamps taken from the log (the first of each burst, the last, and ones between)
#      kcat -Q answers the first offset whose timestamp is >= the one asked for
#   b. a timestamp older than every message answers offset 0; one newer than every message
#      answers -1 (no such offset) or the end offset, as Kafka's clients print it
#   c. -2 (earliest) answers 0 and -1 (latest) answers the end offset (300)
#   d. inside one batch: rdk_client sends 10 records at 3/s with linger.ms 5000, alternating
#      partitions, so partition 1 gets one batch of 5 records with timestamps ~666 ms apart: the timestamp of the 3rd answers the 3rd's
#      offset, not the batch's first (Kafka looks at records, not only batches)
#   e. one query for two partitions answers both
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"

kc_start --brokers 3 --controllers 1
kc_topic q 2 3

burst() {
    seq "$2" "$3" | sed 's/^/m/' | timeout 30 "$KCAT" -P -b "$BOOTSTRAP" -t q -p "$1" -X acks=all -X message.timeout.ms=20000 \
        2>>"$T/produce.err"
}
burst 0 0 99
burst 1 0 99
sleep 1.2
burst 0 100 199
sleep 1.2
burst 0 200 299

timeout 30 "$KCAT" -C -b "$BOOTSTRAP" -t q -p 0 -o beginning -e -q -f '%o %T\n' >"$T/ts0.txt" 2>"$T/c0.err"
timeout 30 "$KCAT" -C -b "$BOOTSTRAP" -t q -p 1 -o beginning -e -q -f '%o %T\n' >"$T/ts1.txt" 2>"$T/c1.err"
check "300 messages in partition 0 and 100 in partition 1 ($(wc -l <"$T/ts0.txt"), $(wc -l <"$T/ts1.txt"))" \
    [ "$(wc -l <"$T/ts0.txt")" -eq 300 -a "$(wc -l <"$T/ts1.txt")" -eq 100 ]

# want TS FILE: the first offset whose timestamp is >= TS, or -1.
want() {
    awk -v t="$1" '$2 >= t { print $1; found = 1; exit } END { if (!found) print -1 }' "$2"
}
# query P TS: the offset kcat -Q prints for partition P.
query() {
    timeout 20 "$KCAT" -Q -b "$BOOTSTRAP" -t "q:$1:$2" 2>>"$T/query.err" |
        sed -n "s/.*\[$1\] *offset \(-\{0,1\}[0-9]*\).*/\1/p" | head -n 1
}

ts_of() {
    awk -v o="$1" '$1 == o { print $2 }' "$T/ts0.txt"
}
T0=$(ts_of 0)
T100=$(ts_of 100)
T150=$((T100 + 1))
T200=$(ts_of 200)
T299=$(ts_of 299)
check "the bursts have distinct timestamps ($T0 < $T100 < $T200)" \
    eval '[ -n "$T0" ] && [ -n "$T200" ] && [ "$T0" -lt "$T100" ] && [ "$T100" -lt "$T200" ]'

for ts in "$T0" "$T100" "$T150" "$T200" "$T299" $((T100 - 1)) $((T200 - 1)); do
    w=$(want "$ts" "$T/ts0.txt")
    g=$(query 0 "$ts")
    check "timestamp $ts -> offset $w (kcat -Q: ${g:-nothing})" [ "$g" = "$w" ]
done
g=$(query 0 $((T0 - 100000)))
check "a timestamp older than every message -> offset 0 (kcat -Q: ${g:-nothing})" [ "$g" = 0 ]
g=$(query 0 $((T299 + 100000)))
check "a timestamp newer than every message -> -1 or the end offset (kcat -Q: ${g:-nothing})" \
    [ "$g" = -1 -o "$g" = 300 ]
g=$(query 0 -2)
check "-2 (earliest) -> 0 (kcat -Q: ${g:-nothing})" [ "$g" = 0 ]
g=$(query 0 -1)
check "-1 (latest) -> 300 (kcat -Q: ${g:-nothing})" [ "$g" = 300 ]

RDK_RATE=3 RDK_LINGER=5000 RDK_ANY_OFFSET=1 timeout 60 "$ITBIN/rdk_client" produce "$BOOTSTRAP" q 2 \
    10 20 all >>"$T/produce.err" 2>&1
timeout 30 "$KCAT" -C -b "$BOOTSTRAP" -t q -p 1 -o 100 -e -q -f '%o %T\n' >"$T/slow.txt" 2>>"$T/c1.err"
S3=$(awk '$1 == 102 { print $2 }' "$T/slow.txt")
S2=$(awk '$1 == 101 { print $2 }' "$T/slow.txt")
if [ "$(wc -l <"$T/slow.txt")" -eq 5 ] && [ -n "$S3" ] && [ "$S2" -lt "$S3" ]; then
    # in_batch WHAT TS: 102 is Kafka's answer (FileRecords.searchForTimestamp walks the
    # records), not the batch's base offset 100.
    in_batch() {
        local g
        g=$(query 1 "$2")
        check "inside one batch: $1 -> offset 102 (kcat -Q: ${g:-nothing})" [ "$g" = 102 ]
    }
    in_batch "the 3rd record's timestamp $S3" "$S3"
    in_batch "a timestamp between the 2nd and 3rd records" $((S2 + 1))
else
    echo "# skipped the in-batch check: the 5 slow messages did not get distinct timestamps ($(tr '\n' ' ' <"$T/slow.txt"))"
fi

both=$(timeout 20 "$KCAT" -Q -b "$BOOTSTRAP" -t "q:0:$T100" -t "q:1:-1" 2>>"$T/query.err")
check "one query for two partitions answers both ($(tr '\n' ' ' <<<"$both"))" \
    eval "grep -q '\[0\] *offset 100' <<<\"\$both\" && grep -q '\[1\] *offset 105' <<<\"\$both\""
