#!/usr/bin/env bash
# 0014_delete_while_down: delete a topic while one of its replicas' brokers is down
# (3 brokers, zookeeper.session.timeout.ms 4000).
#
#   a. `topics delete` returns (exit 0) and does not hang on the dead replica; the topic and its
#      deletion marker leave ZooKeeper, and `topics list` no longer shows it
#   b. the live brokers delete their partition directories of the topic
#   c. the dead broker's directories survive while it is down; after it returns (its full
#      UpdateMetadata no longer holds the topic) they are removed too
#   d. another topic on the same brokers is untouched throughout
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"

SESSION_MS=4000
cl_start --brokers 3 --controllers 1 --override zookeeper.session.timeout.ms=$SESSION_MS

adm topics create doomed --partitions 3 --replication-factor 3 >/dev/null 2>"$T/c1.err"
adm topics create keeper --partitions 2 --replication-factor 3 >/dev/null 2>"$T/c2.err"
check "both topics have their leaders" eval "wait_for 15 leaders_ready doomed 3 && wait_for 15 leaders_ready keeper 2"

# dirs BROKER TOPIC N: all N partition directories exist on BROKER.
dirs() {
    local p
    for ((p = 0; p < $3; p++)); do
        [ -d "$CL_DIR/broker-$1/data/$2-$p" ] || return 1
    done
}
# no_dirs BROKER TOPIC: none of TOPIC's partition directories exist on BROKER.
no_dirs() {
    ! compgen -G "$CL_DIR/broker-$1/data/$2-[0-9]*" >/dev/null
}
check "every broker holds doomed-0..2 and keeper-0..1" \
    wait_for 10 eval "dirs 1 doomed 3 && dirs 2 doomed 3 && dirs 3 doomed 3 && dirs 3 keeper 2"

cl_sh kill broker-3 >/dev/null
gone3() {
    ! adm --json brokers list | grep -q '{"id": 3,'
}
check "broker 3 is gone from brokers list" wait_for $((SESSION_MS / 1000 + 6)) gone3

START=$(now_ms)
ADM_TIMEOUT=20000 adm topics delete doomed >"$T/del.out" 2>"$T/del.err"
RC=$?
check "topics delete exits 0 with broker 3 down ($(($(now_ms) - START)) ms; $(cat "$T/del.out" "$T/del.err" | head -c 200 | tr '\n' ' '))" \
    [ "$RC" -eq 0 ]
listed() {
    adm --json topics list | grep -q '"doomed"'
}
check "the topic leaves topics list" wait_for 30 eval "! listed"
check "its /brokers/topics and /admin/delete_topics nodes are gone" \
    wait_for 10 eval "! adm zk get /brokers/topics/doomed >/dev/null 2>&1 && ! adm zk get /admin/delete_topics/doomed >/dev/null 2>&1"
check "the live brokers 1 and 2 removed their doomed-* directories" \
    wait_for 15 eval "no_dirs 1 doomed && no_dirs 2 doomed"
check "the dead broker's doomed-* directories are still there" dirs 3 doomed 3

if cl_sh restart broker-3 >/dev/null 2>"$T/restart.err"; then
    ok "broker 3 returns"
else
    not_ok "broker 3 returns ($(head -c 300 "$T/restart.err"))"
fi
check "after its return broker 3 removed its doomed-* directories" wait_for 20 no_dirs 3 doomed
check "keeper is untouched: directories on all brokers" \
    eval "dirs 1 keeper 2 && dirs 2 keeper 2 && dirs 3 keeper 2"
check "keeper is untouched: still listed with its leaders" wait_for 10 leaders_ready keeper 2
