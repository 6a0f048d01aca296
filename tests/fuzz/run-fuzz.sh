#!/usr/bin/env bash
# Fuzzes the guest image validator: tests/fuzz/run-fuzz.sh SECONDS [TARGET]
#
# TARGET is elf_image (the default: guest-loader/elf_*.c, out in build/fuzz)
# or xen_elf (Xen PV image detection, hv/xen/xen_elf.c, out in
# build/fuzz-xen_elf); the same steps for both, from tests/unit/TARGET.mk.
#
# Builds tests/fuzz/fuzz_elf_image.c with clang and libFuzzer (plus ASan and
# UBSan) into build/fuzz/, seeds it with every ELF file the unit tests build
# (the test_elf_image* binaries write them when HV_ELF_CORPUS_DIR is set) and runs it for
# SECONDS. New interesting inputs accumulate in build/fuzz/corpus across runs.
# Exits non-zero if the fuzzer finds a crash, leak, timeout or broken
# invariant; the input is saved as build/fuzz/crash-* (or leak-*, timeout-*)
# and can be replayed with: build/fuzz/fuzz_elf_image build/fuzz/crash-...
#
# Needs the Debian 12 packages clang and libclang-rt-14-dev (libFuzzer and
# the sanitizer runtimes).
set -euo pipefail

seconds=${1:-}
target=${2:-elf_image}
if [[ ! $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ] || [[ ! $target =~ ^(elf_image|xen_elf)$ ]]; then
    echo "usage: $0 SECONDS [elf_image|xen_elf]" >&2
    exit 2
fi
cd "$(dirname "$0")/../.."

out=build/fuzz
[ "$target" = elf_image ] || out=build/fuzz-$target
CLANG=${CLANG:-clang}
command -v "$CLANG" >/dev/null || { echo "run-fuzz: $CLANG not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

# The module's sources are the unit test's, minus the test itself.
read -r -a unit_srcs <<<"$(sed -n "s/^${target}_SRCS := //p" "tests/unit/$target.mk")"
srcs=()
for s in "${unit_srcs[@]}"; do
    [[ $s == tests/unit/test_* ]] || srcs+=("$s")
done

mkdir -p "$out/corpus" "$out/seeds"
rm -f "$out"/seeds/*

echo "run-fuzz: building $out/fuzz_$target"
"$CLANG" -std=gnu11 -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I. \
    "tests/fuzz/fuzz_$target.c" "${srcs[@]}" -o "$out/fuzz_$target"

# Every unit test binary of the module writes seeds: tests/unit/TARGET.mk
# and TARGET_*.mk (a suite split in several files, one binary each).
echo "run-fuzz: writing the seed corpus to $out/seeds"
for mk in "tests/unit/$target.mk" tests/unit/"$target"_*.mk; do
    [ -e "$mk" ] || continue
    suite=$(basename "$mk" .mk)
    # The unit test as make builds it (make test has: not built twice).
    make --no-print-directory -s "build/unit/$suite"
    HV_ELF_CORPUS_DIR="$out/seeds" HV_XEN_ELF_CORPUS_DIR="$out/seeds" "build/unit/$suite" \
        >"$out/seed-unit-$suite.log" ||
        { cat "$out/seed-unit-$suite.log"; echo "run-fuzz: the unit test $suite failed" >&2; exit 1; }
done
echo "run-fuzz: $(ls "$out/seeds" | wc -l) seeds; fuzzing for $seconds s"

set +e
"$out/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/" \
    "$out/corpus" "$out/seeds" 2>"$out/fuzz.log"
rc=$?
set -e
grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::new_units_added|Done )' \
    "$out/fuzz.log" || true
if [ "$rc" != 0 ]; then
    tail -n 60 "$out/fuzz.log"
    echo "run-fuzz: FAILED (libFuzzer exit status $rc); full log in $out/fuzz.log" >&2
    exit 1
fi
echo "run-fuzz: no crash in $seconds s; corpus: $(ls "$out/corpus" | wc -l) inputs, log in $out/fuzz.log"
