#!/usr/bin/env bash
# 0012_zombie_controller: fencing of a deposed controller. The active controller A of a
# 3-broker, 2-controller cluster (zookeeper.session.timeout.ms 4000) is SIGSTOPped past its
# session timeout; B takes over. While A is frozen a broker is killed, so B has leaderships to
# move and writes partition states with its epoch. Then A is resumed (SIGCONT):
#
#   a. B is active with a higher epoch, and /controller and /controller_epoch still name B
#      after A has run again for a while
#   b. none of A's writes land: every partition state written after the take-over carries B's
#      controller epoch, /controller_epoch is B's, and the leaders B chose stay put
#   c. A steps down (its log says so, or it exits) and brokers keep B's decisions: a new topic
#      created afterwards (through B) gets its leaders
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"

SESSION_MS=4000
cl_start --brokers 3 --controllers 2 --override zookeeper.session.timeout.ms=$SESSION_MS

wait_for 10 active_controller >/dev/null
read -r A EA <<<"$(active_controller)"
if [ -n "$A" ]; then
    ok "controller $A is active with epoch $EA"
else
    not_ok "a controller is active"
    exit 1
fi
adm topics create z --partitions 6 --replication-factor 3 >/dev/null 2>"$T/create.err"
check "topic z has 6 leaders" wait_for 15 leaders_ready z 6
BEFORE=$(adm --json topics describe z)

# Freeze A past its session timeout.
cl_sh pause "controller-$A" >/dev/null
PAUSE_MS=$(now_ms)
b_active() {
    local id ep
    read -r id ep <<<"$(active_controller)"
    [ -n "$id" ] && [ "$id" != "$A" ] && [ "$ep" -gt "$EA" ] && B=$id && EB=$ep
}
if wait_for 20 b_active; then
    ok "controller $B took over with epoch $EB while $A is frozen ($(($(now_ms) - PAUSE_MS)) ms after SIGSTOP)"
else
    not_ok "another controller takes over while $A is frozen"
    exit 1
fi

# Give B work: kill the leader of partition 0; B moves its leaderships.
VICTIM=$(part_field "$BEFORE" 0 leader)
cl_sh kill "broker-$VICTIM" >/dev/null
moved() {
    local js p l
    js=$(adm --json topics describe z 2>/dev/null) || return 1
    for ((p = 0; p < 6; p++)); do
        l=$(part_field "$js" "$p" leader)
        [ -n "$l" ] && [ "$l" -ge 0 ] && [ "$l" != "$VICTIM" ] || return 1
    done
}
check "B moved the leaderships of broker $VICTIM" wait_for $((SESSION_MS / 1000 + 10)) moved
MOVED=$(adm --json topics describe z)

# Wake the zombie and let it run.
ALOG=$CL_DIR/controller-$A/controller.log
ALOG_SIZE=$(stat -c %s "$ALOG")
cl_sh resume "controller-$A" >/dev/null
sleep $((SESSION_MS / 1000 + 2))

read -r NOW_ID NOW_EPOCH <<<"$(active_controller)"
check "/controller still names $B with epoch $EB (now: $NOW_ID $NOW_EPOCH)" \
    [ "$NOW_ID" = "$B" -a "$NOW_EPOCH" = "$EB" ]
CE=$(js_int "$(adm zk get /controller_epoch)" epoch)
check "/controller_epoch is B's epoch $EB (is $CE)" [ "$CE" = "$EB" ]

# Every state B rewrote (partitions that lost their leader) carries B's epoch; no state carries
# an epoch other than A's old one or B's.
bad=0
moved_ok=0
for ((p = 0; p < 6; p++)); do
    st=$(adm zk get "/brokers/topics/z/partitions/$p/state")
    ce=$(js_int "$st" controller_epoch)
    if [ "$(part_field "$BEFORE" "$p" leader)" = "$VICTIM" ]; then
        [ "$ce" = "$EB" ] && moved_ok=$((moved_ok + 1)) || bad=$((bad + 1))
    elif [ "$ce" != "$EA" ] && [ "$ce" != "$EB" ]; then
        bad=$((bad + 1))
    fi
done
check "partition states moved by B carry epoch $EB ($moved_ok moved, $bad unexpected)" \
    [ "$bad" -eq 0 -a "$moved_ok" -ge 1 ]
AFTER=$(adm --json topics describe z)
same_leaders=1
for ((p = 0; p < 6; p++)); do
    [ "$(part_field "$MOVED" "$p" leader)" = "$(part_field "$AFTER" "$p" leader)" ] || same_leaders=0
    [ "$(part_field "$MOVED" "$p" leader_epoch)" = "$(part_field "$AFTER" "$p" leader_epoch)" ] ||
        same_leaders=0
done
check "leaders and leader epochs chosen by B are unchanged after the zombie ran" [ "$same_leaders" -eq 1 ]

# A stepped down: it says so in its log after waking, or it exited.
STEPPED='resign|step(ped|ping|s)? down|no longer|lost (the )?(leadership|controller|election)|fenced|deposed|standby|expired'
tail -c +$((ALOG_SIZE + 1)) "$ALOG" >"$T/zombie.log"
if ! cl_sh status | grep -q "^controller-$A [0-9]* running"; then
    ok "the zombie controller $A exited"
elif grep -qiE "$STEPPED" "$T/zombie.log"; then
    ok "the zombie controller $A logs that it stepped down: $(grep -iE "$STEPPED" "$T/zombie.log" | tail -n 1 | cut -c1-160)"
else
    not_ok "the zombie controller $A steps down (log tail: $(tail -n 3 "$ALOG" | tr '\n' ' ' | cut -c1-300))"
fi

# Brokers follow B: a new topic gets leaders on the two live brokers.
adm topics create z2 --partitions 2 --replication-factor 2 >/dev/null 2>"$T/z2.err"
check "a topic created after the zombie episode gets its leaders" wait_for 15 leaders_ready z2 2
# Brokers refuse requests with A's stale epoch, if A sent any after waking.
stale=$(cat "$CL_DIR"/broker-*/broker.log | grep -ciE "stale controller epoch|STALE_CONTROLLER_EPOCH|epoch $EA .*(stale|older|refus)")
echo "# brokers logged $stale refusal(s) of stale-epoch requests"
