#!/usr/bin/env bash
# 0033_divergence: a leader with an unreplicated tail dies; a new leader takes writes; the old
# leader comes back and truncates its tail (KIP-101/279). Topic dv: 1 partition, RF 3,
# min.insync.replicas 1; replica.lag.time.max.ms 10000 (the followers' freeze below is much
# shorter, so the ISR keeps them), zookeeper.session.timeout.ms 6000.
#
#   a. 50 records a0..a49 with acks=all; the ISR is full
#   b. both followers of dv-0 are frozen (SIGSTOP); 1 s later (so no fetch of theirs is parked
#      at the leader) 20 records t0..t19 go to the leader L with acks=1 (acknowledged by L alone:
#      the HW cannot cover them); then L is SIGKILLed and the followers thawed (SIGCONT) --
#      about 3 s of freeze in all
#   c. within session + 10 s the controller elects a new leader N from the ISR (not L); N's log
#      ends at 50 (the scenario holds: the tail exists on L only)
#   d. 30 records n0..n29 with acks=all are delivered by N
#   e. L restarts (`cluster.sh restart`); within 30 s the ISR is full again
#   f. the log_digest of the three replicas is identical up to the HW and every replica's log
#      ends at the HW (L dropped its tail); the consumer reads exactly a0..a49 then n0..n29
#      in order, and none of t0..t19
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/repl_lib.sh"
rp_need

SESSION_MS=6000
kc_start --brokers 3 --controllers 1 --override broker:replica.lag.time.max.ms=10000 \
    --override broker:replica.fetch.wait.max.ms=500 --override zookeeper.session.timeout.ms=$SESSION_MS
kc_topic dv 1 3

# acks NAME ACKS PREFIX COUNT: rdk_acks to dv-0; the output is in $T/NAME.out.
acks() {
    timeout 60 "$RDK_ACKS" "$BOOTSTRAP" dv 0 "$4" "$2" "$3" >"$T/$1.out" 2>"$T/$1.err"
}
delivered() {
    [ "$(grep -c "^rec=[0-9]* err=NO_ERROR " "$T/$1.out")" -eq "$2" ]
}
summary() {
    echo "$(tail -n 1 "$T/$1.out") $(head -c 200 "$T/$1.err" | tr '\n' ' ')"
}

acks a all a 50
check "50 records a0..a49 delivered with acks=all ($(summary a))" delivered a 50
check "the ISR of dv-0 is its 3 replicas" rp_wait 15 rp_isr_full dv 1

L=$(kc_leader dv 0)
FOLLOWERS=$(rp_replicas dv 0 | tr ',' '\n' | grep -vx "$L" | tr '\n' ' ')
ok "dv-0 is led by broker $L; followers $FOLLOWERS"
T0=$(now_ms)
for f in $FOLLOWERS; do cl_sh pause "broker-$f" >/dev/null; done
# A fetch a follower sent just before its freeze may still be parked at the leader (long poll,
# replica.fetch.wait.max.ms 500): answered after the tail is appended, it would reach the frozen
# follower's socket buffer and hand it the tail on SIGCONT. Wait until any such fetch has been
# answered (empty) first.
sleep 1
acks t 1 t 20
check "20 records t0..t19 acknowledged by the leader alone with acks=1 ($(summary t))" delivered t 20
END_L=$(LC_ALL=C "$LOG_DIGEST" "$CL_DIR/broker-$L/data/dv-0" all 2>&1 >/dev/null | sed -n 's/.* end \([0-9]*\)$/\1/p')
cl_sh kill "broker-$L" >/dev/null
for f in $FOLLOWERS; do cl_sh resume "broker-$f" >/dev/null; done
FROZEN_MS=$(($(now_ms) - T0))
ok "killed the leader $L (log end $END_L on disk) and thawed the followers after $FROZEN_MS ms"
check "the freeze ($FROZEN_MS ms) stayed well under replica.lag.time.max.ms (10000)" \
    [ "$FROZEN_MS" -lt 6000 ]

new_leader() {
    local js l
    js=$(adm --json topics describe dv 2>/dev/null) || return 1
    l=$(part_field "$js" 0 leader)
    [ -n "$l" ] && [ "$l" -ge 0 ] && [ "$l" != "$L" ] && [ "$(kc_leader dv 0)" = "$l" ]
}
LIMIT_S=$((SESSION_MS / 1000 + 10))
if rp_wait $LIMIT_S new_leader; then
    N=$(kc_leader dv 0)
    ok "broker $N leads dv-0 after $(($(now_ms) - T0)) ms (ISR $(rp_isr dv 0))"
    END_N=$("$LOG_DIGEST" "$CL_DIR/broker-$N/data/dv-0" all 2>&1 >/dev/null | sed -n 's/.* end \([0-9]*\)$/\1/p')
    check "the new leader's log ends at 50 (END $END_N): the tail never left the old leader" \
        [ "$END_N" = 50 ]
else
    not_ok "a new leader for dv-0 is elected within $LIMIT_S s ($(adm --json topics describe dv 2>&1 | head -c 300))"
fi

acks n all n 30
check "30 records n0..n29 delivered by the new leader with acks=all ($(summary n))" delivered n 30

if cl_sh restart "broker-$L" >/dev/null 2>"$T/restart.err"; then
    ok "the old leader $L restarts"
else
    not_ok "the old leader $L restarts ($(head -c 300 "$T/restart.err"))"
fi
RESTART_MS=$(now_ms)
if rp_wait 30 rp_isr_full dv 1; then
    ok "broker $L is back in the ISR $(($(now_ms) - RESTART_MS)) ms after its restart"
else
    not_ok "broker $L is back in the ISR within 30 s (ISR $(rp_isr dv 0))"
fi

rp_all_digests_match dv 1
HW=$(rp_hw dv 0)
ends_same=1
ends=
for b in $(rp_replicas dv 0 | tr ',' ' '); do
    e=$("$LOG_DIGEST" "$CL_DIR/broker-$b/data/dv-0" all 2>&1 >/dev/null | sed -n 's/.* end \([0-9]*\)$/\1/p')
    ends+="broker $b: $e; "
    [ "$e" = "$HW" ] || ends_same=0
done
check "every replica's log ends at the HW $HW, the old leader's tail is gone ($ends)" [ "$ends_same" = 1 ]

timeout 60 "$KCAT" -C -b "$BOOTSTRAP" -t dv -p 0 -o beginning -e -q -f '%s\n' >"$T/got.txt" 2>/dev/null
{
    for ((i = 0; i < 50; i++)); do echo "a$i"; done
    for ((i = 0; i < 30; i++)); do echo "n$i"; done
} >"$T/want.txt"
check "the consumer reads a0..a49 then n0..n29, in order ($(wc -l <"$T/got.txt") records)" \
    cmp -s "$T/want.txt" "$T/got.txt"
check "none of the unreplicated tail t0..t19 is consumed ($(grep -c '^t' "$T/got.txt") found)" \
    eval "! grep -q '^t' '$T/got.txt'"
