#!/usr/bin/env bash
# 0001_zk: the ZooKeeper harness (scripts/zk.sh) and the session module (common/sm_zk) against
# a real server, through tests/integration/zk_probe.
#
#   a. an ephemeral znode of one process vanishes for a watcher in another process (another
#      session): at once on clean close, and after the session timeout on SIGKILL
#   b. conditional set: a stale version fails with a version error, a fresh one succeeds
#   c. multi-op atomicity: a multi with a failing check writes nothing; watches fire once
#   d. chroot: nodes land under it, and it is created when missing (async and blocking API)
#   e. session expiry (SIGSTOP longer than the session timeout) is reported, a new session is
#      opened and the ephemeral re-created
#   f. zk.sh --ensemble 3 starts three servers that all answer ruok, then stops them
#
# Every wait is bounded; only processes started here are signalled, by pid.
source "$(dirname "$0")/lib.sh"
it_init

PROBE=$ITBIN/zk_probe
ZKSH=$ROOT/scripts/zk.sh
ENS_DIR=

ens_stop() {
    if [ -n "$ENS_DIR" ]; then
        "$ZKSH" stop "$ENS_DIR" >/dev/null 2>&1
    fi
}
trap 'ens_stop; it_cleanup' EXIT

if [ ! -x "$PROBE" ]; then
    not_ok "zk_probe is built ($PROBE)"
    exit 1
fi

now_ms() {
    date +%s%3N
}

# alive PID: the process exists and is not a zombie.
alive() {
    local st
    st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ]
}

ruok() {
    [ "$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf ruok >&3; cat <&3' \
        _ "$1" 2>/dev/null)" = imok ]
}

# Runs the probe to completion (bounded), output in $T/NAME.log, shown on failure.
run_probe() {
    local name=$1 rc
    shift
    timeout 60 "$PROBE" "$@" >"$T/$name.log" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ]; then
        sed 's/^/#   /' "$T/$name.log" | tail -n 30
    fi
    return "$rc"
}

# Waits (at most SECS) for a spawned process to exit; sets RC to its exit code (124 when it
# is still running).
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

# Prints a base port B such that B..B+8 are all free on loopback.
ens_base() {
    local b p i free
    for i in $(seq 1 50); do
        b=$((20000 + RANDOM % 12000))
        free=1
        for ((p = b; p < b + 9; p++)); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
                free=0
                break
            fi
        done
        if [ "$free" = 1 ]; then
            echo "$b"
            return 0
        fi
    done
    return 1
}

# ---- the harness -----------------------------------------------------------------------------
it_zk_start
check "zk.sh start: ZooKeeper on $ZK answers ruok with imok" ruok "$ZK_PORT"
check "zk.sh status reports running" test "$("$ZKSH" status "$T/zk")" = running
check "config, data and log live in the test folder" \
    test -f "$T/zk/zoo.cfg" -a -d "$T/zk/data/version-2" -a -s "$T/zk/zk.log"

# ---- a. ephemeral node vanishes for a watcher in another session -----------------------------
# hold_and_watch N: holder N creates /it/brokers/ids/N (4 s session); a watcher waits for it.
hold_and_watch() {
    local n=$1
    it_spawn "holder$n" "$PROBE" hold "$ZK" "/it/brokers/ids/$n" 4000
    wait_for 20 grep -q '^held ' "$T/holder$n.log" || return 1
    it_spawn "watcher$n" "$PROBE" watch-gone "$ZK" "/it/brokers/ids/$n" 40
    wait_for 20 grep -q '^watching ' "$T/watcher$n.log"
}

if hold_and_watch 1; then
    t0=$(now_ms)
    kill -TERM "$(it_pid holder1)"
    wait_exit watcher1 20
    ms=$(($(now_ms) - t0))
    check "clean close: the watcher (another process) is told the ephemeral is gone" \
        test "$RC" = 0
    check "clean close: told at once (${ms} ms; the session timeout is 4000 ms)" \
        test "$ms" -lt 2500
    wait_exit holder1 10
    check "clean close: the holder closed its session and exited 0" \
        test "$RC" = 0 -a -n "$(grep '^closed' "$T/holder1.log")"
else
    not_ok "clean close: holder and watcher start"
fi

if hold_and_watch 2; then
    t0=$(now_ms)
    kill -KILL "$(it_pid holder2)"
    wait_exit watcher2 30
    ms=$(($(now_ms) - t0))
    check "SIGKILL: the watcher is told the ephemeral is gone" test "$RC" = 0
    check "SIGKILL: told after the session timeout (${ms} ms; 4000 ms session)" \
        test "$ms" -ge 2000 -a "$ms" -lt 20000
    wait_exit holder2 5
else
    not_ok "SIGKILL: holder and watcher start"
fi
check "no ephemeral is left under /it/brokers/ids" \
    test -z "$("$PROBE" ls "$ZK" /it/brokers/ids 2>/dev/null)"

# ---- b, c. conditional updates, multi, watches -----------------------------------------------
check "conditional set: stale version fails with SM_ERR_VERSION, fresh one succeeds" \
    run_probe cas cas "$ZK" /it/cas/node
check "multi: a failing check writes nothing; a good multi applies every op" \
    run_probe multi multi "$ZK" /it/multi
check "watches: data, child and exists watches fire once, as loop callbacks" \
    run_probe watches watches "$ZK" /it/watches

