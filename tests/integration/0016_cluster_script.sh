#!/usr/bin/env bash
# 0016_cluster_script: scripts/cluster.sh itself, and the live views of samsa-admin, on a
# cluster with a 3-server ZooKeeper ensemble, 2 controllers and 3 brokers.
#
#   a. refusals, one line each: a base port that is not a multiple of 100 (exit 2), a base port
#      whose ports are in use (exit 1), an unknown process name, an unknown --override key
#   b. start prints bootstrap= and zookeeper= lines for the port layout; status prints one
#      "NAME PID STATE" line per process; each process has DIR/NAME/ with config, log and pid
#   c. `brokers watch --json` streams a departure and a join (with timestamps) as a broker is
#      killed and restarted, then stops by itself (--count 2); SIGTERM ends it with exit 0
#   d. kill zk-1: ZooKeeper keeps serving through the other two, the brokers keep their
#      sessions (same broker epochs), a topic can still be created; restart zk-1 brings it back
#   e. stop ends every process
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"

# ---- a: refusals -----------------------------------------------------------------------------
"$CLUSTER" start --dir "$T/x" --base-port 20050 >/dev/null 2>"$T/a1.err"
one_line_error "a base port that is not a multiple of 100 is refused" $? 2 "$T/a1.err" \
    "must be a multiple of 100"
BUSY=$(((200 + RANDOM % 120) * 100))
it_spawn busy "$ITBIN/rpc_peer" serve $((BUSY + 20))
if wait_for 5 eval "(exec 3<>/dev/tcp/127.0.0.1/$((BUSY + 20))) 2>/dev/null"; then
    "$CLUSTER" start --dir "$T/y" --base-port "$BUSY" >/dev/null 2>"$T/a2.err"
    one_line_error "a base port whose ports are in use is refused" $? 1 "$T/a2.err" \
        "port $((BUSY + 20)) (broker-1) is in use"
    kill "$(it_pid busy)" 2>/dev/null
else
    echo "# skipped the busy-port check: could not listen on $((BUSY + 20))"
fi
"$CLUSTER" start --dir "$T/z" --override no.such.key=1 >/dev/null 2>"$T/a3.err"
one_line_error "an unknown --override key is refused" $? 2 "$T/a3.err" "unknown key 'no.such.key'"

# ---- b: start, layout, status ----------------------------------------------------------------
START=$(now_ms)
cl_start --brokers 3 --controllers 2 --zk-ensemble 3 --override zookeeper.session.timeout.ms=6000
ok "start returned after $(($(now_ms) - START)) ms"
P=$CL_BASE
check "bootstrap= lists the brokers' Kafka ports" \
    [ "$BOOTSTRAP" = "127.0.0.1:$((P + 20)),127.0.0.1:$((P + 22)),127.0.0.1:$((P + 24))" ]
check "zookeeper= lists the ensemble with the /samsa chroot" \
    [ "$ZKC" = "127.0.0.1:$P,127.0.0.1:$((P + 1)),127.0.0.1:$((P + 2))/samsa" ]
cl_sh status >"$T/status.out"
check "status prints 8 lines, all running" \
    eval "[ \$(wc -l <'$T/status.out') -eq 8 ] && [ \$(grep -cE '^[a-z]+-[0-9]+ [0-9]+ running$' '$T/status.out') -eq 8 ]"
check "broker-2 has its config, log, data and pid" \
    eval "[ -r '$CL_DIR/broker-2/server.properties' ] && [ -r '$CL_DIR/broker-2/broker.log' ] && [ -d '$CL_DIR/broker-2/data' ] && [ -r '$CL_DIR/broker-2/pid' ]"
check "broker-2 listens on its Kafka port P+22 in its config" \
    grep -q "^listeners=PLAINTEXT://127.0.0.1:$((P + 22))$" "$CL_DIR/broker-2/server.properties"
check "the override reached brokers and controllers" \
    eval "grep -q '^zookeeper.session.timeout.ms=6000$' '$CL_DIR/broker-1/server.properties' && grep -q '^zookeeper.session.timeout.ms=6000$' '$CL_DIR/controller-2/controller.properties'"
