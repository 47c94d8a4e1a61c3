#!/usr/bin/env bash
# 0010_broker_registration: samsa-broker's membership in ZooKeeper and its control listener,
# against a real ZooKeeper, with real samsa-broker processes. br_reg_probe plays the parts of
# the cluster that are not under test: it writes /cluster/id (as the first controller would),
# reads /brokers/ids/<id>, and sends one LeaderAndIsr as a controller would.
#
#   a. a broker started before /cluster/id exists waits for it, then registers; the node holds
#      the right payload and meta.properties gets the cluster id
#   b. a broker started after /cluster/id exists registers at once
#   c. a second broker with a live id exits 1 with one error line; the first keeps its node
#   d. the control listener applies a LeaderAndIsr (log dir + partition.metadata) and fences a
#      stale controller epoch (11) and a wrong broker epoch (77)
#   e. SIGSTOP past the session timeout, SIGCONT: the broker registers again with a new czxid
#   f. SIGKILL: the node vanishes after the session timeout; a restart registers again and
#      finds its log
#   g. SIGTERM: exit 0, the node vanishes at once (well before the session timeout), the
#      clean-shutdown marker is written
#   h. meta.properties naming another cluster: exit 1 with one error line
#
# Every wait is bounded; only processes started here are signalled, by pid.
source "$(dirname "$0")/lib.sh"
it_init

PROBE=$ITBIN/br_reg_probe
BROKER=$BIN/samsa-broker
SESSION_MS=2000
CLUSTER_ID=SamsaTestClusterIdAAAA

for f in "$PROBE" "$BROKER"; do
    if [ ! -x "$f" ]; then
        not_ok "$f is built"
        exit 1
    fi
done

it_zk_start
ZKC=$ZK/samsa-it

# conf NAME ID [extra key=value lines...]: writes $T/NAME.properties with free ports.
conf() {
    local name=$1 id=$2 kport cport
    shift 2
    kport=$(it_free_port)
    cport=$(it_free_port)
    while [ "$cport" = "$kport" ]; do cport=$(it_free_port); done
    {
        echo "broker.id=$id"
        echo "listeners=PLAINTEXT://127.0.0.1:$kport"
        echo "control.listener=127.0.0.1:$cport"
        echo "log.dirs=$T/$name-data"
        echo "zookeeper.connect=$ZKC"
        echo "zookeeper.session.timeout.ms=$SESSION_MS"
        for kv in "$@"; do echo "$kv"; done
    } >"$T/$name.properties"
    eval "KPORT_$name=$kport CPORT_$name=$cport"
}

start() {
    it_spawn "$1" "$BROKER" -c "$T/$1.properties"
}

# alive NAME: the spawned process exists and is not a zombie.
alive() {
    local st
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$(it_pid "$1")/status" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ]
}

# wait_exit NAME SECS: waits for a spawned process to exit; RC = its exit code (124: running).
wait_exit() {
    local name=$1 secs=$2 pid
    pid=$(it_pid "$name")
    RC=124
    if wait_for "$secs" eval "! kill -0 $pid 2>/dev/null"; then
        { wait "$pid"; } 2>/dev/null
        RC=$?
        unset "IT_PIDS[$name]"
    fi
}

logged() { # logged NAME PATTERN [COUNT]: NAME's log has at least COUNT lines matching
    [ "$(grep -c -- "$2" "$T/$1.log" 2>/dev/null)" -ge "${3:-1}" ]
}

reg() { # reg ID: prints the registration line of broker ID (exit 3 when none)
    timeout 20 "$PROBE" get "$ZKC" "$1" 2>/dev/null
}

no_node() {
    reg "$1" >/dev/null
    [ $? -eq 3 ]
}

field() { # field LINE KEY
    sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"
}

show_log() {
    sed 's/^/#   /' "$T/$1.log" | tail -n 15
}

# ---- a. wait for /cluster/id, then register ---------------------------------------------------
conf b1 1 broker.rack=r1
start b1
if wait_for 20 logged b1 "waiting for /cluster/id"; then
    ok "a broker started before /cluster/id waits for it"