# ---- d. chroot -------------------------------------------------------------------------------
check "chroot (async): a missing chroot is created and the node lands under it" \
    run_probe chroot-create create "$ZK/it-chroot/deep" /brokers/x payload
check "chroot (async): the node is at /it-chroot/deep/brokers/x seen without chroot" \
    run_probe chroot-exists exists "$ZK" /it-chroot/deep/brokers/x
check "chroot (async): nothing was written at /brokers outside the chroot" \
    test "$("$PROBE" exists "$ZK" /brokers >/dev/null 2>&1; echo $?)" = 3
check "chroot (blocking API): created under a missing chroot" \
    run_probe chroot-screate screate "$ZK/it-chroot2" /y/z
check "chroot (blocking API): the node is at /it-chroot2/y/z" \
    run_probe chroot-sexists exists "$ZK" /it-chroot2/y/z

# ---- e. session expiry -----------------------------------------------------------------------
it_spawn expire "$PROBE" expire "$ZK" /it/expiring 40
if wait_for 20 grep -q '^ready ' "$T/expire.log"; then
    pid=$(it_pid expire)
    kill -STOP "$pid"
    sleep 5 # more than the 2 s session timeout
    kill -CONT "$pid"
    wait_exit expire 40
    check "expiry: reported as EXPIRED, then CONNECTED with a new session" \
        test "$RC" = 0 -a -n "$(grep '^reconnected ' "$T/expire.log")"
    check "expiry: the owner re-created its ephemeral in the new session" \
        grep -q '^recreated /it/expiring' "$T/expire.log"
    if [ "$RC" != 0 ]; then
        sed 's/^/#   /' "$T/expire.log" | tail -n 30
    fi
else
    not_ok "expiry: the probe holds its ephemeral"
fi

# ---- server restart within the session timeout: same session survives ------------------------
it_spawn survivor "$PROBE" hold "$ZK" /it/survivor 15000
if wait_for 20 grep -q '^held ' "$T/survivor.log"; then
    "$ZKSH" stop "$T/zk" >/dev/null 2>&1
    check "restart: the session reports DISCONNECTED when the server goes away" \
        wait_for 15 grep -q '^# session disconnected' "$T/survivor.log"
    "$ZKSH" start "$T/zk" >"$T/zk-restart.log" 2>&1
    check "restart: zk.sh start DIR restarts the server with its config" ruok "$ZK_PORT"
    check "restart: CONNECTED again, same session" \
        wait_for 20 eval "[ \$(grep -c '^# session connected' '$T/survivor.log') -ge 2 ]"
    check "restart: the ephemeral survived" run_probe survivor-exists exists "$ZK" /it/survivor
    kill -TERM "$(it_pid survivor)"
    wait_exit survivor 10
    check "restart: no expiry was reported" \
        test "$RC" = 0 -a -z "$(grep '^# session expired' "$T/survivor.log")"
else
    not_ok "restart: the probe holds its ephemeral"
fi

# ---- stop the single server ------------------------------------------------------------------
zkpid=$(cat "$T/zk/zk.pid" 2>/dev/null)
"$ZKSH" stop "$T/zk" >/dev/null 2>&1
check "zk.sh stop: status reports stopped" test "$("$ZKSH" status "$T/zk")" = stopped
check "zk.sh stop: the server process is gone" eval "[ -n '$zkpid' ] && ! alive '$zkpid'"

# ---- f. ensemble -----------------------------------------------------------------------------
if base=$(ens_base); then
    ENS_DIR=$T/ens
    if "$ZKSH" start --ensemble 3 "$ENS_DIR" "$base" >"$T/ens-start.log" 2>&1; then
        ok "ensemble: zk.sh start --ensemble 3 returns once all three serve"
        for i in 0 1 2; do
            check "ensemble: server $((i + 1)) on port $((base + i)) answers ruok" \
                ruok "$((base + i))"
        done
        check "ensemble: status reports running" test "$("$ZKSH" status "$ENS_DIR")" = running
        ENS=127.0.0.1:$base,127.0.0.1:$((base + 1)),127.0.0.1:$((base + 2))
        check "ensemble: a session over the three-server connect string writes" \
            run_probe ens-create create "$ENS" /it/ens/x
        check "ensemble: another member serves the write" \
            run_probe ens-exists exists "127.0.0.1:$((base + 2))" /it/ens/x
        "$ZKSH" stop "$ENS_DIR/zk-1" >/dev/null 2>&1
        check "ensemble: one member stopped: status reports degraded 2/3" \
            test "$("$ZKSH" status "$ENS_DIR")" = "degraded 2/3"
    else
        sed 's/^/#   /' "$T/ens-start.log"
        not_ok "ensemble: zk.sh start --ensemble 3 on ports $base..$((base + 8))"
    fi
    pids=$(cat "$ENS_DIR"/zk-*/zk.pid 2>/dev/null)
    "$ZKSH" stop "$ENS_DIR" >/dev/null 2>&1
    check "ensemble: zk.sh stop: status reports stopped" \
        test "$("$ZKSH" status "$ENS_DIR")" = stopped
    gone=1
    for p in $pids; do
        alive "$p" && gone=0
    done
    check "ensemble: every server process is gone" test "$gone" = 1
else
    not_ok "ensemble: found 9 free consecutive ports"
fi
