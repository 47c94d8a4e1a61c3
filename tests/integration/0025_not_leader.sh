#!/usr/bin/env bash
# 0025_not_leader: producing to a broker that is not (or no longer) the leader.
#
#   a. a raw Produce (kraw) sent to the follower of a partition -> NOT_LEADER_OR_FOLLOWER (6),
#      nothing appended there
#   b. a librdkafka producer streams 3,000 records (acks=all, 300/s) into a 2-partition RF 2
#      topic; in the middle the leader of partition 0 is frozen (SIGSTOP) until the controller
#      moves the leadership (zookeeper.session.timeout.ms 4000), then thawed. The client, whose
#      requests to the old leader are answered with 6 or time out, refreshes its metadata and
#      goes on with the new leader: every delivery report succeeds
#   c. the records sent after the move are in the new leader's log, up to the last one, and
#      so is every record the old leader acknowledged (acks=all waits for the ISR), so all
#      3,000 keys are found; partition 1, never moved, holds each record exactly once
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"

RDK=$ITBIN/rdk_client
KRAW=$ITBIN/kraw
SESSION_MS=4000
kc_start --brokers 2 --controllers 1 --override zookeeper.session.timeout.ms=$SESSION_MS
kc_topic nl 2 2

L0=$(kc_leader nl 0)
F0=$((3 - L0))
out=$(timeout 20 "$KRAW" "$(kc_addr "$F0")" produce nl 0 3)
check "a Produce sent to broker $F0 (follower of nl-0) -> error 6 ($out)" \
    grep -q '^error=6 ' <<<"$out"
out=$(timeout 20 "$KRAW" "$(kc_addr "$L0")" produce nl 0 3)
check "the same Produce sent to the leader $L0 -> error 0 at offset 0 ($out)" \
    grep -q '^error=0 base_offset=0' <<<"$out"

N=3000
RDK_RATE=300 RDK_ANY_OFFSET=1 RDK_DEBUG=msg,broker,topic timeout 120 "$RDK" produce "$BOOTSTRAP" nl 2 $N 100 all \
    >"$T/produce.out" 2>"$T/produce.err" &
PROD=$!
sleep 3
cl_sh pause "broker-$L0" >/dev/null
moved() {
    local js l
    js=$(adm --json topics describe nl 2>/dev/null) || return 1
    l=$(part_field "$js" 0 leader)
    [ -n "$l" ] && [ "$l" != "$L0" ] && [ "$l" -ge 0 ]
}
if wait_for 20 moved; then
    ok "leadership of nl-0 moved from frozen broker $L0"
else
    not_ok "leadership of nl-0 moves from frozen broker $L0"
fi
cl_sh resume "broker-$L0" >/dev/null
wait $PROD
rc=$?
summary=$(cat "$T/produce.out")
check "the librdkafka producer delivered all $N records across the move (exit $rc: $summary)" \
    [ $rc -eq 0 ]
n6=$(grep -c -i 'NOT_LEADER\|Not leader' "$T/produce.err")
echo "# the client logged $n6 lines about NOT_LEADER_OR_FOLLOWER"

# Values are rdk_fill bytes, so compare per-partition record counts with what was delivered:
# partition p holds records p, p+2, ... plus kraw's 3 records in partition 0.
NEWL=$(kc_leader nl 0)
echo "# nl-0 is now led by broker $NEWL"
c0=$(timeout 60 "$KCAT" -C -b "$BOOTSTRAP" -t nl -p 0 -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c '^k')
c1=$(timeout 60 "$KCAT" -C -b "$BOOTSTRAP" -t nl -p 1 -o beginning -e -q -f '%k\n' 2>/dev/null | grep -c '^k')
timeout 60 "$KCAT" -C -b "$BOOTSTRAP" -t nl -o beginning -e -q -f '%k\n' 2>/dev/null |
    grep '^k' | sort -u >"$T/keys.txt"
keys=$(wc -l <"$T/keys.txt")
check "the last records of both partitions (k$((N - 2)), k$((N - 1))) are in the leaders' logs" \
    eval "grep -qx k$((N - 2)) '$T/keys.txt' && grep -qx k$((N - 1)) '$T/keys.txt'"
check "partition 1 (never moved) holds all its $((N / 2)) records ($c1)" [ "$c1" -eq $((N / 2)) ]
check "every acknowledged record (all $N keys, incl. those the frozen leader acked) is in the current leaders' logs ($keys keys; nl-0 holds $c0)" \
    [ "$keys" -eq $N ]
