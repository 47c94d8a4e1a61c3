#!/usr/bin/env bash
# 0026_long_poll: Fetch long polls and malformed input, with tests/integration/kraw.c (a raw
# client that hand-encodes Fetch v4 / Produce v3 and times the answers).
#
#   a. a Fetch at the log end with min_bytes 1 and max_wait 1500 ms answers after ~max_wait
#      (1300..3000 ms) with no records (an empty record set, never null)
#   b. a parked Fetch (max_wait 8000 ms) answers within ~1 s of a produce to its partition
#   c. min_bytes 0 answers at once; a Fetch where data is already there answers at once
#   d. fetching from a broker that is not the leader -> 6; an offset past the log end -> 1 with
#      an empty record set; an unknown topic -> 3
#   e. malformed requests (short / huge / negative / zero frames, unknown API, unsupported
#      version, a truncated body, absurd counts, garbage, a Produce with a bad CRC) get a Kafka
#      error or a closed connection, never a crash or a hang; a half-sent frame held open does
#      not stop the broker; after all of it the broker still serves kcat and kraw
#   f. 10,000 idle connections are held while a new one is served (ApiVersions, kcat -L); the
#      broker's RSS is printed and must grow by less than 256 MB
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"

KRAW=$ITBIN/kraw
[ -x "$KRAW" ] || {
    not_ok "kraw is built ($KRAW)"
    exit 1
}
kc_start --brokers 2 --controllers 1
kc_topic lp 1 2
LEADER=$(kc_leader lp 0)
LA=$(kc_addr "$LEADER")
OTHER=$((3 - LEADER))
OA=$(kc_addr "$OTHER")

field() {
    sed -n "s/.*$1=\(-\{0,1\}[0-9]*\).*/\1/p" <<<"$2"
}

out=$(timeout 20 "$KRAW" "$LA" fetch lp 0 0 1500 1)
ms=$(field ms "$out")
check "an empty fetch with max_wait 1500 ms answers after ${ms:-?} ms ($out)" \
    eval '[ -n "$ms" ] && [ "$ms" -ge 1300 ] && [ "$ms" -le 3000 ] && [ "$(field error "$out")" = 0 ] && [ "$(field bytes "$out")" = 0 ]'

timeout 30 "$KRAW" "$LA" fetch lp 0 0 8000 1 >"$T/parked.out" 2>&1 &
PARKED=$!
sleep 1
pout=$(timeout 20 "$KRAW" "$LA" produce lp 0 5)
check "kraw produces 5 records with acks -1 ($pout)" eval '[ "$(field error "$pout")" = 0 ]'
wait $PARKED
out=$(cat "$T/parked.out")
ms=$(field ms "$out")
check "a parked fetch answers $((ms - 1000)) ms after the produce, not after max_wait 8000 ($out)" \
    eval '[ -n "$ms" ] && [ "$ms" -lt 3000 ] && [ "$(field bytes "$out")" -gt 0 ]'

out=$(timeout 20 "$KRAW" "$LA" fetch lp 0 5 5000 0)
ms=$(field ms "$out")
check "min_bytes 0 answers at once ($out)" eval '[ -n "$ms" ] && [ "$ms" -lt 500 ]'
out=$(timeout 20 "$KRAW" "$LA" fetch lp 0 0 5000 1)
ms=$(field ms "$out")
check "a fetch with data there answers at once with hw 5 ($out)" \
    eval '[ -n "$ms" ] && [ "$ms" -lt 500 ] && [ "$(field hw "$out")" = 5 ]'

out=$(timeout 20 "$KRAW" "$OA" fetch lp 0 0 1000 1)
check "a fetch from broker $OTHER (not the leader) -> error 6 ($out)" \
    eval '[ "$(field error "$out")" = 6 ] && [ "$(field bytes "$out")" = 0 ]'
out=$(timeout 20 "$KRAW" "$LA" fetch lp 0 100 1000 1)
check "a fetch past the log end -> error 1 with an empty record set ($out)" \
    eval '[ "$(field error "$out")" = 1 ] && [ "$(field bytes "$out")" = 0 ]'
out=$(timeout 20 "$KRAW" "$LA" fetch nosuchtopic 0 0 1000 1)
check "a fetch for an unknown topic -> error 3 ($out)" \
    eval '[ "$(field error "$out")" = 3 ] && [ "$(field bytes "$out")" = 0 ]'

