#!/usr/bin/env bash
# make test: host unit tests, then the QEMU system tests; one closing line.
set -u
build=$1; shift
unit_out=$(tests/run-unit.sh "$@" 2>&1)
echo "$unit_out"
read -r up uf < <(tail -n 1 <<<"$unit_out" | sed -E 's/unit: ([0-9]+) passed, ([0-9]+) failed/\1 \2/')

# Spectre v1: every bounds-checked index in the guest-facing code is
# clamped (tests/tools/check_nospec.py), and the check still finds the
# gadgets of its fixture.
np=0; nf=0
for t in "clamps_in_place:" "check_finds_fixture_gadgets:--self-test"; do
    if out=$(python3 tests/tools/check_nospec.py ${t#*:} 2>&1); then
        echo "PASS nospec/${t%%:*}"; np=$((np + 1))
    else
        echo "$out"; echo "FAIL nospec/${t%%:*}"; nf=$((nf + 1))
    fi
done

# hv.efi's relocation form (tools/pe_relocs.py: relocatable, no .reloc
# section, an empty directory): the check refuses the forms it must.
pe_out=$(python3 tools/pe_relocs.py --self-test 2>&1); pe_rc=$?
echo "$pe_out"
np=$((np + $(grep -c '^PASS pe_relocs/' <<<"$pe_out")))
nf=$((nf + $(grep -c '^FAIL pe_relocs/' <<<"$pe_out")))
if [ "$pe_rc" != 0 ] && ! grep -q '^FAIL pe_relocs/' <<<"$pe_out"; then
    echo "FAIL pe_relocs/--self-test stopped with status $pe_rc"; nf=$((nf + 1))
fi

# The image checker of the SDK (guest/check_image.py) judges the
# restart-policy note as hv does. One PASS/FAIL line per case.
ci_out=$(python3 tests/tools/test_check_image.py "$build" 2>&1); ci_rc=$?
echo "$ci_out"
np=$((np + $(grep -c '^PASS check_image/' <<<"$ci_out")))
nf=$((nf + $(grep -c '^FAIL check_image/' <<<"$ci_out")))
if [ "$ci_rc" != 0 ] && ! grep -q '^FAIL check_image/' <<<"$ci_out"; then
    echo "FAIL check_image/test_check_image.py stopped with status $ci_rc"; nf=$((nf + 1))
fi

# make disk-image's layout (scripts/mkdisk.sh), and make usb's safety checks
# (scripts/write-usb.sh) on a fake /sys and a file standing in for the
# stick: every refusal, the dry run, the write. Each prints PASS/FAIL lines.
for t in tests/tools/test-mkdisk.sh tests/tools/test-write-usb.sh; do
    usb_out=$($t 2>&1); usb_rc=$?
    echo "$usb_out"
    np=$((np + $(grep -c '^PASS usb/' <<<"$usb_out")))
    nf=$((nf + $(grep -c '^FAIL usb/' <<<"$usb_out")))
    if [ "$usb_rc" != 0 ] && ! grep -q '^FAIL usb/' <<<"$usb_out"; then
        echo "FAIL usb/$(basename "$t") stopped with status $usb_rc"; nf=$((nf + 1))
    fi
done

# The ELF validator's fuzz target and Xen PV image detection
# (hv/xen/xen_elf.c), briefly (tests/fuzz/run-fuzz.sh N for longer): side
# by side, a core each.
secs=${HV_FUZZ_SECONDS:-10}
tests/fuzz/run-fuzz.sh "$secs" > "$build/fuzz.log" 2>&1 & elf_pid=$!
tests/fuzz/run-fuzz.sh "$secs" xen_elf > "$build/fuzz-xen_elf.log" 2>&1 & xen_pid=$!
fp=0; ff=0
if wait $elf_pid; then
    echo "PASS fuzz/elf_image ($secs s)"; fp=$((fp + 1))
else
    echo "FAIL fuzz/elf_image: see $build/fuzz.log"; tail -n 20 "$build/fuzz.log"; ff=$((ff + 1))
fi
if wait $xen_pid; then
    echo "PASS fuzz/xen_elf ($secs s)"; fp=$((fp + 1))
else
    echo "FAIL fuzz/xen_elf: see $build/fuzz-xen_elf.log"; tail -n 20 "$build/fuzz-xen_elf.log"; ff=$((ff + 1))
fi

# Shown as they come and kept in a file. Not `tee /dev/stderr`: with the
# output redirected to a file (make test > log 2>&1) that reopens the log
# and truncates it, losing every line above. HV_SYSTEM_ARGS: extra run.py
# arguments (e.g. -k NAME). --smp4: a subset again at SMP 4 (run.py's
# SMP4_SUITES; make test-smp runs every test at SMP 4).
sys_log=$build/system-tests.log
python3 tests/system/run.py --build "$build" --mitigated --smp4 ${HV_SYSTEM_ARGS:-} 2>&1 | tee "$sys_log"
sys_out=$(<"$sys_log")
read -r sp sf < <(grep -E '^system: [0-9]+ passed, [0-9]+ failed' <<<"$sys_out" | tail -n 1 |
    sed -E 's/system: ([0-9]+) passed, ([0-9]+) failed/\1 \2/')
if [ -z "${sp:-}" ]; then sp=0; sf=1; echo "system tests did not report a result"; fi

passed=$((up + np + fp + sp)); failed=$((uf + nf + ff + sf))
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
