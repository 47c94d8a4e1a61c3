#!/usr/bin/env bash
# 0036_acks_all_pipelined: many small acks=all produce requests in flight on each connection.
# Answering one parked request runs the connection's next one, whose append wakes the same
# partition's waiters -- including the one being answered (this crashed the leader with a use
# after free before the purgatory refused to re-enter a running callback).
#
#   a. kcat sends N records, one per batch (batch.num.messages=1, linger 0), acks=all, to a
#      3-partition RF 3 topic: every one is delivered
#   b. the three brokers are still running, and the records come back exactly once each
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/repl_lib.sh"
rp_need

N=20000
kc_start --brokers 3 --controllers 1
kc_topic p 3 3

for ((i = 0; i < N; i++)); do echo "k$i:v$i"; done >"$T/in.txt"
if rp_produce p "$T/in.txt" "$T/produce.err" -X linger.ms=0 -X batch.num.messages=1; then
    ok "kcat delivered $N one-record batches with acks=all"
else
    not_ok "kcat delivers $N one-record batches with acks=all ($(head -c 300 "$T/produce.err" | tr '\n' ' '))"
fi

down=
for b in 1 2 3; do
    pid=$(cl_pid "broker-$b")
    { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; } || down="$down broker-$b"
done
check "every broker is still running (down:${down:- none})" [ -z "$down" ]

timeout 60 "$KCAT" -C -b "$BOOTSTRAP" -t p -o beginning -e -q -f '%k:%s\n' >"$T/out.txt" 2>"$T/consume.err"
sort "$T/in.txt" >"$T/in.sorted"
sort "$T/out.txt" >"$T/out.sorted"
check "the $N records come back exactly once each ($(wc -l <"$T/out.txt") read)" \
    cmp -s "$T/in.sorted" "$T/out.sorted"
