#!/usr/bin/env bash
# 0027_listoffsets_compressed: ListOffsets by timestamp (`kcat -Q -t topic:partition:ts`) looks
# inside compressed batches, as Kafka does, for each of the four codecs.
#
# For each codec (gzip, snappy, lz4, zstd) ts_produce (librdkafka, compression.codec=CODEC,
# linger.ms 2000) sends 5 compressible records with CreateTime timestamps B, B+100, ... B+400
# into its own partition of a 4-partition topic, in one batch. Then, per partition:
#   a. the 5 records read back, and the segment file starts with one batch of 5 records
#      carrying the codec's attribute bits -- lz4 included: librdkafka ties its lz4 feature to
#      FindCoordinator v0 in ApiVersions and would otherwise send that batch uncompressed
#      ("Broker does not support compression type lz4").
#   b. B+300 answers offset 3 and B+150 answers offset 2 -- records inside the batch, not its
#      base offset 0
#   c. B and anything before it answer 0; B+401 answers -1 or 5 (no such record)
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"

kc_start --brokers 1 --controllers 1
kc_topic z 4 1

CODECS=(gzip snappy lz4 zstd)
B=$(($(date +%s%3N) - 60000))

for p in 0 1 2 3; do
    c=${CODECS[$p]}
    timeout 60 "$ITBIN/ts_produce" "$BOOTSTRAP" z "$p" "$c" 5 "$B" 100 >"$T/produce-$c.out" \
        2>"$T/produce-$c.err" &
done
wait

# query P TS: the offset kcat -Q prints for partition P.
query() {
    timeout 20 "$KCAT" -Q -b "$BOOTSTRAP" -t "z:$1:$2" 2>>"$T/query.err" |
        sed -n "s/.*\[$1\] *offset \(-\{0,1\}[0-9]*\).*/\1/p" | head -n 1
}

# be_int FILE POS LEN: the big-endian unsigned integer of LEN bytes at POS of FILE.
be_int() {
    local v=0 b
    for b in $(od -An -tu1 -j "$2" -N "$3" "$1" 2>/dev/null); do
        v=$((v * 256 + b))
    done
    echo "$v"
}

# expect P WHAT TS WANT...: kcat -Q for TS in partition P answers one of WANT.
expect() {
    local p=$1 what=$2 ts=$3 g w
    shift 3
    g=$(query "$p" "$ts")
    for w in "$@"; do
        if [ "$g" = "$w" ]; then
            ok "$what -> offset $g"
            return
        fi
    done
    not_ok "$what -> offset $* (kcat -Q: ${g:-nothing})"
}

for p in 0 1 2 3; do
    c=${CODECS[$p]}
    n=$(timeout 30 "$KCAT" -C -b "$BOOTSTRAP" -t z -p "$p" -o beginning -e -q -f '%o\n' 2>>"$T/consume.err" | wc -l)
    check "$c: 5 records read back ($n; $(tr '\n' ' ' <"$T/produce-$c.out"))" [ "$n" -eq 5 ]
    seg=$CL_DIR/broker-1/data/z-$p/00000000000000000000.log
    attrs=$(be_int "$seg" 21 2)
    count=$(be_int "$seg" 57 4)
    check "$c: the segment starts with one batch of 5 records, codec bits $((p + 1)) (count $count, attributes $attrs)" \
        [ "$count" = 5 -a "$((attrs & 7))" = $((p + 1)) ]
    expect "$p" "$c batch: the 4th record's timestamp" $((B + 300)) 3
    expect "$p" "$c batch: a timestamp between the 2nd and 3rd records" $((B + 150)) 2
    expect "$p" "$c batch: the first record's timestamp" "$B" 0
    expect "$p" "$c batch: a timestamp before every record" $((B - 1000)) 0
    expect "$p" "$c batch: a timestamp after the last record" $((B + 401)) -1 5
done
