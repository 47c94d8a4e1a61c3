# shellcheck shell=bash
# Helpers for the data-plane integration tests (0020..0029): real Kafka clients (kcat,
# librdkafka, kafkajs) against a cluster started with adm_cluster.sh. Source it after lib.sh,
# it_init and adm_cluster.sh.
#
#   kc_start ARGS...        cl_start ARGS, then wait (bounded) until the first broker answers
#                           `kcat -L`; sets KB (the first bootstrap address) and BOOTSTRAP
#   kc_topic NAME P RF      samsa-admin topics create NAME, then wait until kcat -L shows a
#                           leader for each of the P partitions (metadata reached the brokers)
#   kc_meta [TOPIC]         kcat -L output (all topics, or one)
#   kc_leader TOPIC P       the leader id of partition P as kcat -L reports it
#   kc_addr ID              host:port of broker ID (cluster.sh's port layout)
#
# Every wait is bounded; the cluster is stopped by adm_cluster.sh's EXIT trap.

KCAT=${KCAT:-kcat}
KB=

kc_meta() {
    if [ -n "${1:-}" ]; then
        timeout 15 "$KCAT" -b "$BOOTSTRAP" -m 5 -L -t "$1" 2>&1
    else
        timeout 15 "$KCAT" -b "$BOOTSTRAP" -m 5 -L 2>&1
    fi
}

kc_up() {
    timeout 10 "$KCAT" -b "$KB" -m 3 -L >/dev/null 2>&1
}

kc_start() {
    cl_start "$@"
    KB=${BOOTSTRAP%%,*}
    if ! wait_for 20 kc_up; then
        not_ok "the brokers answer kcat -L on $KB ($(timeout 10 "$KCAT" -b "$KB" -m 3 -L 2>&1 | tail -n 2 | tr '\n' ' '))"
        exit 1
    fi
}

kc_addr() {
    echo "127.0.0.1:$((CL_BASE + 20 + 2 * ($1 - 1)))"
}

kc_leader() {
    kc_meta "$1" | sed -n "s/^ *partition $2, leader \(-\{0,1\}[0-9]*\),.*/\1/p" | head -n 1
}

# kc_leaders_seen TOPIC P: kcat's metadata shows a leader for each of the P partitions.
kc_leaders_seen() {
    local out n
    out=$(kc_meta "$1") || return 1
    n=$(grep -c "^ *partition [0-9]*, leader [0-9]" <<<"$out")
    [ "$n" -eq "$2" ]
}

kc_topic() {
    adm topics create "$1" --partitions "$2" --replication-factor "$3" >/dev/null 2>"$T/create-$1.err" || {
        not_ok "topic $1 is created ($(head -c 300 "$T/create-$1.err"))"
        exit 1
    }
    if ! wait_for 20 kc_leaders_seen "$1" "$2"; then
        not_ok "kcat sees a leader for each of the $2 partitions of $1 ($(kc_meta "$1" | tail -n 4 | tr '\n' ' '))"
        exit 1
    fi
}
