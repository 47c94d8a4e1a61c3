#!/usr/bin/env bash
# Builds bench_storage and runs it in a fresh temporary folder on the filesystem of $TMPDIR
# (default /tmp), which it removes afterwards. Extra arguments go to the benchmark, e.g.
#   bench/storage.sh --bytes 256M --rounds 5
#   bench/storage.sh --read-bytes 8M          # larger fetches (default 1M, as Kafka's)
#   TMPDIR=/data bench/storage.sh --sendfile
#   BUILD=build-perf bench/storage.sh         # build and run in another build folder
# Not part of `make test`: run it by hand and record the figures in docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
make --no-print-directory BUILD="$BUILD" "$BUILD/bench/bench_storage"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/samsa-bench-storage.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "filesystem: $(df -hT "$tmp" | awk 'NR == 2 { print $1, $2, $3 " total" }')"
"$BUILD/bench/bench_storage" --dir "$tmp" "$@"
