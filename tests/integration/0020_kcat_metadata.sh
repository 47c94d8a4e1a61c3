#!/usr/bin/env bash
# 0020_kcat_metadata: `kcat -L` (ApiVersions v3 -> v0 fallback, Metadata v1) against a 3-broker
# cluster.
#
#   a. every broker answers and lists the 3 live brokers at their advertised addresses, and
#      names itself as the controller (it forwards topic admin to the real one)
#   b. a 6-partition RF 3 topic created with samsa-admin shows 6 partitions with the leaders,
#      replicas and ISRs that `topics describe` reports
#   c. a Metadata request for an unknown topic auto-creates it (auto.create.topics.enable,
#      num.partitions 2): a leader for both partitions appears within a bounded wait
#   d. a deleted topic leaves kcat's topic list
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"

NP=6
kc_start --brokers 3 --controllers 1 --override broker:num.partitions=2
kc_topic m $NP 3

for id in 1 2 3; do
    addr=$(kc_addr $id)
    out=$(timeout 15 "$KCAT" -b "$addr" -m 5 -L 2>&1)
    n=$(sed -n 's/^ *\([0-9]*\) brokers:.*/\1/p' <<<"$out")
    all=1
    for b in 1 2 3; do
        grep -q "^ *broker $b at $(kc_addr $b)" <<<"$out" || all=0
    done
    check "broker $id lists 3 brokers at their advertised addresses (saw ${n:-none})" \
        [ "${n:-0}" = 3 -a "$all" = 1 ]
    check "broker $id names itself the controller" \
        grep -q "^ *broker $id at $addr (controller)" <<<"$out"
done

out=$(kc_meta m)
js=$(adm --json topics describe m)
check "topic m has $NP partitions in kcat -L" grep -q "topic \"m\" with $NP partitions" <<<"$out"
same=1
for ((p = 0; p < NP; p++)); do
    line=$(grep "^ *partition $p," <<<"$out")
    want="partition $p, leader $(part_field "$js" $p leader), replicas: $(part_field "$js" $p replicas), isrs: $(part_field "$js" $p isr)"
    if [[ "$line" != *"$want"* ]]; then
        same=0
        echo "# kcat: '$line' / admin: '$want'"
    fi
done
check "leaders, replicas and ISRs match topics describe" [ "$same" = 1 ]

auto_ready() {
    kc_leaders_seen auto1 2
}
if wait_for 20 auto_ready; then
    ok "asking for an unknown topic auto-creates it with num.partitions=2"
else
    not_ok "asking for an unknown topic auto-creates it ($(kc_meta auto1 | tail -n 3 | tr '\n' ' '))"
fi
check "samsa-admin lists the auto-created topic" eval "adm topics list | grep -qx auto1"

adm topics delete m >/dev/null 2>&1
gone() {
    ! kc_meta | grep -q 'topic "m" '
}
check "a deleted topic leaves kcat -L" wait_for 20 gone
