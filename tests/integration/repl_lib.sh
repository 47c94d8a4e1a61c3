# shellcheck shell=bash
# Helpers for the replication tests (0030..0035): ISRs, high watermarks and the comparison of
# the replicas' logs on disk. Source it after lib.sh, it_init, adm_cluster.sh and kafka_lib.sh.
#
#   rp_wait SECS CMD...         retry CMD every 0.1 s until it succeeds or SECS of wall-clock time
#                               pass (lib.sh's wait_for counts tries, which overruns when CMD
#                               itself takes a while, as samsa-admin + kcat calls do)
#   rp_isr TOPIC P              ISR of partition P as `topics describe --json` reports it ("1,2,3")
#   rp_replicas TOPIC P         its replica list ("1,2,3")
#   rp_meta TOPIC               kcat -L -t TOPIC through RP_KBOOT (default: every broker); a test
#                               that freezes a broker sets RP_KBOOT to the others, or kcat may
#                               wait on the frozen one
#   rp_kcat_isr TOPIC P         the "isrs:" field kcat -L shows for partition P
#   rp_same_set A B             A and B ("1,2,3" / "3,1,2") hold the same ids
#   rp_isr_full TOPIC NP        every partition's ISR (admin and kcat alike) = its replicas
#   rp_isr_without TOPIC P ID   the ISR of P (admin and kcat) is not empty and lacks ID
#   rp_hw TOPIC P               the high watermark of P (rdk_noloss hw: ListOffsets latest)
#   rp_digests_match TOPIC P    the log_digest of every replica of P up to its high watermark is
#                               the same, and reaches HW - 1; on failure sets RP_WHY
#   rp_all_digests_match TOPIC NP   the same for every partition; reports one check per partition
#   rp_produce TOPIC FILE ERR [KCAT ARGS...]   kcat -P -K: acks=all of FILE's key:value lines
#                               (through RP_KBOOT too);
#                               succeeds when kcat exits 0 and reports no failed delivery in
#                               ERR (connection errors to a dead broker are not failures)
#   rp_under_replicated TOPIC   the partition numbers `topics describe TOPIC --under-replicated
#                               --json` lists, space-separated (empty when every ISR is full)
#
# Why the high watermark comes from ListOffsets (librdkafka's query_watermark_offsets) while the
# cluster runs, and the logs are read in place: once the producers are done and every ISR is full
# (which the callers wait for first), the HW no longer moves, and every ISR member's log end is
# at or beyond it (HW = min LEO over the ISR), so the bytes below the HW are final on every
# replica and a read-only walk of the segment files is safe while the brokers run. The
# alternatives are weaker: replication-offset-checkpoint is written every
# replica.high.watermark.checkpoint.interval.ms (it lags) in a format the broker owns, and
# `kcat -o -1 -c 1` waits forever on an empty partition.

RDK_NOLOSS=$ITBIN/rdk_noloss
RDK_ACKS=$ITBIN/rdk_acks
LOG_DIGEST=$ITBIN/log_digest
RP_WHY=

rp_wait() {
    local deadline=$(($(date +%s%N) / 1000000 + $1 * 1000))
    shift
    while :; do
        "$@" && return 0
        [ $(($(date +%s%N) / 1000000)) -lt "$deadline" ] || return 1
        sleep 0.1
    done
}

rp_need() {
    local b
    for b in "$RDK_NOLOSS" "$RDK_ACKS" "$LOG_DIGEST"; do
        [ -x "$b" ] || {
            not_ok "helper program $b is built"
            exit 1
        }
    done
}

rp_meta() {
    timeout 15 "$KCAT" -b "${RP_KBOOT:-$BOOTSTRAP}" -m 5 -L -t "$1" 2>&1
}

rp_isr() {
    part_field "$(adm --json topics describe "$1" 2>/dev/null)" "$2" isr
}

rp_replicas() {
    part_field "$(adm --json topics describe "$1" 2>/dev/null)" "$2" replicas
}

rp_kcat_isr() {
    rp_meta "$1" | sed -n "s/^ *partition $2, leader .*isrs: \([0-9,]*\).*/\1/p" | head -n 1
}

