#!/usr/bin/env bash
# tools/fuzz.sh - runs libFuzzer targets one after the other (make fuzz).
#
#   tools/fuzz.sh SECONDS TARGET...
#
# Each target build/fuzz/fuzz_TARGET runs SECONDS seconds, one process (the
# machine's cores are shared), on a fresh copy of tests/fuzz/corpus/TARGET:
# the committed seeds and regressions are replayed first, and what the run
# adds stays in build/fuzz/work/TARGET. A crashing input is kept in
# build/fuzz/crashes/TARGET/. One line per target: executions, corpus size,
# and what went wrong. Exits 1 if any target crashed.
set -eu

secs=$1
shift
build=build/fuzz
failed=0
for t in "$@"; do
    work=$build/work/$t
    rm -rf "$work"
    mkdir -p "$work/corpus" "$build/crashes/$t"
    cp tests/fuzz/corpus/"$t"/* "$work/corpus/" 2>/dev/null || true
    log=$build/$t.log
    status=0
    "$build/fuzz_$t" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build/crashes/$t/" "$work/corpus" > "$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    seeds=$(ls tests/fuzz/corpus/"$t" 2>/dev/null | wc -l)
    grown=$(ls "$work/corpus" | wc -l)
    if [ "$status" -eq 0 ]; then
        echo "fuzz $t: ${execs:-?} executions in $secs s, corpus $seeds -> $grown inputs, no crash"
    else
        failed=1
        why=$(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|runtime error|FUZZ_CHECK|panic at|deadly signal|-timeout' "$log" || tail -1 "$log")
        input=$(grep -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
        echo "fuzz $t: CRASH after ${execs:-?} executions: $why"
        echo "fuzz $t: input ${input:-?}; log $log"
    fi
done
exit $failed