cl_sh kill broker-9 >/dev/null 2>"$T/a4.err"
one_line_error "kill of an unknown process name is refused" $? 2 "$T/a4.err" "no process 'broker-9'"
cl_sh start >/dev/null 2>"$T/a5.err"
check "a second start in the same folder is refused" grep -q "already runs" "$T/a5.err"

# ---- c: brokers watch --------------------------------------------------------------------------
"$ADMIN" --zookeeper "$ZKC" --json brokers watch --count 2 >"$T/watch.out" 2>"$T/watch.err" &
WATCH=$!
check "brokers watch first reports the 3 present brokers" \
    wait_for 10 eval "[ \$(grep -c '\"event\": \"present\"' '$T/watch.out') -eq 3 ]"
cl_sh kill broker-2 >/dev/null
check "brokers watch reports broker 2 leaving" \
    wait_for 15 grep -q '"event": "left", "broker": {"id": 2,' "$T/watch.out"
cl_sh restart broker-2 >/dev/null 2>"$T/restart.err"
check "brokers watch reports broker 2 joining again" \
    wait_for 15 grep -q '"event": "joined", "broker": {"id": 2,' "$T/watch.out"
if wait_for 10 eval "! kill -0 $WATCH 2>/dev/null"; then
    wait "$WATCH"
    check "brokers watch --count 2 stops by itself with exit 0" [ $? -eq 0 ]
else
    kill "$WATCH" 2>/dev/null
    not_ok "brokers watch --count 2 stops by itself"
fi
check "each event line carries an ISO time and time_ms" \
    eval "[ \$(grep -cE '^\\{\"time\": \"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\", \"time_ms\": [0-9]+, ' '$T/watch.out') -eq 5 ]"
"$ADMIN" --zookeeper "$ZKC" brokers watch >"$T/watch2.out" 2>&1 &
WATCH=$!
wait_for 10 grep -q present "$T/watch2.out"
kill -TERM "$WATCH"
if wait_for 10 eval "! kill -0 $WATCH 2>/dev/null"; then
    wait "$WATCH"
    check "brokers watch ends with exit 0 on SIGTERM" [ $? -eq 0 ]
else
    kill -KILL "$WATCH" 2>/dev/null
    not_ok "brokers watch ends on SIGTERM"
fi

# ---- d: losing one ZooKeeper server ----------------------------------------------------------
epochs() {
    adm --json brokers list | grep -o '"broker_epoch": [0-9]*' | tr '\n' ' '
}
E_BEFORE=$(epochs)
cl_sh kill zk-1 >/dev/null
check "status shows zk-1 stopped" eval "cl_sh status | grep -q '^zk-1 - stopped$'"
sleep 8
check "brokers keep their sessions through the loss of zk-1 (epochs $E_BEFORE)" \
    [ "$(epochs)" = "$E_BEFORE" ]
ADM_TIMEOUT=15000 adm topics create withtwo --partitions 2 --replication-factor 3 >/dev/null 2>"$T/d.err"
check "a topic can be created with two ZooKeeper servers" wait_for 15 leaders_ready withtwo 2
if cl_sh restart zk-1 >/dev/null 2>"$T/zkr.err"; then
    ok "zk-1 restarts"
else
    not_ok "zk-1 restarts ($(head -c 300 "$T/zkr.err"))"
fi
check "status shows zk-1 running again" eval "cl_sh status | grep -qE '^zk-1 [0-9]+ running$'"

# ---- e: stop -----------------------------------------------------------------------------------
PIDS=$(awk '$2 != "-" {print $2}' <(cl_sh status))
cl_sh stop
check "stop exits 0" [ $? -eq 0 ]
left=0
# A process is left if its status can be read and it is not a zombie or dead, read once as
# cluster.sh reads it (checking first that it exists raced with init reaping a zombie between
# the two reads, and counted it as left).
for pid in $PIDS; do
    state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ] && left=$((left + 1))
done
check "no process of the cluster is left" [ "$left" -eq 0 ]
check "status shows every process stopped" \
    eval "[ \$(cl_sh status | grep -c ' - stopped$') -eq 8 ]"
