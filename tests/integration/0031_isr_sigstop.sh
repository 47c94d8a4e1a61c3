#!/usr/bin/env bash
# 0031_isr_sigstop: a follower frozen with SIGSTOP leaves the ISR and rejoins after SIGCONT
# (replica.lag.time.max.ms 2000; zookeeper.session.timeout.ms 30000, so the freeze is caught by
# the leader's lag tracking, not by a ZooKeeper session expiry). Topic s: 1 partition, RF 3.
#
#   a. 100 records with acks=all; the ISR is the 3 replicas
#   b. `cluster.sh pause` a follower K of s-0: within lag * 1.5 + 5 s the ISR (topics describe
#      and kcat -L) no longer holds K, and `topics describe --under-replicated` lists s-0
#   c. 100 more records with acks=all still succeed (ISR 2 of 3, min.insync.replicas 1)
#   d. `cluster.sh resume K`: within 20 s the ISR is full again and --under-replicated lists
#      nothing
#   e. all 200 records are consumed back, and the three replicas' logs are identical up to the
#      high watermark
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/repl_lib.sh"
rp_need

LAG_MS=2000
kc_start --brokers 3 --controllers 1 --override broker:replica.lag.time.max.ms=$LAG_MS \
    --override zookeeper.session.timeout.ms=30000
kc_topic s 1 3

# produce FIRST COUNT: records v<FIRST>..v<FIRST+COUNT-1> with acks=all, bounded.
produce() {
    local i
    for ((i = $1; i < $1 + $2; i++)); do echo "k$i:v$i"; done >"$T/in-$1.txt"
    cat "$T/in-$1.txt" >>"$T/in.txt"
    rp_produce s "$T/in-$1.txt" "$T/produce-$1.err" -p 0
}

check "100 records delivered with acks=all" produce 0 100
check "the ISR of s-0 is its 3 replicas" rp_wait 15 rp_isr_full s 1
LEADER=$(kc_leader s 0)
K=
for b in $(rp_replicas s 0 | tr ',' ' '); do
    [ "$b" != "$LEADER" ] && K=$b && break
done
ok "s-0 is led by broker $LEADER; freezing follower $K"

OTHER=$(rp_replicas s 0 | tr ',' '\n' | grep -vx "$LEADER" | grep -vx "$K")
RP_KBOOT=$(kc_addr "$LEADER"),$(kc_addr "$OTHER")
export RP_KBOOT # read by repl_lib.sh's rp_meta and rp_produce
cl_sh pause "broker-$K" >/dev/null
PAUSE_MS=$(now_ms)
LIMIT_S=$((LAG_MS * 3 / 2 / 1000 + 5))
if rp_wait $LIMIT_S rp_isr_without s 0 "$K"; then
    ok "the frozen broker $K left the ISR of s-0 in $(($(now_ms) - PAUSE_MS)) ms (limit $LIMIT_S s; ISR now $(rp_isr s 0))"
else
    not_ok "the frozen broker $K leaves the ISR of s-0 within $LIMIT_S s (describe: $(rp_isr s 0), kcat: $(rp_kcat_isr s 0))"
fi
check "--under-replicated lists s-0 (got '$(rp_under_replicated s)')" \
    eval '[ "$(rp_under_replicated s)" = 0 ]'
T0=$(now_ms)
check "100 more records delivered with acks=all while broker $K is frozen" produce 100 100
echo "# that produce took $(($(now_ms) - T0)) ms"

cl_sh resume "broker-$K" >/dev/null
unset RP_KBOOT
RESUME_MS=$(now_ms)
if rp_wait 20 rp_isr_full s 1; then
    ok "broker $K rejoined the ISR $(($(now_ms) - RESUME_MS)) ms after SIGCONT"
else
    not_ok "broker $K rejoins the ISR within 20 s of SIGCONT (ISR $(rp_isr s 0))"
fi
check "--under-replicated lists nothing (got '$(rp_under_replicated s)')" \
    eval '[ -z "$(rp_under_replicated s)" ]'

timeout 60 "$KCAT" -C -b "$BOOTSTRAP" -t s -o beginning -e -q -f '%k:%s\n' >"$T/out.txt" 2>/dev/null
sort "$T/in.txt" >"$T/in.sorted"
sort "$T/out.txt" >"$T/out.sorted"
check "all 200 records are consumed back, nothing else (got $(wc -l <"$T/out.txt"))" \
    cmp -s "$T/in.sorted" "$T/out.sorted"
rp_all_digests_match s 1