else
    not_ok "a broker started before /cluster/id waits for it"
    show_log b1
fi
check "no registration before /cluster/id exists" no_node 1
if timeout 20 "$PROBE" set-cluster-id "$ZKC" "$CLUSTER_ID"; then
    ok "the test writes /cluster/id"
else
    not_ok "the test writes /cluster/id"
fi
if wait_for 15 logged b1 "registered as broker 1 epoch 0x"; then
    ok "broker 1 registers once /cluster/id appears"
else
    not_ok "broker 1 registers once /cluster/id appears"
    show_log b1
fi
R1=$(reg 1)
echo "# $R1"
now=$(date +%s%3N)
st=$(field "$R1" start_time_ms)
if [ "$(field "$R1" id)" = 1 ] &&
    [ "$(field "$R1" endpoint)" = "PLAINTEXT://127.0.0.1:$KPORT_b1" ] &&
    [ "$(field "$R1" control)" = "127.0.0.1:$CPORT_b1" ] &&
    [ "$(field "$R1" rack)" = r1 ] &&
    [ "$(field "$R1" version)" = samsa ] &&
    [ -n "$st" ] && [ "$st" -le "$now" ] && [ "$st" -gt $((now - 120000)) ] &&
    [ "$(field "$R1" owner)" != 0x0 ]; then
    ok "the registration holds id, endpoints, rack, start time and version (ephemeral)"
else
    not_ok "the registration holds id, endpoints, rack, start time and version (ephemeral)"
fi
EPOCH1=$(field "$R1" czxid)
if grep -q "epoch $EPOCH1 " "$T/b1.log"; then
    ok "the logged broker epoch is the node's czxid ($EPOCH1)"
else
    not_ok "the logged broker epoch is the node's czxid ($EPOCH1)"
fi
check "meta.properties records the cluster id" grep -qx "cluster.id=$CLUSTER_ID" \
    "$T/b1-data/meta.properties"

# ---- b. /cluster/id already there ---------------------------------------------------------------
conf b2 2
start b2
if wait_for 15 logged b2 "registered as broker 2 epoch 0x"; then
    ok "a broker started after /cluster/id registers at once"
else
    not_ok "a broker started after /cluster/id registers at once"
    show_log b2
fi
if logged b2 "waiting for /cluster/id"; then
    not_ok "it did not wait for /cluster/id"
else
    ok "it did not wait for /cluster/id"
fi
R2=$(reg 2)

# ---- c. a second broker with a live id ---------------------------------------------------------
conf dup 2
start dup
wait_exit dup 20
if [ "$RC" = 1 ]; then
    ok "a second broker with live id 2 exits 1"
else
    not_ok "a second broker with live id 2 exits 1 (got $RC)"
    show_log dup
fi
n=$(grep -c '^samsa-broker: broker.id 2 is already registered by a live broker (session 0x[0-9a-f]*)$' \
    "$T/dup.log")
if [ "$n" = 1 ] && [ "$(grep -c 'already registered' "$T/dup.log")" = 1 ]; then
    ok "it says so in one line: $(grep 'already registered' "$T/dup.log")"
else
    not_ok "it says so in one line"
    show_log dup
fi
if [ "$(reg 2)" = "$R2" ] && alive b2; then
    ok "the first broker 2 keeps running and keeps its node"
else
    not_ok "the first broker 2 keeps running and keeps its node"
fi

# ---- d. the control listener ------------------------------------------------------------------
out=$(timeout 20 "$PROBE" lai "$ZKC" 1 orders 1 2>&1)
if [ "$out" = "error_code=0 partition_error=0" ] && [ -d "$T/b1-data/orders-0" ] &&
    grep -q '^topic_id: ' "$T/b1-data/orders-0/partition.metadata" 2>/dev/null; then
    ok "LeaderAndIsr over the control RPC creates orders-0 with partition.metadata"
else
    not_ok "LeaderAndIsr over the control RPC creates orders-0 with partition.metadata ($out)"
