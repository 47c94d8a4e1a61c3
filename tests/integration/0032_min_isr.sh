#!/usr/bin/env bash
# 0032_min_isr: fewer live replicas than min.insync.replicas. Topic mi: 1 partition, RF 3,
# created with --config min.insync.replicas=2; zookeeper.session.timeout.ms 4000. Produces go
# through tests/integration/rdk_acks.c (librdkafka, no retries, so the broker's error surfaces).
#
#   a. acks=all works while the 3 replicas are in the ISR
#   b. SIGKILL the leader and one follower: within session + 8 s the controller makes the
#      survivor S the leader with ISR {S}
#   c. acks=all is refused with NOT_ENOUGH_REPLICAS (Kafka error 19) for every record; acks=1
#      succeeds
#   d. `cluster.sh restart` both killed brokers: within 30 s the ISR holds at least 2 replicas
#      (they caught up), and acks=all works again; all acks=1 / acks=all records delivered are
#      consumed, and none of the refused ones
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/repl_lib.sh"
rp_need

SESSION_MS=4000
kc_start --brokers 3 --controllers 1 --override zookeeper.session.timeout.ms=$SESSION_MS
adm topics create mi --partitions 1 --replication-factor 3 --config min.insync.replicas=2 \
    >/dev/null 2>"$T/create.err" || {
    not_ok "topic mi is created with min.insync.replicas=2 ($(head -c 300 "$T/create.err"))"
    exit 1
}
check "kcat sees a leader for mi-0" rp_wait 20 kc_leaders_seen mi 1

# acks NAME ACKS PREFIX COUNT: rdk_acks to mi-0; the output is in $T/NAME.out.
acks() {
    timeout 60 "$RDK_ACKS" "$BOOTSTRAP" mi 0 "$4" "$2" "$3" >"$T/$1.out" 2>"$T/$1.err"
}
# all_errors NAME ERR COUNT: every one of COUNT records got ERR.
all_errors() {
    [ "$(grep -c "^rec=[0-9]* err=$2 " "$T/$1.out")" -eq "$3" ]
}
summary() {
    echo "$(tail -n 1 "$T/$1.out") $(head -c 200 "$T/$1.err" | tr '\n' ' ')"
}

check "ISR of mi-0 is full" rp_wait 15 rp_isr_full mi 1
acks base all a 5
check "acks=all with 3 replicas in the ISR: 5 delivered ($(summary base))" all_errors base NO_ERROR 5

L=$(kc_leader mi 0)
S=
F=
for b in $(rp_replicas mi 0 | tr ',' ' '); do
    [ "$b" = "$L" ] && continue
    if [ -z "$S" ]; then S=$b; else F=$b; fi
done
cl_sh kill "broker-$L" >/dev/null
cl_sh kill "broker-$F" >/dev/null
KILL_MS=$(now_ms)
ok "killed the leader $L and the follower $F of mi-0; broker $S survives"

survivor_alone() {
    local js
    js=$(adm --json topics describe mi 2>/dev/null) || return 1
    [ "$(part_field "$js" 0 leader)" = "$S" ] && [ "$(part_field "$js" 0 isr)" = "$S" ]
}
LIMIT_S=$((SESSION_MS / 1000 + 8))
if rp_wait $LIMIT_S survivor_alone; then
    ok "the controller made broker $S the leader with ISR {$S} in $(($(now_ms) - KILL_MS)) ms"
else
    not_ok "the controller makes broker $S the leader with ISR {$S} within $LIMIT_S s ($(adm --json topics describe mi 2>&1 | head -c 300))"
fi
kc_led_by_s() {
    [ "$(kc_leader mi 0)" = "$S" ]
}
rp_wait 10 kc_led_by_s

acks short all x 3
check "acks=all with ISR {$S} < min.insync.replicas 2: NOT_ENOUGH_REPLICAS for all 3 records ($(summary short))" \
    all_errors short NOT_ENOUGH_REPLICAS 3
acks one 1 b 5
check "acks=1 with ISR {$S}: 5 delivered ($(summary one))" all_errors one NO_ERROR 5

for b in "$L" "$F"; do
    if cl_sh restart "broker-$b" >/dev/null 2>"$T/restart-$b.err"; then
        ok "broker $b restarts"
    else
        not_ok "broker $b restarts ($(head -c 300 "$T/restart-$b.err"))"
    fi
done
isr_two() {
    local isr
    isr=$(rp_isr mi 0)
    [ "$(tr ',' '\n' <<<"$isr" | grep -c .)" -ge 2 ]
}
RESTART_MS=$(now_ms)
if rp_wait 30 isr_two; then
    ok "the ISR of mi-0 holds $(rp_isr mi 0) $(($(now_ms) - RESTART_MS)) ms after the restarts"
else
    not_ok "the ISR of mi-0 grows back to 2+ replicas within 30 s (ISR $(rp_isr mi 0))"
fi
acks again all c 5
check "acks=all works again: 5 delivered ($(summary again))" all_errors again NO_ERROR 5

timeout 60 "$KCAT" -C -b "$BOOTSTRAP" -t mi -o beginning -e -q -f '%s\n' 2>/dev/null | sort >"$T/got.txt"
printf '%s\n' a0 a1 a2 a3 a4 b0 b1 b2 b3 b4 c0 c1 c2 c3 c4 | sort >"$T/want.txt"
check "the consumer sees the 15 delivered records and none of the refused ones ($(tr '\n' ' ' <"$T/got.txt" | head -c 200))" \
    cmp -s "$T/want.txt" "$T/got.txt"