it_spawn hold timeout 30 "$KRAW" "$LA" hold 20
sleep 0.5
for c in short-frame huge-frame negative-frame zero-frame unknown-api bad-version \
    apiversions-v99 truncated-body absurd-count garbage bad-crc; do
    out=$(timeout 20 "$KRAW" "$LA" bad $c lp 2>&1)
    rc=$?
    check "malformed ($c): $out" [ $rc -eq 0 ]
done
out=$(timeout 20 "$KRAW" "$LA" fetch lp 0 0 100 1)
check "the bad-CRC batch was not appended (hw still 5: $out)" eval '[ "$(field hw "$out")" = 5 ]'
check "the broker is alive" kill -0 "$(cl_pid broker-$LEADER)"
check "it still answers ApiVersions on a new connection" timeout 10 "$KRAW" "$LA" apiversions
check "it still answers kcat -L while a half-sent frame is held open" \
    eval "timeout 10 $KCAT -b $LA -m 5 -L -t lp | grep -q 'partition 0, leader $LEADER'"
out=$(timeout 60 "$KCAT" -C -b "$LA" -t lp -p 0 -o beginning -e -q -f '%s\n' 2>/dev/null | tr '\n' ' ')
check "kcat reads the 5 kraw records back ($out)" [ "$out" = "kraw-0 kraw-1 kraw-2 kraw-3 kraw-4 " ]

# f. 10,000 idle connections. kraw (this shell's child) needs N fds: raise the soft limit as
# far as the hard one allows. The broker raises its own soft limit to its hard limit at start.
N=10000
want=$((N + 200))
if [ "$(ulimit -Sn)" != unlimited ] && [ "$(ulimit -Sn)" -lt $want ]; then
    if [ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge $want ]; then
        ulimit -Sn $want
    fi
fi
BPID=$(cl_pid broker-$LEADER)
blimit=$(awk '/^Max open files/ { print $4 }' "/proc/$BPID/limits")
if { [ "$(ulimit -Sn)" = unlimited ] || [ "$(ulimit -Sn)" -ge $want ]; } &&
    { [ "$blimit" = unlimited ] || [ "$blimit" -ge $want ]; }; then
    nfd() { find "/proc/$BPID/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
    rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$BPID/status"; }
    FD0=$(nfd)
    RSS0=$(rss)
    t0=$(date +%s%N)
    timeout 120 "$KRAW" "$LA" idle $N 8 >"$T/idle.out" 2>&1 &
    IDLE=$!
    # bounded: 180 x 0.5 s, until the broker holds the N connections or kraw has ended
    for ((i = 0; i < 180; i++)); do
        [ "$(nfd)" -ge $((FD0 + N)) ] && break
        kill -0 $IDLE 2>/dev/null || break
        sleep 0.5
    done
    held=$(nfd)
    RSS1=$(rss)
    secs=$((($(date +%s%N) - t0) / 1000000))
    check "the broker holds $N idle connections (its fds: $FD0 -> $held, opened in $secs ms)" \
        [ "$held" -ge $((FD0 + N)) ]
    check "with them held it answers ApiVersions on a fresh connection" \
        timeout 10 "$KRAW" "$LA" apiversions
    check "with them held it answers kcat -L on a fresh connection" \
        eval "timeout 10 $KCAT -b $LA -m 5 -L -t lp | grep -q 'partition 0, leader $LEADER'"
    wait $IDLE
    rc=$?
    check "kraw held $N idle connections and was served on a new one ($(cat "$T/idle.out"))" \
        [ $rc -eq 0 ]
    echo "# broker RSS: $RSS0 kB before, $RSS1 kB with $N idle connections (limit $blimit fds)"
    check "the broker's RSS stays modest: +$((RSS1 - RSS0)) kB for $N connections (< 256 MB)" \
        [ $((RSS1 - RSS0)) -lt 262144 ]
    check "the broker is alive after the idle connections close" kill -0 "$BPID"
else
    echo "# skipped the $N idle connections: ulimit -n is $(ulimit -Sn) (hard $(ulimit -Hn))," \
        "the broker's is ${blimit:-unknown}"
fi
