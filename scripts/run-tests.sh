#!/usr/bin/env bash
# Runs every Samsa test and ends with one line "N passed, N failed".
#
#   unit:        each criterion suite under $BUILD/tests/unit (ASan + UBSan). A suite whose
#                output holds "ERROR: LeakSanitizer" fails even when criterion says it passed.
#   integration: each tests/integration/NNNN_*.sh, with a time limit. A script reports its
#                checks as "ok - what" / "not ok - what" lines; a script that exits non-zero
#                without a "not ok" line counts as one failure.
#   style:       make fmt-check.
#
# ONLY=pattern runs just the tests whose name contains pattern.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${BIN:-bin}
ONLY=${ONLY:-}
LOGDIR=$BUILD/test-logs
mkdir -p "$LOGDIR"
export BUILD BIN
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
failures=()

note_fail() {
    failed=$((failed + 1))
    failures+=("$1")
}

selected() {
    [ -z "$ONLY" ] || [[ "$1" == *"$ONLY"* ]]
}

# ---- unit suites ------------------------------------------------------------------------
for t in "$BUILD"/tests/unit/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    selected "$name" || continue
    log=$LOGDIR/$name.log
    timeout 600 "$t" --jobs 2 >"$log" 2>&1
    rc=$?
    synth=$(grep -a 'Synthesis:' "$log" | tail -n 1)
    tested=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$synth")
    passing=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$synth")
    tested=${tested:-0}
    passing=${passing:-0}
    bad=$((tested - passing))
    if grep -aq 'ERROR: LeakSanitizer' "$log"; then
        leaks=$(grep -ac 'ERROR: LeakSanitizer' "$log")
        echo "FAIL $name: LeakSanitizer reported $leaks leak(s) (see $log)"
        bad=$((bad + leaks))
        passing=$((passing - leaks))
        [ "$passing" -lt 0 ] && passing=0
    fi
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        bad=1
    fi
    if [ -z "$synth" ] && [ "$bad" -eq 0 ]; then
        bad=1
    fi
    passed=$((passed + passing))
    if [ "$bad" -gt 0 ]; then
        failed=$((failed + bad))
        failures+=("$name")
        echo "FAIL $name ($bad failing, exit $rc):"
        grep -a -E '\[(FAIL|----)\]|ERROR: |runtime error|Assertion|CRASH' "$log" | head -n 40
    else
        echo "ok   $name ($passing tests)"
    fi
done

# ---- integration scripts ----------------------------------------------------------------
for s in tests/integration/[0-9][0-9][0-9][0-9]_*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    selected "$name" || continue
    log=$LOGDIR/$name.log
    start=$(date +%s)
    timeout -k 10 900 bash "$s" >"$log" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    oks=$(grep -ac '^ok ' "$log")
    noks=$(grep -ac '^not ok ' "$log")
    if [ "$rc" -ne 0 ] && [ "$noks" -eq 0 ]; then
        noks=1
    fi
    passed=$((passed + oks))
    if [ "$noks" -gt 0 ]; then
        failed=$((failed + noks))
        failures+=("$name")
        echo "FAIL $name ($oks ok, $noks not ok, exit $rc, ${secs}s); last lines of $log:"
        tail -n 40 "$log"
    else
        echo "ok   $name ($oks checks, ${secs}s)"
    fi
done

# ---- style --------------------------------------------------------------------------------
if selected fmt-check; then
    if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory fmt-check >"$LOGDIR/fmt-check.log" 2>&1; then
        passed=$((passed + 1))
        echo "ok   fmt-check"
    else
        note_fail fmt-check
        echo "FAIL fmt-check (run 'make fmt'):"
        head -n 20 "$LOGDIR/fmt-check.log"
    fi
fi

if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
