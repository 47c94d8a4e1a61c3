#!/usr/bin/env bash
# 0021_kcat_roundtrip: N (default 100,000) keyed messages with two headers, produced with
# `kcat -P` (acks=all) into a 6-partition topic of a 3-broker cluster, then consumed back with
# `kcat -C -o beginning -e`, once uncompressed and once per codec (gzip, snappy, lz4, zstd:
# Debian's librdkafka 2.0.2 has all four).
#
#   a. kcat reports no failed delivery
#   b. what comes back is byte-identical to what went in (same key/value pairs, same count)
#   c. every message carries its headers
#   d. per partition: offsets strictly increase, and the sequence numbers of the messages
#      (produced in order) increase too -- the order of each key is kept; a key lives in one
#      partition
#   e. the messages are spread over all 6 partitions
# RT_N scales the count (e.g. RT_N=20000 on a slow machine); RT_CODECS picks the codecs.
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"

N=${RT_N:-100000}
NP=6
CODECS=${RT_CODECS:-none gzip snappy lz4 zstd}
kc_start --brokers 3 --controllers 1

# key:value lines; values of varied length and content, each starting with its sequence number.
awk -v n="$N" 'BEGIN {
    srand(42)
    cs = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;!?-_=+/()[]{}@#$%^&*~"
    for (i = 0; i < n; i++) {
        len = 1 + int(rand() * 120)
        s = ""
        for (j = 0; j < len; j++)
            s = s substr(cs, 1 + int(rand() * length(cs)), 1)
        printf "key-%d:%d|%s\n", i % 997, i, s
    }
}' >"$T/in.txt"
sed 's/:/\t/' "$T/in.txt" | LC_ALL=C sort >"$T/in.sorted"

for codec in $CODECS; do
    topic=rt-$codec
    kc_topic "$topic" $NP 3
    start=$(now_ms)
    timeout 180 "$KCAT" -P -b "$BOOTSTRAP" -t "$topic" -K : -z "$codec" -X acks=all \
        -X linger.ms=20 -X message.timeout.ms=60000 -H app=samsa -H codec="$codec" <"$T/in.txt" 2>"$T/p-$codec.err"
    rc=$?
    pms=$(($(now_ms) - start))
    if [ $rc -eq 0 ] && ! grep -qi 'fail\|error' "$T/p-$codec.err"; then
        ok "$codec: kcat produced $N messages with acks=all in $pms ms"
    else
        not_ok "$codec: kcat produces $N messages (exit $rc: $(head -c 300 "$T/p-$codec.err"))"
    fi

    start=$(now_ms)
    timeout 180 "$KCAT" -C -b "$BOOTSTRAP" -t "$topic" -o beginning -e -q \
        -f '%p\t%o\t%k\t%s\t%h\n' >"$T/out-$codec.txt" 2>"$T/c-$codec.err"
    rc=$?
    cms=$(($(now_ms) - start))
    got=$(wc -l <"$T/out-$codec.txt")
    check "$codec: kcat consumed $got of $N messages in $cms ms (exit $rc)" [ "$got" -eq "$N" ]

    cut -f 3,4 "$T/out-$codec.txt" | LC_ALL=C sort >"$T/out-$codec.sorted"
    check "$codec: the consumed key/value pairs are byte-identical to the produced ones" \
        cmp -s "$T/in.sorted" "$T/out-$codec.sorted"
    bad=$(awk -F '\t' -v c="$codec" '$5 != "app=samsa,codec=" c' "$T/out-$codec.txt" | wc -l)
    check "$codec: every message carries its headers ($bad without)" [ "$bad" -eq 0 ]
    # Per partition, in the order kcat printed them: offsets and sequence numbers increase.
    order=$(awk -F '\t' '
        { split($4, v, "|"); seq = v[1] + 0
          if (($1 in lo) && ($2 <= lo[$1] || seq <= ls[$1])) bad++
          lo[$1] = $2; ls[$1] = seq
          if (($3 in kp) && kp[$3] != $1) split_keys++
          kp[$3] = $1; parts[$1] = 1 }
        END { n = 0; for (p in parts) n++; printf "%d %d %d\n", bad + 0, split_keys + 0, n }' \
        "$T/out-$codec.txt")
    read -r obad osplit oparts <<<"$order"
    check "$codec: per partition, offsets and sequence numbers increase ($obad out of order)" \
        [ "$obad" -eq 0 ]
    check "$codec: each key lives in one partition ($osplit moved)" [ "$osplit" -eq 0 ]
    check "$codec: messages landed in all $NP partitions ($oparts)" [ "$oparts" -eq $NP ]
    rm -f "$T/out-$codec.txt" "$T/out-$codec.sorted"
done
