#!/usr/bin/env bash
# 0003_rpc: the control RPC (common/sm_rpc) between real processes on loopback.
#
#   1. 10,000 pipelined Ping round trips between two rpc_peer processes, every answer checked.
#   2. A client keeps calling while the server is SIGKILLed and restarted on the same port;
#      the client must notice, reconnect and complete further calls.
#
# Every wait is bounded; only processes started here are signalled, by pid.
source "$(dirname "$0")/lib.sh"
it_init

PEER=$ITBIN/rpc_peer
if [ ! -x "$PEER" ]; then
    not_ok "rpc_peer is built ($PEER)"
    exit 1
fi

PORT=$(it_free_port)

# Starts `rpc_peer serve $PORT` as NAME and waits until it listens.
start_server() {
    local name=$1
    it_spawn "$name" "$PEER" serve "$PORT"
    wait_for 10 grep -q "listening on 127.0.0.1:$PORT" "$T/$name.log"
}

# Waits (at most SECS) for a spawned process to exit; sets RC to its exit code (124 when it
# is still running). Not for $(...): `wait` only works in the shell that spawned it.
wait_exit() {
    local name=$1 secs=$2 pid
    pid=$(it_pid "$name")
    RC=124
    if wait_for "$secs" eval "! kill -0 $pid 2>/dev/null"; then
        wait "$pid"
        RC=$?
        unset "IT_PIDS[$name]"
    fi
}

# ---- 1. round trips -------------------------------------------------------------------------
if ! start_server server1; then
    cat "$T/server1.log"
    not_ok "rpc_peer serves on 127.0.0.1:$PORT"
    exit 1
fi
ok "rpc_peer serves on 127.0.0.1:$PORT"

if timeout 60 "$PEER" call "127.0.0.1:$PORT" 10000 --window 64 >"$T/call.log" 2>&1 &&
    grep -q '^ok: 10000 calls' "$T/call.log"; then
    ok "10000 pipelined round trips between two processes ($(sed -n 's/^ok: //p' "$T/call.log"))"
else
    tail -n 20 "$T/call.log"
    not_ok "10000 pipelined round trips between two processes"
fi

if timeout 60 "$PEER" call "127.0.0.1:$PORT" 2000 --window 1 >"$T/call1.log" 2>&1; then
    ok "2000 one-at-a-time round trips ($(sed -n 's/^ok: //p' "$T/call1.log"))"
else
    tail -n 20 "$T/call1.log"
    not_ok "2000 one-at-a-time round trips"
fi

# ---- 2. server SIGKILLed and restarted under a calling client --------------------------------
it_spawn client "$PEER" reconnect "127.0.0.1:$PORT" 500 --timeout-ms 1000 --deadline-ms 30000
if wait_for 10 grep -q '^calling' "$T/client.log"; then
    ok "client is calling through the server"
else
    cat "$T/client.log"
    not_ok "client is calling through the server"
fi

server_pid=$(it_pid server1)
kill -KILL "$server_pid"
wait "$server_pid" 2>/dev/null
unset "IT_PIDS[server1]"

check "client notices the server is gone" wait_for 10 grep -q '^disconnected' "$T/client.log"

# Let the client fail a few connection attempts before the server comes back.
sleep 0.5
if start_server server2; then
    ok "server restarts on the same port $PORT"
else
    cat "$T/server2.log"
    not_ok "server restarts on the same port $PORT"
fi

wait_exit client 30
if [ "$RC" = 0 ] && grep -q '^reconnected after' "$T/client.log" &&
    grep -q '^done: 500 calls ok after reconnecting' "$T/client.log"; then
    ok "client reconnects and completes 500 more calls ($(sed -n 's/^reconnected //p' "$T/client.log"))"
else
    echo "# client exit code $RC"
    tail -n 20 "$T/client.log"
    not_ok "client reconnects and completes 500 more calls"
fi

# ---- the restarted server shuts down cleanly -------------------------------------------------
kill -TERM "$(it_pid server2)"
wait_exit server2 10
check "server exits 0 on SIGTERM" test "$RC" = 0
