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
#   f. the batches are really compressed with the codec asked for, read from the segment files
#      of every replica (attributes & 7: none 0, gzip 1, snappy 2, lz4 3, zstd 4): no batch
#      carries another codec, and at most 5% of the records sit in uncompressed batches --
#      librdkafka sends a batch uncompressed when compressing does not shrink it (a lone short
#      record), and sends EVERY batch uncompressed for a codec it believes the broker lacks
#      ("Broker does not support compression type lz4": lz4 needs FindCoordinator v0 in
#      ApiVersions), which a-e cannot see.
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

# codec_bits CODEC: the attribute bits Kafka gives CODEC.
codec_bits() {
    case $1 in
    none) echo 0 ;; gzip) echo 1 ;; snappy) echo 2 ;; lz4) echo 3 ;; zstd) echo 4 ;; *) echo 7 ;;
    esac
}

# batch_codecs TOPIC BITS: "B R RAW OTHER" over the segment files of every replica of TOPIC: B
# batches holding R records, RAW of those records in uncompressed batches (attributes & 7 = 0)
# while BITS is not 0, and OTHER batches compressed with a codec other than BITS. Batch header
# (big-endian): 0 baseOffset int64 | 8 batchLength int32 | 16 magic int8 | 21 attributes int16
# | ... | 57 recordCount int32; the next batch starts 12 + batchLength further on. A header that
# does not fit, a batchLength below the v2 minimum (49) or a magic other than 2 ends the file.
batch_codecs() {
    local f size pos len cnt c i nb=0 nr=0 raw=0 other=0
    local -a h
    for f in "$CL_DIR"/broker-*/data/"$1"-*/*.log; do
        [ -f "$f" ] || continue
        size=$(stat -c %s "$f")
        pos=0
        for ((i = 0; i < 200000 && pos + 61 <= size; i++)); do
            read -r -a h <<<"$(od -An -tu1 -v -j "$pos" -N 61 "$f" | tr '\n' ' ')"
            [ "${#h[@]}" -eq 61 ] || break
            len=$((h[8] << 24 | h[9] << 16 | h[10] << 8 | h[11]))
            if [ "$len" -lt 49 ] || [ "${h[16]}" -ne 2 ]; then break; fi
            cnt=$((h[57] << 24 | h[58] << 16 | h[59] << 8 | h[60]))
            c=$((h[22] & 7))
            nb=$((nb + 1))
            nr=$((nr + cnt))
            if [ "$c" -ne "$2" ]; then
                if [ "$c" -eq 0 ]; then raw=$((raw + cnt)); else other=$((other + 1)); fi
            fi
            pos=$((pos + 12 + len))
        done
    done
    echo "$nb $nr $raw $other"
}

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
    bits=$(codec_bits "$codec")
    read -r nb nr nraw nother <<<"$(batch_codecs "$topic" "$bits")"
    check "$codec: $nb batches on disk ($nr records) carry codec bits $bits ($nraw records uncompressed, $nother batches of another codec)" \
        [ "$nb" -gt 0 -a "$nother" -eq 0 -a $((nraw * 20)) -le "$nr" ]
    rm -f "$T/out-$codec.txt" "$T/out-$codec.sorted"
done
