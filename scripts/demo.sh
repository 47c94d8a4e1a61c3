#!/usr/bin/env bash
# demo.sh: what `make run` runs after building. It starts a local cluster in a folder of its
# own -- ZooKeeper, 2 controllers, 3 brokers, all on 127.0.0.1 -- creates a demo topic
# (3 partitions, replication factor 3), shows `topics describe`, `brokers list` and
# `controller`, produces 1,000 keyed messages into the topic with kcat (acks=all) and consumes
# them back (the first and last ten on screen, then a count per partition), and says how to
# stop it. The cluster keeps running after the script ends.
#
#   RUN_DIR        the folder (default ROOT/run; a cluster already running there is stopped and
#                  the folder is started afresh -- only a folder holding a cluster.conf of
#                  scripts/cluster.sh is ever removed)
#   RUN_BASE_PORT  base port of scripts/cluster.sh's layout (default 19000: ZooKeeper 19000,
#                  controllers 19010-19011, brokers 19020-19025)
#   BIN            where the programs are (default ROOT/bin)
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-bin}
case "$BIN" in /*) ;; *) BIN=$ROOT/$BIN ;; esac
export BIN
DIR=${RUN_DIR:-$ROOT/run}
BASE=${RUN_BASE_PORT:-19000}
CLUSTER=$ROOT/scripts/cluster.sh
TOPIC=demo

die() {
    echo "demo.sh: $*" >&2
    exit 1
}

show() {
    echo
    echo "\$ samsa-admin --zookeeper $ZK $*"
    "$BIN/samsa-admin" --zookeeper "$ZK" "$@"
}

for p in samsa-broker samsa-controller samsa-admin; do
    [ -x "$BIN/$p" ] || die "$BIN/$p is missing: run make first"
done

if [ -e "$DIR" ]; then
    [ -r "$DIR/cluster.conf" ] || die "$DIR exists and is not a cluster folder; set RUN_DIR"
    echo "Stopping the previous demo cluster in $DIR ..."
    "$CLUSTER" stop --dir "$DIR" || die "could not stop the cluster in $DIR"
    rm -rf "$DIR" || die "cannot remove $DIR"
fi

echo "Starting ZooKeeper, 2 controllers and 3 brokers in $DIR (base port $BASE) ..."
out=$("$CLUSTER" start --dir "$DIR" --brokers 3 --controllers 2 --base-port "$BASE") ||
    die "the cluster did not start (another base port: RUN_BASE_PORT=19100 make run)"
ZK=$(sed -n 's/^zookeeper=//p' <<<"$out")
BOOTSTRAP=$(sed -n 's/^bootstrap=//p' <<<"$out")

"$BIN/samsa-admin" --zookeeper "$ZK" topics create "$TOPIC" --partitions 3 \
    --replication-factor 3 --if-not-exists || die "could not create topic $TOPIC"
# The controller answers once the topic is in ZooKeeper; leaders follow a moment later.
for ((i = 0; i < 100; i++)); do
    "$BIN/samsa-admin" --zookeeper "$ZK" --json topics describe "$TOPIC" 2>/dev/null |
        grep -q '"leader": -1' || break
    sleep 0.1
done

show topics describe "$TOPIC"
show brokers list
show controller

# Kafka clients: 1,000 messages in with kcat, and back out.
echo
echo "\$ seq 1 1000 | sed 's/.*/key-&:message &/' | kcat -P -b $BOOTSTRAP -t $TOPIC -K : -X acks=all"
if seq 1 1000 | sed 's/.*/key-&:message &/' |
    timeout 60 kcat -P -b "$BOOTSTRAP" -t "$TOPIC" -K : -X acks=all -X message.timeout.ms=30000; then
    echo "produced 1000 messages"
    echo
    echo "\$ kcat -C -b $BOOTSTRAP -t $TOPIC -o beginning -e -f 'partition %p offset %o key %k: %s\\n'"
    consumed=$(timeout 60 kcat -C -b "$BOOTSTRAP" -t "$TOPIC" -o beginning -e -q \
        -f 'partition %p offset %o key %k: %s\n')
    head -n 10 <<<"$consumed"
    echo "..."
    tail -n 10 <<<"$consumed"
    echo "consumed $(grep -c . <<<"$consumed") messages:" \
        "$(awk '{ n[$2]++ } END { for (p in n) printf "partition %s: %d  ", p, n[p] }' <<<"$consumed")"
else
    echo "demo.sh: kcat could not produce to $TOPIC (see the broker logs in $DIR/broker-*/)" >&2
fi

# Paths inside the repository are shown relative to it (make run runs from there).
SHOW_BIN=${BIN#"$ROOT"/}
SHOW_DIR=${DIR#"$ROOT"/}

cat <<EOF

The cluster keeps running in $SHOW_DIR (configs, logs and data of each process in DIR/NAME/).
  bootstrap servers:  $BOOTSTRAP
  zookeeper:          $ZK

Try:
  kcat -b $BOOTSTRAP -L
  kcat -b $BOOTSTRAP -t $TOPIC -C -o beginning -e
  echo hello | kcat -b $BOOTSTRAP -t $TOPIC -P
  $SHOW_BIN/samsa-admin --zookeeper $ZK brokers watch
  scripts/cluster.sh status --dir $SHOW_DIR
  scripts/cluster.sh kill broker-2 --dir $SHOW_DIR; $SHOW_BIN/samsa-admin --zookeeper $ZK topics describe $TOPIC

Stop it with:
  scripts/cluster.sh stop --dir $SHOW_DIR
EOF