rp_same_set() {
    [ -n "$1" ] && [ "$(tr ',' '\n' <<<"$1" | sort -n | tr '\n' ' ')" = \
        "$(tr ',' '\n' <<<"$2" | sort -n | tr '\n' ' ')" ]
}

rp_isr_full() {
    local js meta p reps isr kisr
    js=$(adm --json topics describe "$1" 2>/dev/null) || return 1
    meta=$(rp_meta "$1") || return 1
    for ((p = 0; p < $2; p++)); do
        reps=$(part_field "$js" "$p" replicas)
        isr=$(part_field "$js" "$p" isr)
        kisr=$(sed -n "s/^ *partition $p, leader .*isrs: \([0-9,]*\).*/\1/p" <<<"$meta" | head -n 1)
        rp_same_set "$reps" "$isr" && rp_same_set "$reps" "$kisr" || return 1
    done
}

rp_isr_without() {
    local isr kisr
    isr=$(rp_isr "$1" "$2")
    kisr=$(rp_kcat_isr "$1" "$2")
    [ -n "$isr" ] && [ -n "$kisr" ] || return 1
    [[ ",$isr," != *",$3,"* ]] && [[ ",$kisr," != *",$3,"* ]]
}

rp_hw() {
    timeout 30 "$RDK_NOLOSS" hw "$BOOTSTRAP" "$1" $(($2 + 1)) 2>/dev/null |
        awk -v p="$2" '$1 == p { print $3 }'
}

rp_produce() {
    local topic=$1 file=$2 err=$3 rc
    shift 3
    timeout 60 "$KCAT" -P -b "${RP_KBOOT:-$BOOTSTRAP}" -t "$topic" -K: -X acks=all -X message.timeout.ms=30000 \
        "$@" <"$file" >/dev/null 2>"$err"
    rc=$?
    [ $rc -eq 0 ] && ! grep -qi 'delivery failed\|failed to produce' "$err"
}

rp_under_replicated() {
    adm --json topics describe "$1" --under-replicated 2>/dev/null |
        grep -o '"partition": [0-9]*' | sed 's/.*: //' | tr '\n' ' ' | sed 's/ $//'
}

rp_digests_match() {
    local topic=$1 p=$2 hw reps b first='' out last
    RP_WHY=
    hw=$(rp_hw "$topic" "$p")
    reps=$(rp_replicas "$topic" "$p")
    if [ -z "$hw" ] || [ -z "$reps" ]; then
        RP_WHY="no high watermark ('$hw') or replicas ('$reps') for $topic-$p"
        return 1
    fi
    RP_HW=$hw
    for b in ${reps//,/ }; do
        out=$T/digest-$topic-$p-b$b
        if ! "$LOG_DIGEST" "$CL_DIR/broker-$b/data/$topic-$p" "$hw" >"$out" 2>"$out.err"; then
            RP_WHY="log_digest of broker $b failed: $(head -c 200 "$out.err")"
            return 1
        fi
        if [ -z "$first" ]; then
            first=$b
            RP_BATCHES=$(wc -l <"$out")
            last=$(tail -n 1 "$out" | cut -d ' ' -f 2)
            if [ "$hw" -gt 0 ] && [ "${last:-x}" != $((hw - 1)) ]; then
                RP_WHY="broker $b's log below HW $hw ends at offset ${last:-none}, not $((hw - 1))"
                return 1
            fi
        elif ! cmp -s "$T/digest-$topic-$p-b$first" "$out"; then
            RP_WHY="brokers $first and $b differ below HW $hw (base last epoch crc): $(diff \
                "$T/digest-$topic-$p-b$first" "$out" | grep '^[<>]' | head -n 6 | tr '\n' ' ')"
            return 1
        fi
    done
}

rp_all_digests_match() {
    local topic=$1 np=$2 p
    for ((p = 0; p < np; p++)); do
        if rp_digests_match "$topic" "$p"; then
            ok "$topic-$p: the replicas' logs are identical up to the HW $RP_HW ($RP_BATCHES batches)"
        else
            not_ok "$topic-$p: the replicas' logs are identical up to the HW ($RP_WHY)"
        fi
    done
}
