#!/usr/bin/env bash
# 0034_controller_kill: the active controller dies during a broker failure, before it has
# handled it; the next controller completes the elections. 3 brokers, 2 controllers,
# zookeeper.session.timeout.ms 4000; topics ca (6 partitions) and cb (3 partitions), RF 3.
#
#   a. SIGKILL a broker V that leads partitions and, right after (sleep 0.2 + cluster.sh), the
#      active controller C. C would only have learnt of the failure when V's ZooKeeper session
#      expired (~4 s), so it dies before handling it (checked in its log), and the next
#      controller, once C's own session expires, must find V gone and run every election itself
#   b. within 25 s the other controller is active and every partition of both topics has a live
#      leader (not V), and V is in no ISR; --unavailable lists nothing
#   c. produce (acks=all) and consume work on both topics
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"
source "$(dirname "$0")/repl_lib.sh"
rp_need

SESSION_MS=4000
kc_start --brokers 3 --controllers 2 --override zookeeper.session.timeout.ms=$SESSION_MS
kc_topic ca 6 3
kc_topic cb 3 3
check "the ISRs of ca and cb are full" eval 'rp_wait 15 rp_isr_full ca 6 && rp_wait 15 rp_isr_full cb 3'

V=$(kc_leader ca 0)
read -r C CEPOCH <<<"$(active_controller)"
ok "broker $V leads ca-0; controller $C is active (epoch $CEPOCH)"

cl_sh kill "broker-$V" >/dev/null
KILL_MS=$(now_ms)
sleep 0.2
cl_sh kill "controller-$C" >/dev/null
CKILL_MS=$(now_ms)
ok "killed broker $V, then controller $C $((CKILL_MS - KILL_MS)) ms later"
# The scenario holds only if controller C died before handling the failure (it learns of it when
# the broker's ZooKeeper session expires, ~4 s later): then the next controller does all of it.
check "controller $C had not handled broker $V's failure when it died" \
    eval "! grep -q 'broker $V left' '$CL_DIR/controller-$C/controller.log'"

settled() {
    local js id p l isr t n
    read -r id _ <<<"$(active_controller)" || return 1
    [ -n "$id" ] && [ "$id" != "$C" ] || return 1
    for t in ca:6 cb:3; do
        js=$(adm --json topics describe "${t%%:*}" 2>/dev/null) || return 1
        n=${t##*:}
        for ((p = 0; p < n; p++)); do
            l=$(part_field "$js" "$p" leader)
            isr=,$(part_field "$js" "$p" isr),
            [ -n "$l" ] && [ "$l" -ge 0 ] && [ "$l" != "$V" ] || return 1
            [[ "$isr" != *",$V,"* ]] && [[ "$isr" == *",$l,"* ]] || return 1
        done
    done
    NEWC=$id
}
if rp_wait 25 settled; then
    ok "controller $NEWC took over; every partition has a live leader and broker $V is in no ISR ($(($(now_ms) - KILL_MS)) ms after the broker kill)"
else
    not_ok "within 25 s another controller finishes the elections (controller: $(active_controller); ca: $(adm --json topics describe ca 2>&1 | head -c 400))"
fi
check "--unavailable lists no partition" \
    eval '[ -z "$(adm --json topics describe --unavailable 2>/dev/null | grep -o "\"partition\": [0-9]*")" ]'
kc_moved() {
    local t p l
    for t in ca:6 cb:3; do
        for ((p = 0; p < ${t##*:}; p++)); do
            l=$(kc_leader "${t%%:*}" $p)
            [ -n "$l" ] && [ "$l" -ge 0 ] && [ "$l" != "$V" ] || return 1
        done
    done
}
check "kcat -L shows the new leaders" rp_wait 15 kc_moved

for t in ca cb; do
    for ((i = 0; i < 60; i++)); do echo "k$i:$t-v$i"; done >"$T/in-$t.txt"
    if rp_produce "$t" "$T/in-$t.txt" "$T/produce-$t.err"; then
        ok "60 records produced to $t with acks=all"
    else
        not_ok "60 records produced to $t with acks=all ($(grep -i 'fail' "$T/produce-$t.err" | head -c 300 | tr '\n' ' '))"
    fi
    timeout 40 "$KCAT" -C -b "$BOOTSTRAP" -t "$t" -o beginning -e -q -f '%k:%s\n' 2>/dev/null |
        sort >"$T/out-$t.txt"
    sort "$T/in-$t.txt" >"$T/in-$t.sorted"
    check "they are consumed back from $t ($(wc -l <"$T/out-$t.txt") records)" \
        cmp -s "$T/in-$t.sorted" "$T/out-$t.txt"
done
