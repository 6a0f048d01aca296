#!/usr/bin/env bash
# Runs host unit-test binaries, as many at once as there are cores
# (HV_UNIT_JOBS), and prints their PASS/FAIL lines in the order given and
# a count. A binary that dies (a sanitizer report, a crash) counts as one
# failure.
set -u
jobs=${HV_UNIT_JOBS:-$(nproc)}
out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT
i=0
for bin in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    ( "$bin" >"$out_dir/$i.out" 2>&1; echo $? >"$out_dir/$i.rc" ) &
    i=$((i + 1))
done
wait
passed=0 failed=0 i=0
for bin in "$@"; do
    out=$(<"$out_dir/$i.out"); rc=$(<"$out_dir/$i.rc"); i=$((i + 1))
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
