#!/usr/bin/env bash
# Runs host unit-test binaries; prints their PASS/FAIL lines and a count.
# A binary that dies (a sanitizer report, a crash) counts as one failure.
set -u
passed=0 failed=0
for bin in "$@"; do
    out=$("$bin" 2>&1); rc=$?
    p=$(grep -c '^PASS ' <<<"$out"); f=$(grep -c '^FAIL ' <<<"$out")
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
        f=1
        out+=$'\n'"FAIL $(basename "$bin")/exit: exited with status $rc"
    fi
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" != 0 ]; then echo "$out"; else grep '^PASS ' <<<"$out"; fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" = 0 ]
