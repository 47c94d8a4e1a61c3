#!/usr/bin/env bash
# 0024_kafkajs: kafkajs 2.2.4 (tests/integration/kafkajs/, pinned by package.json and its
# package-lock.json) against a 3-broker cluster: admin create/list/describe/delete topics,
# producer with acks -1 (plain and gzip), fetchTopicOffsets and fetchTopicOffsetsByTimestamp
# showing what it wrote. kafkajs_test.js prints the ok / not ok lines.
#
# kafkajs is installed with `npm install --no-audit --no-fund` into
# tests/integration/kafkajs/node_modules (ignored by git) the first time; that needs the npm
# registry once. Without node or npm, or when the install fails, the test reports not ok.
source "$(dirname "$0")/lib.sh"
it_init
source "$(dirname "$0")/adm_cluster.sh"
source "$(dirname "$0")/kafka_lib.sh"

JS=$ROOT/tests/integration/kafkajs
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    not_ok "node and npm are installed (scripts/install-deps.sh)"
    exit 1
fi
if [ ! -f "$JS/node_modules/kafkajs/package.json" ] ||
    ! grep -q '"version": "2.2.4"' "$JS/node_modules/kafkajs/package.json"; then
    if ! (cd "$JS" && timeout 300 npm install --no-audit --no-fund >"$T/npm.log" 2>&1); then
        not_ok "npm installs kafkajs 2.2.4 ($(tail -n 3 "$T/npm.log" | tr '\n' ' '))"
        exit 1
    fi
fi
ok "kafkajs $(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$JS/node_modules/kafkajs/package.json" | head -n 1) is installed"

kc_start --brokers 3 --controllers 1
KAFKAJS_NO_PARTITIONER_WARNING=1 timeout 120 node "$JS/kafkajs_test.js" "$BOOTSTRAP" 2>"$T/kafkajs.log" | tee "$T/kafkajs.out"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$T/kafkajs.out"; then
    not_ok "kafkajs_test.js runs to the end (exit $rc; $(tail -n 3 "$T/kafkajs.log" | tr '\n' ' '))"
elif [ "$rc" -ne 0 ]; then
    # shellcheck disable=SC2034 # read by lib.sh: keeps $T for a look
    IT_FAILED=1
    tail -n 5 "$T/kafkajs.log" | sed 's/^/# /'
fi
