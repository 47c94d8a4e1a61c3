#!/usr/bin/env bash
# 0030_replication_basic: a 3-broker cluster, topic r with 3 partitions and replication factor 3.
#
#   a. kcat produces N keyed records with acks=all: every one is delivered
#   b. kcat consumes them back: the same key:value set, nothing more
#   c. within a bounded wait every partition's ISR is its 3 replicas, in `topics describe` and in
#      kcat -L ("isrs: a,b,c"), and --under-replicated lists nothing
#   d. the three replicas' logs on disk (log_digest: base, last offset, leader epoch, CRC of each
#      batch) are identical up to the partition's high watermark, and the high watermarks add
#      up to N
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/repl_lib.sh"
rp_need

N=300
NP=3
kc_start --brokers 3 --controllers 1
kc_topic r $NP 3

for ((i = 0; i < N; i++)); do echo "k$i:v$i"; done >"$T/in.txt"
if rp_produce r "$T/in.txt" "$T/produce.err"; then
    ok "kcat delivered $N keyed records with acks=all"
else
    not_ok "kcat delivers $N keyed records with acks=all ($(head -c 300 "$T/produce.err" | tr '\n' ' '))"
fi

timeout 60 "$KCAT" -C -b "$BOOTSTRAP" -t r -o beginning -e -q -f '%k:%s\n' >"$T/out.txt" 2>"$T/consume.err"
sort "$T/in.txt" >"$T/in.sorted"
sort "$T/out.txt" >"$T/out.sorted"
if cmp -s "$T/in.sorted" "$T/out.sorted"; then
    ok "kcat consumes the same $N records back"
else
    not_ok "kcat consumes the same $N records back (got $(wc -l <"$T/out.txt"); diff: $(diff "$T/in.sorted" "$T/out.sorted" | grep '^[<>]' | head -n 5 | tr '\n' ' '))"
fi

if rp_wait 15 rp_isr_full r $NP; then
    ok "every partition's ISR is its 3 replicas (topics describe and kcat -L)"
else
    not_ok "every partition's ISR is its 3 replicas within 15 s ($(kc_meta r | grep 'partition' | tr '\n' ' '))"
fi
check "--under-replicated lists nothing" eval '[ -z "$(rp_under_replicated r)" ]'

sum=0
for ((p = 0; p < NP; p++)); do
    hw=$(rp_hw r $p)
    sum=$((sum + ${hw:-0}))
done
check "the high watermarks of the $NP partitions add up to $N (got $sum)" [ "$sum" -eq $N ]
rp_all_digests_match r $NP
