#!/usr/bin/env bash
# usage: scripts/booted-vars.sh ESP OUT [CODE]
#
# Writes OUT: OVMF's variable store as it stands after one boot of ESP on
# hv-qemu's default machine (q35). The first boot from the blank template
# makes the boot options, the console variables and the memory-type table
# and writes them to flash; under TCG that is about 0.6 s of every boot, and
# make test boots ~300 times. The system tests boot from a copy of OUT, as a
# real PC boots with the variables of its last boot (tests/system/harness.py);
# hv-qemu's own default stays the blank template, and the Secure Boot tests
# keep their enrolled store.
#
# The boot is stopped at hv's first line: by then the firmware has written
# what it writes (hv itself writes no variable). OUT is written only when
# the store changed and names a boot order.
set -euo pipefail
[ $# = 2 ] || [ $# = 3 ] || { echo "usage: $0 ESP OUT [CODE]" >&2; exit 2; }
esp=$1 out=$2 firmware=plain${3:+,code=$3}
template=/usr/share/OVMF/OVMF_VARS_4M.fd
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$(dirname "$0")/hv-qemu" --esp "$esp" --workdir "$work" --serial "file:$work/serial.log" \
    --firmware "$firmware" --timeout 120 > "$work/runner.out" 2>&1 &
runner=$!
for _ in $(seq 1200); do
    grep -qa '^hv: ' "$work/serial.log" 2>/dev/null && break
    kill -0 "$runner" 2>/dev/null || break
    sleep 0.1
done
if ! grep -qa '^hv: ' "$work/serial.log" 2>/dev/null; then
    echo "booted-vars: hv did not start from $esp; the runner said:" >&2
    sed 's/^/booted-vars:   /' "$work/runner.out" "$work/serial.log" >&2 2>/dev/null || true
    kill "$runner" 2>/dev/null || true
    exit 1
fi
# SIGTERM: QEMU stops cleanly and flushes the flash file.
kill "$(cat "$work/qemu.pid")"
wait "$runner" || true

if cmp -s "$work/vars.fd" "$template"; then
    echo "booted-vars: the firmware wrote no variable: $out not made" >&2
    exit 1
fi
# The variable names are UCS-2 in the store.
if ! LC_ALL=C grep -qaP 'B\x00o\x00o\x00t\x00O\x00r\x00d\x00e\x00r\x00' "$work/vars.fd"; then
    echo "booted-vars: the store after the boot names no BootOrder: $out not made" >&2
    exit 1
fi
cp "$work/vars.fd" "$out.tmp"
mv "$out.tmp" "$out"
