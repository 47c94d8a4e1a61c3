#!/usr/bin/env bash
# 0035_no_acked_loss: no acknowledged record is lost while partition leaders die (issue 6,
# test 1). 3 brokers, zookeeper.session.timeout.ms 4000, replica.lag.time.max.ms 5000,
# log.segment.bytes 256 KiB (every replica rolls several segments); topic nl: 6 partitions, RF 3,
# min.insync.replicas=2.
#
#   a. tests/integration/rdk_noloss.c produces "seq=<n>" records (key n, partition n % 6) with
#      acks=all, retries, no idempotence, for NOLOSS_SECS (default 60) seconds at NOLOSS_RATE
#      (default 2000) records/s, writing "partition offset seq" for every acknowledgement
#   b. meanwhile, every 5-10 s (at least 3 times), the leader of a random partition is SIGKILLed
#      and restarted 2-3 s later (`cluster.sh restart`, which waits for its old registration to expire); before the
#      next kill the script waits (bounded, 20 s) for every ISR to be full again, so at most one
#      broker is ever down and min.insync.replicas 2 of 3 can hold
#   c. the cluster settles (every ISR full, bounded 60 s); rdk_noloss verify reads every
#      partition from the beginning to its high watermark: every acknowledged record is at the
#      offset its delivery report gave, with its value; per partition the acknowledged sequence
#      numbers increase with the offset
#   d. the three replicas' logs of every partition are identical up to the HW (log_digest)
# Prints the counts: acked, consumed, duplicates, kills.
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/repl_lib.sh"
rp_need

SECS=${NOLOSS_SECS:-60}
NP=6
SESSION_MS=4000
kc_start --brokers 3 --controllers 1 --override zookeeper.session.timeout.ms=$SESSION_MS \
    --override broker:replica.lag.time.max.ms=5000 --override broker:log.segment.bytes=262144
adm topics create nl --partitions $NP --replication-factor 3 --config min.insync.replicas=2 \
    >/dev/null 2>"$T/create.err" || {
    not_ok "topic nl is created with min.insync.replicas=2 ($(head -c 300 "$T/create.err"))"
    exit 1
}
check "kcat sees a leader for the $NP partitions of nl" rp_wait 20 kc_leaders_seen nl $NP
check "every ISR of nl is full" rp_wait 15 rp_isr_full nl $NP

timeout $((SECS + 150)) "$RDK_NOLOSS" produce "$BOOTSTRAP" nl $NP "$SECS" "$T/acks.txt" \
    >"$T/produce.out" 2>"$T/produce.err" &
PROD=$!
START=$SECONDS
KILLS=0
SLOW_ISR=0
NEXT=$((5 + RANDOM % 6))
# Kills are 5-10 s apart (from one kill to the next, waiting longer when the previous restart or
# ISR recovery is slower); none in the producer's last 10 s so the last restart finishes while it
# still runs.
while kill -0 $PROD 2>/dev/null; do
    while [ $((SECONDS - START)) -lt "$NEXT" ] && kill -0 $PROD 2>/dev/null; do sleep 0.2; done
    [ $((SECONDS - START)) -lt $((SECS - 10)) ] && kill -0 $PROD 2>/dev/null || break
    p=$((RANDOM % NP))
    v=$(part_field "$(adm --json topics describe nl 2>/dev/null)" $p leader)
    if [ -z "$v" ] || [ "$v" -lt 1 ]; then
        echo "# no leader for nl-$p to kill at +$((SECONDS - START)) s"
        NEXT=$((SECONDS - START + 1))
        continue
    fi
    if ! cl_sh kill "broker-$v" >/dev/null 2>"$T/kill.err"; then
        echo "# could not kill broker $v: $(head -c 200 "$T/kill.err")"
        NEXT=$((SECONDS - START + 1))
        continue
    fi
    KILLS=$((KILLS + 1))
    NEXT=$((SECONDS - START + 5 + RANDOM % 6))
    echo "# +$((SECONDS - START)) s: killed broker $v (leader of nl-$p)"
    sleep $((2 + RANDOM % 2))
    if ! cl_sh restart "broker-$v" >/dev/null 2>"$T/restart.err"; then
        not_ok "broker $v restarts after kill $KILLS ($(head -c 300 "$T/restart.err"))"
        break
    fi
    echo "# +$((SECONDS - START)) s: broker $v restarted"
    if ! rp_wait 20 rp_isr_full nl $NP; then
        SLOW_ISR=$((SLOW_ISR + 1))
        echo "# +$((SECONDS - START)) s: the ISRs were not full 20 s after the restart of broker $v"
    fi
done
wait $PROD
rc=$?
if [ $rc -eq 0 ]; then
    ok "the producer finished: $(cat "$T/produce.out")"
else
    not_ok "the producer finishes (exit $rc: $(cat "$T/produce.out"); $(grep -v '^%' "$T/produce.err" | head -n 5 | tr '\n' ' '))"
fi
check "$KILLS leader kills were made (at least 3)" [ "$KILLS" -ge 3 ]
check "after every restart the ISRs were full again within 20 s ($SLOW_ISR times not)" \
    [ "$SLOW_ISR" -eq 0 ]
check "the cluster settles: every ISR of nl is full within 60 s" rp_wait 60 rp_isr_full nl $NP

out=$(timeout 180 "$RDK_NOLOSS" verify "$BOOTSTRAP" nl $NP "$T/acks.txt" 2>"$T/verify.err")
rc=$?
if [ $rc -eq 0 ]; then
    ok "every acknowledged record is at its offset with its value, in order ($out, kills=$KILLS)"
else
    not_ok "every acknowledged record is at its offset with its value, in order (exit $rc: $out, kills=$KILLS; $(head -n 8 "$T/verify.err" | tr '\n' ' '))"
fi
rp_all_digests_match nl $NP
