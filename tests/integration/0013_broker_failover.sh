#!/usr/bin/env bash
# 0013_broker_failover: SIGKILL a broker of a 3-broker cluster (zookeeper.session.timeout.ms
# 4000) that leads partitions of a 6-partition, RF 3 topic.
#
#   a. within the session timeout + 2 s `topics describe --json` shows no partition led by it,
#      every partition with a leader, and the moved partitions with a higher leader epoch; the
#      ISR shrinks (without it) but never to empty; replicas are unchanged
#   b. brokers list drops it; after `cluster.sh restart` it is registered again with a new
#      broker epoch, keeps its replicas, and its partition directories are there
#   c. (noted, not required yet: its return to the ISR needs follower fetching, which arrives
#      with the data plane)
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"

SESSION_MS=4000
NP=6
cl_start --brokers 3 --controllers 1 --override zookeeper.session.timeout.ms=$SESSION_MS

adm topics create f --partitions $NP --replication-factor 3 >/dev/null 2>"$T/create.err"
check "topic f has $NP leaders" wait_for 15 leaders_ready f $NP
BEFORE=$(adm --json topics describe f)
VICTIM=$(part_field "$BEFORE" 0 leader)
LED=0
for ((p = 0; p < NP; p++)); do
    [ "$(part_field "$BEFORE" "$p" leader)" = "$VICTIM" ] && LED=$((LED + 1))
done
EPOCH_BEFORE=$(adm --json brokers list | grep -o "{\"id\": $VICTIM, [^}]*}" | grep -o '"broker_epoch": [0-9]*')
ok "broker $VICTIM leads $LED of $NP partitions"

cl_sh kill "broker-$VICTIM" >/dev/null
KILL_MS=$(now_ms)

# moved: no partition is led by the victim, every one has a leader and an ISR without it.
moved() {
    local js p l isr
    js=$(adm --json topics describe f 2>/dev/null) || return 1
    for ((p = 0; p < NP; p++)); do
        l=$(part_field "$js" "$p" leader)
        isr=,$(part_field "$js" "$p" isr),
        [ -n "$l" ] && [ "$l" -ge 0 ] && [ "$l" != "$VICTIM" ] || return 1
        [[ "$isr" != *",$VICTIM,"* ]] && [ "$isr" != ",," ] || return 1
    done
    AFTER=$js
}
if wait_for 20 moved; then
    MOVE_MS=$(($(now_ms) - KILL_MS))
    check "leaderships of broker $VICTIM moved, ISRs shrank without it (none empty) in $MOVE_MS ms (limit $((SESSION_MS + 2000)) ms)" \
        [ "$MOVE_MS" -le $((SESSION_MS + 2000)) ]
    bumped=1
    same_replicas=1
    for ((p = 0; p < NP; p++)); do
        if [ "$(part_field "$BEFORE" "$p" leader)" = "$VICTIM" ] &&
            [ "$(part_field "$AFTER" "$p" leader_epoch)" -le "$(part_field "$BEFORE" "$p" leader_epoch)" ]; then
            bumped=0
        fi
        [ "$(part_field "$AFTER" "$p" replicas)" = "$(part_field "$BEFORE" "$p" replicas)" ] ||
            same_replicas=0
    done
    check "moved partitions have a higher leader epoch" [ "$bumped" -eq 1 ]
    check "replica sets are unchanged" [ "$same_replicas" -eq 1 ]
else
    not_ok "leaderships of broker $VICTIM move within 20 s ($(adm --json topics describe f 2>&1 | head -c 300))"
fi
check "brokers list no longer shows broker $VICTIM" \
    eval "! adm --json brokers list | grep -q '{\"id\": $VICTIM,'"
check "topics describe --under-replicated lists the shrunken partitions" \
    eval "adm topics describe f --under-replicated | grep -q '^[0-9]'"

if cl_sh restart "broker-$VICTIM" >/dev/null 2>"$T/restart.err"; then
    ok "broker $VICTIM restarts and registers again"
else
    not_ok "broker $VICTIM restarts ($(head -c 300 "$T/restart.err"))"
fi
EPOCH_AFTER=$(adm --json brokers list | grep -o "{\"id\": $VICTIM, [^}]*}" | grep -o '"broker_epoch": [0-9]*')
check "its broker epoch changed ($EPOCH_BEFORE -> $EPOCH_AFTER)" \
    [ -n "$EPOCH_AFTER" -a "$EPOCH_AFTER" != "$EPOCH_BEFORE" ]
RETURNED=$(adm --json topics describe f)
same=1
for ((p = 0; p < NP; p++)); do
    [ "$(part_field "$RETURNED" "$p" replicas)" = "$(part_field "$BEFORE" "$p" replicas)" ] || same=0
done
check "it is still a replica of every partition" [ "$same" -eq 1 ]
dirs_back() {
    local p
    for ((p = 0; p < NP; p++)); do
        [ -d "$CL_DIR/broker-$VICTIM/data/f-$p" ] || return 1
    done
}
check "its partition directories f-0..f-$((NP - 1)) are there" wait_for 10 dirs_back
check "every partition still has a leader" wait_for 10 leaders_ready f $NP

in_isr() {
    local js p isr
    js=$(adm --json topics describe f 2>/dev/null) || return 1
    for ((p = 0; p < NP; p++)); do
        isr=,$(part_field "$js" "$p" isr),
        [[ "$isr" == *",$VICTIM,"* ]] || return 1
    done
}
if wait_for 10 in_isr; then
    ok "broker $VICTIM is back in every ISR"
else
    echo "# note: broker $VICTIM is not back in every ISR within 10 s (ISR expansion follows" \
        "follower fetching, which arrives with the data plane)"
fi
