#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time (FUZZ_SECONDS each, default 20): a crash,
# a sanitizer report, a leak or a hang fails the check.
source "$(dirname "$0")/lib.sh"
it_init
secs=${FUZZ_SECONDS:-20}
found=0
for f in "$BUILD"/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    found=1
    name=$(basename "$f")
    mkdir -p "$T/$name"
    if timeout $((secs + 60)) "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 \
        -print_final_stats=1 "$T/$name" >"$T/$name.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/$name.log")
        ok "$name survives ${secs}s of fuzzing (${runs:-?} inputs)"
    else
        tail -n 30 "$T/$name.log"
        not_ok "$name survives ${secs}s of fuzzing"
    fi
done
[ "$found" = 1 ] || not_ok "fuzz targets were built under $BUILD/fuzz"