fi
out=$(timeout 20 "$PROBE" lai "$ZKC" 1 orders 0 2>&1)
check "a stale controller epoch is refused with 11 ($out)" [ "$out" = "error_code=11 partition_error=-999" ]
out=$(timeout 20 "$PROBE" lai "$ZKC" 1 orders 1 12345 2>&1)
check "a wrong broker epoch is refused with 77 ($out)" [ "$out" = "error_code=77 partition_error=-999" ]

# ---- e. session expiry while stopped ------------------------------------------------------------
E2=$(field "$R2" czxid)
kill -STOP "$(it_pid b2)"
sleep $((SESSION_MS / 1000 + 3))
if no_node 2; then
    ok "the node of a stopped broker vanishes after its session timeout"
else
    not_ok "the node of a stopped broker vanishes after its session timeout"
fi
kill -CONT "$(it_pid b2)"
new_epoch() {
    local e
    e=$(field "$(reg 2)" czxid)
    [ -n "$e" ] && [ "$e" != "$E2" ]
}
if wait_for 20 new_epoch && logged b2 "registered as broker 2 epoch 0x" 2; then
    ok "after SIGCONT broker 2 registers again with a new czxid ($E2 -> $(field "$(reg 2)" czxid))"
else
    not_ok "after SIGCONT broker 2 registers again with a new czxid"
    show_log b2
fi
check "broker 2 still runs" alive b2

# ---- f. SIGKILL and restart -----------------------------------------------------------------
kill -KILL "$(it_pid b1)"
wait_exit b1 5 2>/dev/null
t0=$(date +%s%3N)
if wait_for $((SESSION_MS / 1000 + 4)) no_node 1; then
    ok "after SIGKILL the node vanishes within the session timeout + 2 s ($(($(date +%s%3N) - t0)) ms)"
else
    not_ok "after SIGKILL the node vanishes within the session timeout + 2 s"
fi
mv "$T/b1.log" "$T/b1-first.log"
start b1
if wait_for 15 logged b1 "registered as broker 1 epoch 0x" &&
    [ "$(field "$(reg 1)" czxid)" != "$EPOCH1" ] && logged b1 "storage open: 1 partition log"; then
    ok "a restarted broker 1 registers with a new epoch and finds its log"
else
    not_ok "a restarted broker 1 registers with a new epoch and finds its log"
    show_log b1
fi

# ---- g. SIGTERM: clean deregistration --------------------------------------------------------
conf b3 3 zookeeper.session.timeout.ms=20000
start b3
wait_for 15 logged b3 "registered as broker 3 epoch 0x" || not_ok "broker 3 registers"
t0=$(date +%s%3N)
kill -TERM "$(it_pid b3)"
wait_exit b3 15
if [ "$RC" = 0 ] && no_node 3 && [ $(($(date +%s%3N) - t0)) -lt 10000 ]; then
    ok "SIGTERM: exit 0 and the node is gone at once ($(($(date +%s%3N) - t0)) ms, session 20 s)"
else
    not_ok "SIGTERM: exit 0 and the node is gone at once (rc $RC)"
    show_log b3
fi
check "SIGTERM leaves the clean-shutdown marker" [ -f "$T/b3-data/.clean_shutdown" ]

# ---- h. meta.properties of another cluster ---------------------------------------------------
conf foreign 4
mkdir -p "$T/foreign-data"
printf 'version=0\nbroker.id=4\ncluster.id=SomeOtherClusterIdXXXX\n' >"$T/foreign-data/meta.properties"
start foreign
wait_exit foreign 20
line=$(grep '^samsa-broker: ' "$T/foreign.log")
if [ "$RC" = 1 ] && [ "$(grep -c '^samsa-broker: ' "$T/foreign.log")" = 1 ] &&
    [[ "$line" == *"cluster.id=SomeOtherClusterIdXXXX"*"cluster.id=$CLUSTER_ID"* ]]; then
    ok "a foreign cluster.id in meta.properties exits 1 with one line: $line"
else
    not_ok "a foreign cluster.id in meta.properties exits 1 with one line (rc $RC)"
    show_log foreign
fi
check "the foreign broker never registered" no_node 4

kill -TERM "$(it_pid b1)" "$(it_pid b2)" 2>/dev/null
wait_exit b1 15
wait_exit b2 15
