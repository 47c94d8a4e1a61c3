#!/usr/bin/env bash
# 0011_controller_failover: SIGKILL the active controller of a 3-broker, 2-controller cluster
# (zookeeper.session.timeout.ms 4000).
# Three fail-overs; after each the killed controller restarts as the new standby:
#   a. plain SIGKILL right after a topic creation was sent: a standby is active within the
#      session timeout + 2 s with a higher epoch, and the creation completes
#   b. a creation on the wire to the killed controller (paused first, so the request sits
#      unanswered, then killed): samsa-admin follows the new controller and exits 0; the topic
#      gets a leader for every partition
#   c. the same for a deletion: it completes on the successor, topic and marker are gone
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"

SESSION_MS=4000
cl_start --brokers 3 --controllers 2 --override zookeeper.session.timeout.ms=$SESSION_MS

if wait_for 10 active_controller >/dev/null; then
    read -r C1 E1 <<<"$(active_controller)"
    ok "controller $C1 is active with epoch $E1"
else
    not_ok "a controller is active"
    exit 1
fi

adm topics create before --partitions 2 --replication-factor 3 >/dev/null 2>"$T/before.err"
check "a topic is created before the fail-over" wait_for 10 leaders_ready before 2

# failover NAME PAUSE REQUEST...: sends REQUEST (in the background, output in $T/req.*) to the
# active controller NAME and SIGKILLs NAME. With PAUSE=1 NAME is paused first, so the request
# surely sits unanswered on its connection when the kill comes. Sets REQ_PID and KILL_MS.
failover() {
    local name=$1 pause=$2
    shift 2
    [ "$pause" = 1 ] && cl_sh pause "$name" >/dev/null
    ADM_TIMEOUT=30000 adm "$@" >"$T/req.out" 2>"$T/req.err" &
    REQ_PID=$!
    sleep "$([ "$pause" = 1 ] && echo 1 || echo 0.05)"
    cl_sh kill "$name" >/dev/null
    KILL_MS=$(now_ms)
}

# wait_new_controller OLD: waits until a controller other than OLD is active; sets NEW_ID,
# NEW_EPOCH and TAKEOVER_MS (from KILL_MS).
wait_new_controller() {
    local old=$1 i id ep
    for ((i = 0; i < 300; i++)); do
        if read -r id ep <<<"$(active_controller)" && [ -n "$id" ] && [ "$id" != "$old" ]; then
            NEW_ID=$id
            NEW_EPOCH=$ep
            TAKEOVER_MS=$(($(now_ms) - KILL_MS))
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# round WHAT OLD_ID OLD_EPOCH PAUSE REQUEST...: one fail-over with REQUEST in flight; checks the
# take-over time and epoch and that REQUEST exits 0.
round() {
    local what=$1 old=$2 old_epoch=$3 pause=$4 rc
    shift 4
    failover "controller-$old" "$pause" "$@"
    if wait_new_controller "$old"; then
        check "$what: controller $NEW_ID took over ${TAKEOVER_MS} ms after SIGKILL of $old (limit $((SESSION_MS + 2000)) ms)" \
            [ "$TAKEOVER_MS" -le $((SESSION_MS + 2000)) ]
        check "$what: the new epoch $NEW_EPOCH is higher than $old_epoch" [ "$NEW_EPOCH" -gt "$old_epoch" ]
    else
        not_ok "$what: a standby takes over within 30 s of SIGKILL"
    fi
    if wait_for 40 eval "! kill -0 $REQ_PID 2>/dev/null"; then
        wait "$REQ_PID"
        rc=$?
        check "$what: '$*' exits 0 ($(cat "$T/req.err" "$T/req.out" | head -c 200 | tr '\n' ' '))" \
            [ "$rc" -eq 0 ]
    else
        kill "$REQ_PID" 2>/dev/null
        not_ok "$what: '$*' finishes within 40 s"
    fi
    if cl_sh restart "controller-$old" >/dev/null 2>"$T/restart.err"; then
        ok "$what: controller-$old restarts as a standby"
    else
        not_ok "$what: controller-$old restarts ($(head -c 200 "$T/restart.err"))"
    fi
    sleep 1
}

# ---- a: plain SIGKILL, a creation sent just before -------------------------------------------
round "kill" "$C1" "$E1" 0 topics create justbefore --partitions 3 --replication-factor 3
check "kill: the topic created just before has 3 leaders" wait_for 15 leaders_ready justbefore 3

# ---- b: creation on the wire to the killed controller ----------------------------------------
round "create in flight" "$NEW_ID" "$NEW_EPOCH" 1 topics create inflight --partitions 3 \
    --replication-factor 3
check "create in flight: the topic has a leader for each of its 3 partitions" \
    wait_for 15 leaders_ready inflight 3

# ---- c: deletion on the wire to the killed controller ----------------------------------------
round "delete in flight" "$NEW_ID" "$NEW_EPOCH" 1 topics delete before
topic_gone() {
    ! adm --json topics list | grep -q '"before"'
}
check "delete in flight: the topic is gone from topics list" wait_for 20 topic_gone
check "delete in flight: its deletion marker is gone" \
    wait_for 20 eval "! adm zk get /admin/delete_topics/before >/dev/null 2>&1"
